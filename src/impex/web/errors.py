"""One JSON error shape for every API error: ``{"error": {"code", "message", "details"}}``.

Typed exceptions of the library become status codes here; routes raise ``ApiError`` for their own
refusals. Pages outside ``/api`` get the same information as a small HTML page."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from impex.definitions_io import DefinitionError
from impex.domain.status import IllegalTransition, Status, allowed_actions
from impex.store.errors import JobNotFound
from impex.store.refusals import error_shape, refusal_shape
from impex.web.labels import ERROR_TITLES, ROLE_LABELS

log = logging.getLogger("impex.web")

# The code of each status when nothing more precise is known.
CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    500: "internal_error",
}


class ErrorFields(BaseModel):
    code: str = Field(
        description="Stable, for programs: job_not_found, illegal_transition, validation_error…"
    )
    message: str = Field(description="A sentence for people, naming the value refused.")
    details: Any = Field(None, description="The values the error is about (an object or a list), or null.")


class Error(BaseModel):
    """The body of every error the API answers, whatever its status."""

    error: ErrorFields


Responses = dict[int | str, dict[str, Any]]


def errors(described: dict[int, str]) -> Responses:
    """OpenAPI responses, each with the one error body and what it means here."""
    return {status: {"model": Error, "description": text} for status, text in described.items()}


# What any operation behind a login may answer.
API_ERRORS = errors(
    {
        401: "Not logged in, or an unknown token (unauthorized, invalid_token).",
        403: "The caller's role does not allow it (forbidden), or a session's CSRF token is missing.",
        422: "A parameter or body that is not valid (validation_error, naming each), or a value refused.",
    }
)
BAD_JSON = errors({400: "A body that is not JSON (bad_request)."})
NO_JOB = errors({404: "No such job (job_not_found), or no such run (no_run)."})


class ApiError(Exception):
    """A refusal with its HTTP status, a stable machine-readable code and a sentence for people."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def _refusal(error: IllegalTransition | JobNotFound, status: int) -> ApiError:
    """The refusal as ``impex jobs … --json`` gives it too (one shape for both)."""
    said = refusal_shape(error)["error"]
    return ApiError(status, said["code"], said["message"], said["details"])


def _respond(request: Request, error: ApiError, headers: dict[str, str] | None = None) -> Response:
    if request.url.path.startswith("/api") or "text/html" not in request.headers.get("accept", ""):
        return JSONResponse(
            error_shape(error.code, error.message, error.details), status_code=error.status, headers=headers
        )
    from impex.web.context import translator  # (it imports this module)

    t = translator(request)
    english = ERROR_TITLES.get(error.status)
    title = t.gettext(english) if english else HTTPStatus(error.status).phrase
    message = _said(error, t)
    details = error.details if isinstance(error.details, dict) else {}
    back = "<a href='/'>impex</a>"
    if error.code == "job_not_found":  # no job to go back to: to the list
        back = f'<a href="/jobs">{_escape(t.gettext("Jobs"))}</a>'
    elif isinstance(details.get("job_id"), int):  # a refused button: back to its job
        job = details["job_id"]
        said = t.gettext("Back to job {job}").format(job=job)
        back = f'<a href="/jobs/{job}">{_escape(said)}</a>'
    page = (
        f'<!doctype html><html lang="{t.language}"><meta charset=utf-8><title>{_escape(title)}</title>'
        '<link rel=icon href="/static/favicon.svg" type="image/svg+xml">'
        f'<link rel=stylesheet href="/static/app.css"><main class="error"><h1>{error.status} '
        f"{_escape(title)}</h1><p>{_escape(message)}</p><p>{back}</p></main></html>"
    )
    return HTMLResponse(page, status_code=error.status, headers=headers)


def _said(error: ApiError, t: Any) -> str:
    """The error's message in the page's language where its details allow (an action the status
    does not allow), else as the API gives it."""
    details = error.details if isinstance(error.details, dict) else {}
    if error.code == "stale_action" and {"job_id", "action", "status", "seen"} <= details.keys():
        then, now = Status(details["seen"]), Status(details["status"])
        if then is not now:
            template = t.gettext(
                "{action}: job {job} changed since this page showed it ({seen} then, {status} now); "
                "nothing was done. Look at it again, then choose."
            )
        else:
            template = t.gettext(
                "{action}: job {job} ran again since this page showed it; nothing was done. "
                "Look at it again, then choose."
            )
        return template.format(
            action=t.action(details["action"]),
            job=details["job_id"],
            seen=t.status(then),
            status=t.status(now),
        )
    if error.code == "forbidden" and {"user", "role", "needed"} <= details.keys():
        template = t.gettext("User {user} ({role}) may not do this: it needs the {needed} role.")
        return template.format(
            user=details["user"], role=_role(t, details["role"]), needed=_role(t, details["needed"])
        )
    if error.code == "no_run" and {"job_id", "run"} <= details.keys():
        return t.gettext("Job {job} has no run {run}.").format(job=details["job_id"], run=details["run"])
    if error.code == "job_not_found" and "job_id" in details:
        return t.gettext("Job {job} does not exist (or no longer does).").format(job=details["job_id"])
    if error.code == "illegal_transition" and {"job_id", "action", "status"} <= details.keys():
        status = Status(details["status"])
        allowed = ", ".join(t.action(a) for a in allowed_actions(status)) or "—"
        template = t.gettext(
            "{action}: not possible for job {job}, which is {status} (allowed now: {allowed})"
        )
        return template.format(
            action=t.action(details["action"]),
            job=details["job_id"],
            status=t.status(status),
            allowed=allowed,
        )
    return error.message


def _methods_of(request: Request) -> set[str]:
    """Every method of the routes of the request's path."""
    routes = getattr(request.app.state, "routes", [])
    return {
        method
        for route in routes
        if isinstance(route, Route) and route.matches(request.scope)[0] is not Match.NONE
        for method in route.methods or ()
    }


def _role(t: Any, role: str) -> str:
    return str(t.gettext(ROLE_LABELS[role])) if role in ROLE_LABELS else role


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> Response:
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        return _respond(request, error, headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        code = CODES.get(error.status_code, "error")
        message = str(error.detail) if error.detail else HTTPStatus(error.status_code).phrase
        if error.status_code == 404 and error.detail == "Not Found":
            message = f"no such page or resource: {request.url.path}"
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = ", ".join(sorted(_methods_of(request)))
        return _respond(request, ApiError(error.status_code, code, message), headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        details = [
            {"location": ".".join(str(p) for p in e["loc"]), "message": e["msg"], "type": e["type"]}
            for e in error.errors()
        ]
        message = "; ".join(f"{d['location']}: {d['message']}" for d in details) or "invalid request"
        return _respond(request, ApiError(422, "validation_error", message, details))

    @app.exception_handler(IllegalTransition)
    async def illegal_transition(request: Request, error: IllegalTransition) -> Response:
        return _respond(request, _refusal(error, 409))

    @app.exception_handler(JobNotFound)
    async def job_not_found(request: Request, error: JobNotFound) -> Response:
        return _respond(request, _refusal(error, 404))

    @app.exception_handler(DefinitionError)
    async def bad_definition(request: Request, error: DefinitionError) -> Response:
        lines = str(error).splitlines()
        return _respond(request, ApiError(422, "invalid_definition", "; ".join(lines), lines))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _respond(request, ApiError(500, "internal_error", "internal error; see the server log"))
