"""``impex jobs …``: list, show, journal, rejects and the operator actions."""

from __future__ import annotations

import time
from pathlib import Path
from textwrap import indent
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from impex.cli.context import app_context, why_failed
from impex.cli.exit_codes import EXIT_CODES_HELP, Exit
from impex.cli.render import (
    console,
    emit_json,
    emit_json_line,
    fail,
    jobs_table,
    journal_line,
    refuse,
    rejects_table,
)
from impex.cli.render import show_job as render_job
from impex.domain.rejects import Reason
from impex.domain.status import ACTIVE, A, Action, IllegalTransition, Status
from impex.store.errors import JobNotFound
from impex.store.refusals import refusal_shape

if TYPE_CHECKING:
    from impex.store.store import Store

app = typer.Typer(help="Follow and act on jobs.", no_args_is_help=True)


def _store(ctx: typer.Context) -> Store:
    return app_context(ctx).store


def _run_id(store: Store, job_id: int, run_no: int | None) -> int:
    try:
        runs = store.runs_of(job_id) if store.job(job_id) else []
    except JobNotFound as e:
        raise fail(str(e)) from None
    if not runs:
        raise fail(f"job {job_id} has not run yet")
    if run_no is None:
        return runs[-1].id
    for run in runs:
        if run.run_no == run_no:
            return run.id
    raise fail(f"job {job_id} has no run {run_no} (runs: {', '.join(str(r.run_no) for r in runs)})")


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    status: Annotated[Status | None, typer.Option(help="Only jobs in this status.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many.")] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The job list, newest first."""
    from impex.store import queries

    store = _store(ctx)
    page = queries.list_jobs(
        store.engine, queries.JobFilter(statuses=(status,) if status else (), limit=limit)
    )
    if as_json:
        from impex.store.shapes import job_shape

        emit_json([job_shape(j, r) for j, r in page.items])  # as GET /api/jobs
    else:
        console.print(jobs_table(page.items))
        if page.total > len(page.items):
            console.print(f"{len(page.items)} of {page.total} jobs (--limit shows more)")


@app.command("show")
def show_cmd(
    ctx: typer.Context,
    job_id: int,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """A job's status, runs with their counters, and definition (as YAML, only the keys set)."""
    store = _store(ctx)
    try:
        job = store.job(job_id)
    except JobNotFound as e:
        raise refuse(refusal_shape(e), Exit.BAD_ARGUMENTS, as_json=as_json) from None
    runs = store.runs_of(job_id)
    if as_json:
        from impex.store.shapes import current_run, job_shape, run_shape

        data = job_shape(job, current_run(job, runs))  # as GET /api/jobs/ID
        data["definition"] = job.definition
        data["runs"] = [run_shape(r) for r in runs]
        emit_json(data)
    else:
        from impex.definitions_io import definition_yaml  # pydantic: only this command needs it

        render_job(job, runs, why_failed(store, runs))
        console.print("definition:")
        console.print(indent(definition_yaml(job.definition).rstrip(), "  "), markup=False, highlight=False)


@app.command("journal")
def journal_cmd(
    ctx: typer.Context,
    job_id: int,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines until the job stops.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The job's journal (every run), oldest first."""
    store = _store(ctx)
    try:
        store.job(job_id)
    except JobNotFound as e:
        raise fail(str(e)) from None
    from impex.store.follow import PAGE_LINES, JournalFollower

    follower = JournalFollower(store, job_id)
    while True:
        # The status before the lines: a job seen stopped has all its lines committed already (its
        # last one with the status), so the read below gets them.
        stopped = follow and store.status_of(job_id) not in ACTIVE
        lines = follower.new_lines()
        for line in lines:
            if as_json:
                emit_json_line({**line.as_dict(), "text": line.text})
            else:
                console.print(journal_line(line), highlight=False, markup=False)
        if len(lines) == PAGE_LINES:  # more are waiting
            continue
        if not follow or (stopped and not lines):
            return
        time.sleep(0.5)


@app.command("rejects")
def rejects_cmd(
    ctx: typer.Context,
    job_id: int,
    run: Annotated[int | None, typer.Option(help="Run number (default: the latest).")] = None,
    export: Annotated[
        Path | None, typer.Option(help="Write them in the source format, with a reason column.")
    ] = None,
    reason: Annotated[Reason | None, typer.Option(help="Only the rejects of this reason.")] = None,
    column: Annotated[str | None, typer.Option(help="Only the rejects of this column.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many shown.")] = 100,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The records a run could not process: line, raw record, reason. --reason and --column narrow
    both the list and the --export file."""
    store = _store(ctx)
    run_id = _run_id(store, job_id, run)
    if export is not None and store.job(job_id).kind != "import":  # as the API says it
        raise fail(f"job {job_id} is an export: it has no rejects to write to {export}")
    if export is not None:
        # Writing rejects back loads the file formats (polars, pyarrow): only this option needs them.
        from impex.engine.reject_export import export_rejects
        from impex.formats.errors import NotAFile

        try:
            count = export_rejects(store, store.job(job_id), run_id, export, reason=reason, column=column)
        except NotAFile as e:
            raise fail(str(e.strerror)) from None
        except OSError as e:
            raise fail(f"cannot write {export}: {e.strerror or e}") from None
        console.print(f"{count} rejects written to {escape(str(export))}")
        return
    rows = store.rejects_of(run_id, limit=limit, reason=reason, column=column)
    encoding = store.source_encoding(run_id)
    if as_json:
        emit_json([r.as_dict(encoding) for r in rows])
    else:
        console.print(rejects_table(rows, encoding))


def _act(ctx: typer.Context, job_id: int, action: Action, as_json: bool) -> None:
    from impex.engine.actions import operate  # a cancel may clean up in the target

    app = app_context(ctx)
    try:
        t = operate(app.store, app.settings, job_id, action, actor="cli")
    except JobNotFound as e:
        raise refuse(refusal_shape(e), Exit.BAD_ARGUMENTS, as_json=as_json) from None
    except IllegalTransition as e:
        raise refuse(refusal_shape(e), Exit.NOT_ALLOWED, as_json=as_json) from None
    if as_json:
        emit_json({"id": job_id, "action": action.value, "from": t.source.value, "status": t.target.value})
    else:
        console.print(f"job {job_id}: {t.source.value} → {t.target.value}")


JSON_OPTION = Annotated[bool, typer.Option("--json")]


@app.command("start", epilog=EXIT_CODES_HELP)
def start_cmd(ctx: typer.Context, job_id: int, as_json: JSON_OPTION = False) -> None:
    """Queue a job: a draft, a paused one (it resumes), or a finished one (a new run)."""
    _act(ctx, job_id, A.START, as_json)


@app.command("pause", epilog=EXIT_CODES_HELP)
def pause_cmd(ctx: typer.Context, job_id: int, as_json: JSON_OPTION = False) -> None:
    """Pause at the next chunk boundary; Start resumes it."""
    _act(ctx, job_id, A.PAUSE, as_json)


@app.command("cancel", epilog=EXIT_CODES_HELP)
def cancel_cmd(ctx: typer.Context, job_id: int, as_json: JSON_OPTION = False) -> None:
    """Cancel a queued, running or paused job."""
    _act(ctx, job_id, A.CANCEL, as_json)
