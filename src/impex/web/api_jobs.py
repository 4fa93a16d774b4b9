"""The REST API for jobs: create, list, read, act on them, their journal and their rejects."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from impex.definitions_io import parse_definition
from impex.domain.definitions import ImportJob, QuerySource
from impex.domain.journal import Level
from impex.domain.roles import Role
from impex.domain.status import ACTIVE, Action, Seen, Status
from impex.engine.actions import operate
from impex.engine.preflight import Refused, check_connection, check_sources, connection_of
from impex.engine.reject_export import export_rejects
from impex.store import queries
from impex.store.records import RunRecord
from impex.store.users import User
from impex.web.auth import Operator, Viewer
from impex.web.context import WebContext, translator, web_context
from impex.web.errors import API_ERRORS, BAD_JSON, NO_JOB, ApiError, errors
from impex.web.i18n import Translator
from impex.web.params import Text
from impex.web.paths import confine_definition
from impex.web.serialize import job_detail, job_summary, journal_dict, reject_dict
from impex.web.uploads import stored_path

router = APIRouter(prefix="/api/jobs", tags=["jobs"], responses=API_ERRORS)
Ctx = Annotated[WebContext, Depends(web_context)]
Tr = Annotated[Translator, Depends(translator)]
STREAM_POLL_SECONDS = 0.5
STREAM_MAX_SECONDS = 60.0  # the browser reconnects (Last-Event-ID) after each stream ends
BIGGEST = 2**63 - 1  # the databases' largest integer: a bigger offset or id is refused, not sent to SQL


class CreateJob(BaseModel):
    definition: dict[str, Any] = Field(description="An import or export definition, as in a job file.")
    start: bool = Field(False, description="Queue it at once; otherwise it stays in 'editing'.")
    upload: str | None = Field(
        None, description="The name POST /api/uploads gave a file: an import's source (replaces 'source')."
    )


@contextmanager
def _refused() -> Iterator[None]:
    """What the checks before saving refuse, as a 422."""
    try:
        yield
    except Refused as error:
        raise ApiError(422, error.code, error.message, error.details) from None


def create_job(
    ctx: WebContext, user: User, data: dict[str, Any], *, start: bool, upload: str | None = None
) -> int:
    """Validate, confine its paths, store it as the user's, and queue it if asked. With ``upload``,
    the import reads that uploaded file."""
    if upload is not None:
        if data.get("kind", "import") != "import":
            raise ApiError(422, "not_an_import", "only an import reads an uploaded file", {"upload": upload})
        data = {**data, "source": str(stored_path(ctx.settings.file_roots, upload))}
    definition = parse_definition(data)
    with _refused():
        check_connection(ctx.settings, connection_of(definition))
    if not isinstance(definition, ImportJob) and not user.may(Role.ADMIN):
        # a query, and a row filter (an SQL expression, subqueries and functions included), run SQL
        # of the user's own on the database: the admin's to allow
        if isinstance(definition.source, QuerySource):
            raise ApiError(
                403, "forbidden", "exporting an SQL query needs the admin role", {"needed": "admin"}
            )
        if definition.source.filter:
            raise ApiError(
                403,
                "forbidden",
                "a row filter is an SQL expression: it needs the admin role",
                {"needed": "admin"},
            )
    definition = confine_definition(definition, ctx.settings.file_roots)
    with _refused():  # a source its runs could only fail on (no such file, no such table)
        check_sources(ctx.settings, definition)
    job_id = ctx.store.create_job(definition.model_dump(mode="json"), owner=user.name, actor=user.name)
    if start:
        ctx.store.transition(job_id, Action.START, actor=user.name)
    return job_id


@router.post(
    "",
    status_code=201,
    summary="Create a job from a definition (and an uploaded file)",
    responses=BAD_JSON
    | errors(
        {
            404: "No uploaded file of that name (upload_not_found).",
            422: "A definition refused (invalid_definition, path_not_allowed, unknown_connection, "
            "source_not_found, source_not_a_file, source_unreadable…): nothing is saved.",
        }
    ),
)
def create(body: CreateJob, user: Operator, ctx: Ctx, t: Tr) -> dict[str, Any]:
    job_id = create_job(ctx, user, body.definition, start=body.start, upload=body.upload)
    return job_detail(ctx.store.job(job_id), ctx.store.runs_of(job_id), t)


@router.get("", summary="List jobs (filter, sort, paginate)")
def list_jobs(
    _user: Viewer,
    ctx: Ctx,
    t: Tr,
    status: Annotated[list[Status] | None, Query(description="Repeat for several.")] = None,
    kind: Annotated[str | None, Query(pattern="^(import|export)$")] = None,
    owner: Text | None = None,
    q: Annotated[Text | None, Query(max_length=200, description="Text in the job's name.")] = None,
    sort: queries.JobSort = queries.JobSort.ID,
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = "desc",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=BIGGEST)] = 0,
) -> dict[str, Any]:
    f = queries.JobFilter(tuple(status or ()), kind, owner, q, sort, order == "desc", limit, offset)
    page = queries.list_jobs(ctx.store.engine, f)
    items = [job_summary(job, run, t) for job, run in page.items]
    return {"items": items, "total": page.total, "limit": limit, "offset": offset}


@router.get("/{job_id}", summary="One job: definition, status, progress, counters, runs", responses=NO_JOB)
def read(job_id: int, _user: Viewer, ctx: Ctx, t: Tr) -> dict[str, Any]:
    return job_detail(ctx.store.job(job_id), ctx.store.runs_of(job_id), t)


def act(ctx: WebContext, job_id: int, action: Action, user: User, seen: Seen | None = None) -> None:
    ctx.store.job(job_id)  # 404 before 409
    operate(ctx.store, ctx.settings, job_id, action, actor=user.name, seen=seen)


def _act(ctx: WebContext, job_id: int, action: Action, user: User, t: Translator) -> dict[str, Any]:
    act(ctx, job_id, action, user)
    return job_detail(ctx.store.job(job_id), ctx.store.runs_of(job_id), t)


REFUSED = NO_JOB | errors({409: "The job's status does not allow this action (illegal_transition)."})


@router.post("/{job_id}/start", summary="Start, resume, or run again", responses=REFUSED)
def start(job_id: int, user: Operator, ctx: Ctx, t: Tr) -> dict[str, Any]:
    return _act(ctx, job_id, Action.START, user, t)


@router.post("/{job_id}/pause", summary="Pause at the next chunk boundary", responses=REFUSED)
def pause(job_id: int, user: Operator, ctx: Ctx, t: Tr) -> dict[str, Any]:
    return _act(ctx, job_id, Action.PAUSE, user, t)


@router.post("/{job_id}/cancel", summary="Cancel at the next chunk boundary", responses=REFUSED)
def cancel(job_id: int, user: Operator, ctx: Ctx, t: Tr) -> dict[str, Any]:
    return _act(ctx, job_id, Action.CANCEL, user, t)


@router.get("/{job_id}/journal", summary="A job's journal, paged", responses=NO_JOB)
def journal(
    job_id: int,
    _user: Viewer,
    ctx: Ctx,
    t: Tr,
    after: Annotated[int, Query(ge=0, le=BIGGEST, description="Lines after this id.")] = 0,
    level: Level | None = None,
    run: Annotated[int | None, Query(ge=1, description="Only this run (its number).")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    tail: Annotated[bool, Query(description="The last lines rather than the first.")] = False,
) -> dict[str, Any]:
    ctx.store.job(job_id)
    run_id = _run(ctx, job_id, run).id if run is not None else None
    lines = queries.journal_page(
        ctx.store.engine, job_id, after_id=after, min_level=level, run_id=run_id, limit=limit, tail=tail
    )
    items = [journal_dict(line, t) for line in lines]
    return {"items": items, "next_after": items[-1]["id"] if items else after}


@router.get(
    "/{job_id}/journal/stream",
    summary="The journal as Server-Sent Events ('line' events, and 'job' when the job changes)",
    response_class=StreamingResponse,
    responses=NO_JOB,
)
async def journal_stream(
    job_id: int,
    request: Request,
    _user: Viewer,
    ctx: Ctx,
    t: Tr,
    after: Annotated[int, Query(ge=0, le=BIGGEST)] = 0,
    level: Level | None = None,
) -> StreamingResponse:
    await run_in_threadpool(ctx.store.job, job_id)
    last_event = request.headers.get("last-event-id", "")
    start_after = int(last_event) if last_event.isdigit() else after
    events = _journal_events(ctx, t, request, job_id, start_after, level)
    return StreamingResponse(events, media_type="text/event-stream", headers={"Cache-Control": "no-store"})


async def _journal_events(
    ctx: WebContext, t: Translator, request: Request, job_id: int, after: int, level: Level | None
) -> AsyncIterator[str]:
    """New lines as they come, and the job's summary when it changes. Ends once the job is idle
    (or after a minute); the browser's EventSource then reconnects from the last id it saw.
    The database is polled once per interval for all the streams of a job (``feeds``)."""
    yield "retry: 2000\n\n"
    loop = asyncio.get_running_loop()
    ends = loop.time() + STREAM_MAX_SECONDS
    async with ctx.feeds.follow(job_id) as feed:
        version, seen, behind = 0, None, False
        cursor = after  # every line up to it was sent, or left out by the level
        while loop.time() < ends and not await request.is_disconnected():
            if not behind:
                version = await feed.next(version)
            if feed.state is None:
                continue
            lines, cursor, behind = await feed.lines_since(cursor, level)
            for line in lines:
                yield _event("line", line.id, journal_dict(line, t))
            job, run = feed.state
            summary = job_summary(job, run, t)
            if summary != seen:
                seen = summary
                yield _event("job", cursor, summary)
            if job.status not in ACTIVE and not lines:
                return


def _event(kind: str, event_id: int, data: dict[str, Any]) -> str:
    return f"id: {event_id}\nevent: {kind}\ndata: {json.dumps(data, default=str)}\n\n"


def _run(ctx: WebContext, job_id: int, run_no: int | None) -> RunRecord:
    """The job's run with this number, or its latest run."""
    runs = ctx.store.runs_of(job_id)
    if not runs:
        raise ApiError(404, "no_run", f"job {job_id} has not run yet", {"job_id": job_id})
    if run_no is None:
        return runs[-1]
    for r in runs:
        if r.run_no == run_no:
            return r
    raise ApiError(404, "no_run", f"job {job_id} has no run {run_no}", {"job_id": job_id, "run": run_no})


@router.get("/{job_id}/rejects", summary="A run's rejects, paged, by reason and/or column", responses=NO_JOB)
def rejects(
    job_id: int,
    _user: Viewer,
    ctx: Ctx,
    t: Tr,
    run: Annotated[int | None, Query(ge=1, description="Run number; default the latest.")] = None,
    reason: Text | None = None,
    column: Text | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=BIGGEST)] = 0,
    after: Annotated[
        int | None,
        Query(
            ge=0,
            le=BIGGEST,
            description="Only records after this number: pass a page's next_after (quick at any depth).",
        ),
    ] = None,
) -> dict[str, Any]:
    ctx.store.job(job_id)
    the_run = _run(ctx, job_id, run)
    page = queries.list_rejects(
        ctx.store.engine, the_run.id, queries.RejectFilter(reason, column, limit, offset, after)
    )
    reasons, columns = queries.reject_facets(ctx.store.engine, the_run.id)
    encoding = ctx.store.source_encoding(the_run.id)
    return {
        "run": the_run.run_no,
        "items": [reject_dict(r, encoding, t) for r in page.items],
        "total": page.total,
        "limit": limit,
        "offset": offset,
        "next_after": page.items[-1].record_no if len(page.items) == limit else None,
        "reasons": reasons,
        "columns": columns,
    }


@router.get(
    "/{job_id}/rejects/download",
    summary="A run's rejects (all, or by reason and/or column) as a file in the source's format, "
    "with a reason column",
    response_class=FileResponse,
    responses=NO_JOB | errors({409: "The job is an export (not_an_import)."}),
)
def rejects_download(
    job_id: int,
    _user: Viewer,
    ctx: Ctx,
    cleanup: BackgroundTasks,
    run: Annotated[int | None, Query(ge=1)] = None,
    reason: Annotated[Text | None, Query(description="Only the rejects of this reason.")] = None,
    column: Annotated[Text | None, Query(description="Only the rejects of this column.")] = None,
) -> FileResponse:
    job = ctx.store.job(job_id)
    if job.kind != "import":
        raise ApiError(409, "not_an_import", f"job {job_id} is an export: it has no rejects to download")
    the_run = _run(ctx, job_id, run)
    handle, name = tempfile.mkstemp(prefix="impex-rejects-", suffix=".csv")
    os.close(handle)
    path = Path(name)
    cleanup.add_task(path.unlink, missing_ok=True)
    export_rejects(ctx.store, job, the_run.id, path, reason=reason, column=column)
    suffix = _source_suffix(job.definition.get("source", ""))
    filename = f"job-{job_id}-run-{the_run.run_no}-rejects{suffix}"
    return FileResponse(path, filename=filename, media_type="text/csv; charset=utf-8")


def _source_suffix(source: str) -> str:
    suffixes = [s for s in Path(source).suffixes if s.lower() not in {".gz", ".zip"}]
    return suffixes[-1] if suffixes and suffixes[-1].lower() in {".csv", ".tsv", ".txt"} else ".csv"


@router.get(
    "/{job_id}/output",
    summary="The file an export run produced",
    response_class=FileResponse,
    responses=NO_JOB
    | errors(
        {
            404: "No such job (job_not_found) or run (no_run), or the run wrote no file (no_output).",
            409: "The job is an import (not_an_export).",
            410: "A later export has written the same file since (output_replaced).",
        }
    ),
)
def output(
    job_id: int,
    _user: Viewer,
    ctx: Ctx,
    run: Annotated[int | None, Query(ge=1)] = None,
) -> FileResponse:
    job = ctx.store.job(job_id)
    if job.kind != "export":
        raise ApiError(409, "not_an_export", f"job {job_id} is an import: it produces no file")
    the_run = _run(ctx, job_id, run)
    written = the_run.output_path if the_run.outcome is Status.FINISHED else None
    if written is None or not Path(written).is_file():
        raise ApiError(
            404, "no_output", f"run {the_run.run_no} of job {job_id} has no finished file", {"job_id": job_id}
        )
    later = ctx.store.replaced_by(the_run)
    if later is not None:
        raise ApiError(
            410,
            "output_replaced",
            f"run {the_run.run_no} of job {job_id} wrote {the_run.output_path}, but a later export (job "
            f"{later.job_id}, run {later.run_no}) has written the same file since",
            {"job_id": later.job_id, "run": later.run_no},
        )
    path = Path(written)
    return FileResponse(path, filename=path.name, media_type="application/octet-stream")
