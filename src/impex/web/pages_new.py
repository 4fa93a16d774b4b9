"""The new-import and new-export pages. An import starts with an upload (static/app.js sends it to
POST /api/uploads), then shows the detected format, the first 200 records and a mapping form;
both pages save the job as a draft (editing) or start it, through the same ``create_job`` as the API."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from impex.definitions_io import DefinitionError
from impex.domain.names import file_stem, table_name_for
from impex.domain.rejects import Reason
from impex.domain.roles import Role
from impex.formats.detect import DetectedFormat
from impex.web.api_jobs import create_job
from impex.web.auth import Auth, check_csrf, page_auth
from impex.web.context import WebContext, translator, web_context
from impex.web.errors import ApiError
from impex.web.forms import FormProblem, export_definition, import_definition
from impex.web.i18n import Translator
from impex.web.labels import (
    COMMIT_LABELS,
    DELIMITER_LABELS,
    DOUBLES_LABELS,
    DUPLICATES_LABELS,
    OPERATION_LABELS,
    SPACE_LABELS,
    TYPE_LABELS,
)
from impex.web.pages import render
from impex.web.uploads import (
    check_text,
    existing_columns,
    format_options,
    preview_dict,
    preview_file,
    stored_path,
)

router = APIRouter(include_in_schema=False)
Ctx = Annotated[WebContext, Depends(web_context)]
Tr = Annotated[Translator, Depends(translator)]
CHOICES = {
    "type_labels": TYPE_LABELS,
    "operation_labels": OPERATION_LABELS,
    "doubles_labels": DOUBLES_LABELS,
    "duplicates_labels": DUPLICATES_LABELS,
    "commit_labels": COMMIT_LABELS,
    "delimiter_labels": DELIMITER_LABELS,
    "space_labels": SPACE_LABELS,
}


def original_name(upload: str) -> str:
    """The file's own name inside a stored upload name (uploads/DATE-TIME-TOKEN-name)."""
    parts = PurePosixPath(upload).name.split("-", 3)
    return parts[3] if len(parts) == 4 else PurePosixPath(upload).name


def _header_said(detected: DetectedFormat, fields: dict[str, str | None], t: Translator) -> dict[str, str]:
    """What the page says of the lines above the records: title lines it passed over by itself
    (``title_note``), or a first line that cannot be the header shown (``header_problem``)."""
    first = detected.first_line_reject
    if first is not None and detected.has_header:
        if first.reason is Reason.WRONG_FIELD_COUNT:
            said = t.gettext(
                "Line {line} has {found} fields, the records below it have {expected}: it cannot name "
                "them. Fix the file, or choose Header line: No (line {line} is then rejected)."
            )
            found, expected = first.params["found"], first.params["expected"]
            return {"header_problem": said.format(line=first.line_no, found=found, expected=expected)}
        said = t.gettext(
            "Line {line} cannot be read as a header. Fix the file, or choose Header line: No (line {line} "
            "is then rejected)."
        )
        return {"header_problem": said.format(line=first.line_no)}
    if detected.skip_lines and not fields.get("skip_lines"):
        if detected.skip_lines == 1:
            said = t.gettext("Line 1 comes before the header (a title?): it is passed over.")
        else:
            said = t.gettext("Lines 1 to {last} come before the header (a title?): they are passed over.")
        return {"title_note": said.format(last=detected.skip_lines)}
    return {}


def _preview(ctx: WebContext, upload: str, fields: dict[str, str | None], t: Translator) -> dict[str, Any]:
    path = stored_path(ctx.settings.file_roots, upload)
    if chosen := fields.get("encoding"):
        check_text(path, chosen)  # as the upload checks it: known, and the file is in it
    header = fields.get("header")
    choice = None if not header else header in ("1", "true", "yes", "on")
    detected = preview_file(path, format_options({**fields, "header": None}), choice)
    file_name = original_name(upload)
    # The same table as `impex import FILE` fills; none (the form asks) when the name gives none.
    table = (fields.get("table") or "").strip() or table_name_for(file_name)
    connection = (fields.get("connection") or "").strip() or "default"
    try:
        existing, table_problem = existing_columns(ctx.settings, connection, table), None
    except ApiError as problem:  # a connection that cannot be used: the header's names, and why
        existing, table_problem = None, problem.message
    return {
        "upload": upload,
        "file_name": original_name(upload),
        "preview": preview_dict(detected, existing),
        "suggested_name": file_stem(file_name) or "import",
        "suggested_table": table,
        "suggested_connection": connection,
        "table_problem": table_problem,
        **_header_said(detected, fields, t),
    }


def _import_page(
    request: Request, ctx: WebContext, t: Translator, auth: Auth, upload: str | None, **data: Any
) -> Response:
    if upload:
        fields = {k: data.get("values", {}).get(k) or request.query_params.get(k) for k in FORMAT_FIELDS}
        try:
            data.update(_preview(ctx, upload, fields, t))
        except ApiError as problem:
            said = _encoding_said(problem, t)
            if said is None:
                raise
            data.update(_preview(ctx, upload, {**fields, "encoding": None}, t), format_problem=said)
    status = 422 if data.get("problem") or data.get("format_problem") else 200
    limit = ctx.settings.upload_max_mb * 1024 * 1024
    values = data.pop("values", {})
    return render(
        request, "new_import.html", t, auth, status, limit_bytes=limit, values=values, **CHOICES, **data
    )


FORMAT_FIELDS = ("delimiter", "encoding", "header", "skip_lines", "table", "connection")


def _encoding_said(problem: ApiError, t: Translator) -> str | None:
    """An encoding chosen to read the upload again that does not fit it, in the person's language
    (the page then shows the file as detected); None for other problems."""
    encoding = repr((problem.details or {}).get("encoding"))
    if problem.code == "undecodable":
        text = t.gettext("The file cannot be read as {encoding}; the preview reads it as impex detected it.")
    elif problem.code == "unsupported_encoding":
        text = t.gettext(
            "{encoding} is not an encoding impex knows; the preview reads the file as impex detected it."
        )
    else:
        return None
    return text.format(encoding=encoding)


@router.get("/jobs/new/import")
def new_import(request: Request, ctx: Ctx, t: Tr, upload: str | None = None) -> Response:
    auth = page_auth(request, Role.OPERATOR)
    return _import_page(request, ctx, t, auth, upload)


async def _form(request: Request, auth: Auth) -> dict[str, str]:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    check_csrf(request, auth, fields.get("csrf"))
    return fields


@router.post("/jobs/new/import")
async def create_import(request: Request, ctx: Ctx, t: Tr) -> Response:
    auth = page_auth(request, Role.OPERATOR)
    form = await _form(request, auth)
    upload = form.get("upload", "")
    start = form.get("do") == "start"
    if form.get("do") == "match":  # the table or connection changed: guess the mapping again
        kept = {k: v for k, v in form.items() if not k.startswith("col-")}
        return await run_in_threadpool(_import_page, request, ctx, t, auth, upload, values=kept)
    try:
        definition = import_definition(form, source=upload)
        job_id = await run_in_threadpool(create_job, ctx, auth.user, definition, start=start, upload=upload)
    except (FormProblem, DefinitionError, ApiError) as problem:
        if isinstance(problem, ApiError) and problem.status != 422:
            raise
        text = _said(problem, t)
        return await run_in_threadpool(_import_page, request, ctx, t, auth, upload, problem=text, values=form)
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


def _said(problem: FormProblem | DefinitionError | ApiError, t: Translator) -> str:
    """A form's problem in the person's language where it is one of the form's own."""
    if isinstance(problem, FormProblem):
        return problem.said(t.gettext)
    if isinstance(problem, ApiError) and problem.code == "unknown_connection":
        said = t.gettext("Connection: no connection named {name} (known: {known})")
        return said.format(
            name=repr(problem.details["connection"]), known=", ".join(problem.details["known"])
        )
    if isinstance(problem, ApiError) and problem.code == "path_not_allowed" and problem.details:
        said = t.gettext("{path}: the file must lie inside one of the file folders ({folders})")
        return said.format(path=problem.details["path"], folders=", ".join(problem.details["folders"]))
    return problem.message if isinstance(problem, ApiError) else str(problem)


def _export_page(request: Request, t: Translator, auth: Auth, **data: Any) -> Response:
    status = 422 if data.get("problem") else 200
    values = data.pop("values", {})
    is_admin = auth.user.may(Role.ADMIN)
    return render(
        request, "new_export.html", t, auth, status, values=values, is_admin=is_admin, **CHOICES, **data
    )


@router.get("/jobs/new/export")
def new_export(request: Request, t: Tr) -> Response:
    auth = page_auth(request, Role.OPERATOR)
    return _export_page(request, t, auth)


@router.post("/jobs/new/export")
async def create_export(request: Request, ctx: Ctx, t: Tr) -> Response:
    auth = page_auth(request, Role.OPERATOR)
    form = await _form(request, auth)
    try:
        definition = export_definition(form)
        job_id = await run_in_threadpool(
            create_job, ctx, auth.user, definition, start=form.get("do") == "start"
        )
    except (FormProblem, DefinitionError, ApiError) as problem:
        if isinstance(problem, ApiError) and problem.status != 422:
            raise
        return _export_page(request, t, auth, problem=_said(problem, t), values=form)
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)
