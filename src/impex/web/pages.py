"""Server-rendered pages: login, the job list, a job's General / Journal / Rejects tabs, the
operator's buttons, and the language switch. Each page reads through the same library calls as
the API; the small scripts in static/ refresh parts of them while jobs run."""

from __future__ import annotations

import contextlib
import dataclasses
import hmac
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from impex.definitions_io import DefinitionError, stored_definition
from impex.domain.journal import Level
from impex.domain.rejects import visible
from impex.domain.roles import Role
from impex.domain.status import ACTIVE, Action, Seen, Status, allowed_actions
from impex.store import queries
from impex.store.shapes import progress
from impex.web.api_jobs import act
from impex.web.auth import (
    LOGIN_CSRF_COOKIE,
    Auth,
    authenticate,
    check_csrf,
    clear_session,
    new_csrf,
    page_auth,
    set_session,
)
from impex.web.context import LANGUAGE_COOKIE, WebContext, translator, web_context
from impex.web.errors import ApiError
from impex.web.i18n import LANGUAGES, STATUS_VALUES, Translator, duration
from impex.web.labels import (
    DELIMITER_LABELS,
    LEVEL_LABELS,
    OPERATION_LABELS,
    ROLE_LABELS,
    SPACE_LABELS,
    STATUS_ICONS,
    TAB_LABELS,
    TYPE_LABELS,
)
from impex.web.params import Text
from impex.web.serialize import file_format, job_detail, job_summary, journal_dict, reject_dict

router = APIRouter(include_in_schema=False)
Ctx = Annotated[WebContext, Depends(web_context)]
Tr = Annotated[Translator, Depends(translator)]
PAGE_SIZE = 50
JOURNAL_PAGE = 500
# The rejects tab shows this much of a value and of a raw record (a 1 MB field made a 2 MB page
# whose table no one could read); the download has them whole.
VALUE_CHARS = 100
RAW_CHARS = 1000


SORT_VALUES = frozenset(k.value for k in queries.JobSort)
# A worker runs the job: its progress may move even before the file's size is known.
WORKING = frozenset(s.value for s in ACTIVE - {Status.QUEUED})


def render(
    request: Request, name: str, t: Translator, auth: Auth | None, status_code: int = 200, **data: Any
) -> HTMLResponse:
    ctx = web_context(request)
    context = {
        "t": t,
        "_": t.gettext,
        "user": auth.user if auth else None,
        "csrf": auth.csrf if auth else None,
        "can_operate": bool(auth and auth.user.may(Role.OPERATOR)),
        "languages": LANGUAGES,
        "icons": STATUS_ICONS,
        "role_labels": ROLE_LABELS,
        "duration": duration,
        "statuses": list(Status),
        "working": WORKING,
        **data,
    }
    return ctx.templates.TemplateResponse(request, name, context, status_code=status_code)


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no //host, no scheme): the login cannot redirect elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/jobs"


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/jobs", status_code=303)


def fragment_auth(request: Request) -> Auth:
    """For the parts a page refreshes: 401 without a session, not the login form (which the page
    would show inside itself); the page's script then goes to the login and back."""
    auth = authenticate(request)
    if auth is None:
        raise ApiError(401, "unauthorized", "the session has ended; log in again")
    return page_auth(request)


@router.get("/login")
def login_form(
    request: Request,
    t: Tr,
    next: str = "/jobs",
    failed: bool = False,
    expired: bool = False,
    undone: bool = False,
) -> Response:
    token = new_csrf()
    response = render(
        request,
        "login.html",
        t,
        None,
        status_code=401 if failed else 200,
        login_csrf=token,
        next=_safe_next(next),
        failed=failed,
        expired=expired,
        undone=undone,
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", max_age=3600)
    return response


@router.post("/login")
def login(
    request: Request,
    ctx: Ctx,
    name: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    csrf: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/jobs",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf):
        raise ApiError(403, "csrf_failed", "the login form expired; reload it and try again")
    user = ctx.users.authenticate(name, password)
    if user is None:
        return RedirectResponse(
            f"/login?{urlencode({'next': _safe_next(next), 'failed': 1})}", status_code=303
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session(request, response, user)
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    auth = page_auth(request)
    check_csrf(request, auth, csrf)
    response = RedirectResponse("/login", status_code=303)
    clear_session(response)
    return response


@router.get("/lang/{language}")
def switch_language(language: str, next: str = "/jobs") -> Response:
    """Remember the chosen language (a year) and go back where the user was."""
    if language not in LANGUAGES:
        raise ApiError(404, "not_found", f"no language {language!r}; available: {', '.join(LANGUAGES)}")
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 86400, samesite="lax")
    return response


@dataclass(frozen=True)
class ListQuery:
    """The job list's query string, as both the page and its live-refresh rows take it."""

    status: str | None = None
    kind: str | None = None
    owner: Text | None = None
    q: Annotated[Text | None, Query(max_length=200)] = None
    sort: str = "id"
    order: str = "desc"
    page: Annotated[int, Query(ge=1)] = 1

    @property
    def filters(self) -> dict[str, str]:
        return {
            "status": self.status or "",
            "kind": self.kind or "",
            "owner": self.owner or "",
            "q": self.q or "",
        }

    def job_filter(self) -> queries.JobFilter:
        statuses = (Status(self.status),) if self.status in STATUS_VALUES else ()
        sort_key = queries.JobSort(self.sort) if self.sort in SORT_VALUES else queries.JobSort.ID
        return queries.JobFilter(
            statuses=statuses,
            kind=self.kind if self.kind in ("import", "export") else None,
            owner=self.owner or None,
            text=self.q or None,
            sort=sort_key,
            descending=self.order != "asc",
            limit=PAGE_SIZE,
            offset=max(0, self.page - 1) * PAGE_SIZE,
        )


ListParams = Annotated[ListQuery, Depends()]


def _list_data(ctx: WebContext, t: Translator, f: queries.JobFilter) -> dict[str, Any]:
    page = queries.list_jobs(ctx.store.engine, f)
    return {"jobs": [job_summary(j, r, t) for j, r in page.items], "total": page.total}


@router.get("/jobs")
def jobs_page(request: Request, ctx: Ctx, t: Tr, lq: ListParams) -> Response:
    auth = page_auth(request)
    f = lq.job_filter()
    data = _list_data(ctx, t, f)
    pages = max(1, -(-data["total"] // PAGE_SIZE))
    return render(
        request,
        "jobs.html",
        t,
        auth,
        filters=lq.filters,
        sort=f.sort.value,
        order=lq.order,
        page=lq.page,
        pages=pages,
        query=urlencode({k: v for k, v in lq.filters.items() if v}),
        **data,
    )


@router.get("/jobs/rows")
def jobs_rows(request: Request, ctx: Ctx, t: Tr, lq: ListParams) -> Response:
    """The list's rows alone, for the page's live refresh."""
    auth = fragment_auth(request)
    return render(request, "_job_rows.html", t, auth, **_list_data(ctx, t, lq.job_filter()))


def _job_page_data(ctx: WebContext, t: Translator, job_id: int) -> dict[str, Any]:
    job = ctx.store.job(job_id)
    runs = ctx.store.runs_of(job_id)
    detail = job_detail(job, runs, t)
    # Every default spelled out, for the summary; one an older impex wrote is shown as it is.
    with contextlib.suppress(DefinitionError):
        detail["definition"] = stored_definition(job.definition).model_dump(mode="json")
    current = next((r for r in runs if r.id == job.current_run_id), None)
    latest = runs[-1] if runs else None
    why = [t.journal(line.code, line.params) for line in ctx.store.why_failed(latest)] if latest else []
    fmt = detail["definition"].get("format") if job.kind == "import" else None
    detected = ctx.store.detected_format(latest.id) if latest and fmt else {}
    return {
        "job": detail,
        "run": detail["run"],
        "progress": progress(current),
        "actions": [a.value for a in allowed_actions(job.status)],
        "why": why,
        "operation_labels": OPERATION_LABELS,
        "file_format": file_format(fmt, detected) if isinstance(fmt, dict) else None,
        "type_labels": TYPE_LABELS,
        "delimiter_labels": DELIMITER_LABELS,
        "space_labels": SPACE_LABELS,
    }


@router.get("/jobs/{job_id}")
def job_page(
    job_id: int,
    request: Request,
    ctx: Ctx,
    t: Tr,
    tab: str = "general",
    level: str | None = None,
    run: Annotated[int | None, Query(ge=1)] = None,
    reason: Text | None = None,
    column: Text | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    auth = page_auth(request)
    tab = tab if tab in TAB_LABELS else "general"
    data = _job_page_data(ctx, t, job_id)
    data.update(tab=tab, tabs=TAB_LABELS, levels=LEVEL_LABELS)
    if tab == "journal":
        data.update(_journal_data(ctx, t, job_id, level, before))
    elif tab == "rejects":
        data.update(_rejects_data(ctx, t, job_id, run, reason, column, page))
    return render(request, "job.html", t, auth, **data)


def _journal_data(
    ctx: WebContext, t: Translator, job_id: int, level: str | None, before: int | None
) -> dict[str, Any]:
    """The latest page of the journal (which the page then follows), or the page of lines before
    line ``before``; ``earlier``: where the page before this one ends, if there are earlier lines."""
    min_level = Level(level) if level and level in set(Level) else None
    lines = queries.journal_page(
        ctx.store.engine, job_id, min_level=min_level, limit=JOURNAL_PAGE + 1, tail=True, before_id=before
    )
    earlier = lines[1].id if len(lines) > JOURNAL_PAGE else None
    shown = lines[-JOURNAL_PAGE:]
    return {
        "lines": [journal_dict(line, t) for line in shown],
        "level": level or "",
        "earlier": earlier,
        "latest": before is None,
    }


def _rejects_data(
    ctx: WebContext,
    t: Translator,
    job_id: int,
    run_no: int | None,
    reason: str | None,
    column: str | None,
    page: int,
) -> dict[str, Any]:
    runs = ctx.store.runs_of(job_id)
    chosen = next((r for r in runs if r.run_no == run_no), runs[-1] if runs else None)
    if run_no is not None and (chosen is None or chosen.run_no != run_no):
        # an old link, or a typo: not the latest run's rejects under another run's number
        raise ApiError(404, "no_run", f"job {job_id} has no run {run_no}", {"job_id": job_id, "run": run_no})
    if chosen is None:
        return {"rejects": [], "reject_total": 0, "reasons": [], "columns": [], "reject_run": None}
    f = queries.RejectFilter(reason or None, column or None, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    found = queries.list_rejects(ctx.store.engine, chosen.id, f)
    pages = max(1, -(-found.total // PAGE_SIZE))
    if page > pages:  # a page number kept from another filter or run: its last page
        page = pages
        f = dataclasses.replace(f, offset=(page - 1) * PAGE_SIZE)
        found = queries.list_rejects(ctx.store.engine, chosen.id, f)
    reasons, columns = queries.reject_facets(ctx.store.engine, chosen.id)
    encoding = ctx.store.source_encoding(chosen.id)
    return {
        "rejects": [_shown_reject(reject_dict(r, encoding, t), t) for r in found.items],
        "reject_total": found.total,
        "reasons": reasons,
        "columns": columns,
        "reject_run": chosen.run_no,
        "run_numbers": [r.run_no for r in runs],
        "reason": reason or "",
        "column": column or "",
        "page": page,
        "pages": pages,
    }


def _shown_reject(row: dict[str, Any], t: Translator) -> dict[str, Any]:
    """A reject as the tab shows it: its value and raw record cut to a readable length (with a note
    of their whole length), and the characters that show as nothing, or turn the text around (a
    right-to-left override), written as escapes; a raw record keeps its line breaks."""
    value, value_note = _clipped(row["value"], VALUE_CHARS, t)
    raw, raw_note = _clipped(row["raw"], RAW_CHARS, t)
    return {
        **row,
        "value": visible(value) if value is not None else None,
        "value_note": value_note,
        "raw": "\n".join(visible(part) for part in raw.split("\n")) if raw is not None else None,
        "raw_note": raw_note,
    }


def _clipped(text: str | None, limit: int, t: Translator) -> tuple[str | None, str | None]:
    if text is None or len(text) <= limit:
        return text, None
    note = t.gettext("… {count} characters in all; download the rejects to see them whole")
    return text[:limit], note.format(count=t.number(len(text)))


@router.get("/jobs/{job_id}/general")
def job_general(job_id: int, request: Request, ctx: Ctx, t: Tr) -> Response:
    """The General tab's body and the buttons, for the page's live refresh."""
    auth = fragment_auth(request)
    return render(request, "_general.html", t, auth, **_job_page_data(ctx, t, job_id))


@router.get("/jobs/{job_id}/rejects")
def job_rejects(
    job_id: int,
    request: Request,
    ctx: Ctx,
    t: Tr,
    run: Annotated[int, Query(ge=1)],
    reason: Text | None = None,
    column: Text | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """A page of a run's rejects, its count and its pager, for the Rejects tab's live refresh."""
    auth = fragment_auth(request)
    ctx.store.job(job_id)  # a job that does not exist: 404
    data = _rejects_data(ctx, t, job_id, run, reason, column, page)
    return render(request, "_rejects.html", t, auth, **data)


@router.get("/jobs/{job_id}/head")
def job_head(job_id: int, request: Request, ctx: Ctx, t: Tr) -> Response:
    """The job's title, status and buttons, for the page's live refresh."""
    auth = fragment_auth(request)
    return render(request, "_job_head.html", t, auth, **_job_page_data(ctx, t, job_id))


@router.post("/jobs/{job_id}/{action}")
def job_action(
    job_id: int,
    action: str,
    request: Request,
    ctx: Ctx,
    csrf: Annotated[str, Form()] = "",
    seen: Annotated[str, Form()] = "",
    run: Annotated[str, Form()] = "",
) -> Response:
    """A Start / Pause / Cancel button. A refused one shows the 409 page naming the status.

    A Start means what the page showed: resume the paused run, or run the job again. Pressed in a
    tab that another one (or person) has overtaken, it would resume nothing and start a new run
    instead, or run the job once more: refused unless the job is still as the page showed it
    (``seen``, ``run``). Pause and Cancel mean the same in every status that allows them."""
    auth = page_auth(request, Role.OPERATOR)
    check_csrf(request, auth, csrf)
    if action not in {a.value for a in (Action.START, Action.PAUSE, Action.CANCEL)}:
        raise ApiError(404, "not_found", f"no action {action!r}")
    shown = None
    if action == Action.START and seen in STATUS_VALUES:
        shown = Seen(Status(seen), int(run) if run.isdigit() else None)
    act(ctx, job_id, Action(action), auth.user, seen=shown)
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)
