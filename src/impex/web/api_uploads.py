"""The REST API for uploads: a data file in, its stored name and a preview out."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from impex.web.auth import Operator
from impex.web.context import WebContext, web_context
from impex.web.errors import API_ERRORS, ApiError, errors
from impex.web.uploads import (
    accept,
    existing_columns,
    format_options,
    preview_dict,
    receive,
    upload_folder,
)

router = APIRouter(prefix="/api/uploads", tags=["uploads"], responses=API_ERRORS)
Ctx = Annotated[WebContext, Depends(web_context)]

BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "delimiter": {"type": "string", "description": "Empty: detect it."},
                        "encoding": {"type": "string", "description": "Empty: detect it."},
                        "header": {"type": "boolean", "description": "When the sample cannot tell."},
                        "table": {
                            "type": "string",
                            "description": "Target table: when it exists, each column is guessed to the "
                            "table column of the same normalised name (case, spaces, accents), else to "
                            "none (target '', use false).",
                        },
                        "connection": {"type": "string", "description": "Of the table; default: default."},
                    },
                }
            }
        },
    }
}
REFUSED = errors(
    {
        400: "A body that breaks the multipart syntax (bad_multipart); nothing is stored.",
        413: "Larger than upload_max_mb (payload_too_large); nothing is stored.",
        415: "Not multipart, or not text in a readable encoding; nothing is stored.",
        422: "No file, an empty file, a bad format option or table (each with its code); nothing is stored.",
    }
)


@router.post(
    "",
    status_code=201,
    summary="Upload a data file (multipart, field 'file'): its stored name and a preview",
    description=(
        "The file is streamed to the first file folder under a temporary name and renamed only when "
        "it is complete and is text. The preview holds the detected encoding, delimiter and header, "
        "a guessed target column and type per column, and the first 200 records. Pass the stored "
        "name as 'upload' to POST /api/jobs to import it."
    ),
    responses=REFUSED,
    openapi_extra=BODY,
)
async def upload(request: Request, _user: Operator, ctx: Ctx) -> dict[str, Any]:
    limit = ctx.settings.upload_max_mb * 1024 * 1024
    folder = upload_folder(ctx.settings.file_roots)
    received = await receive(
        request.headers.get("content-type"),
        request.headers.get("content-length"),
        request.stream(),
        folder,
        limit,
    )
    try:
        fmt = format_options(received.fields)
    except ApiError:
        received.discard()
        raise
    fields = received.fields
    try:
        existing = await run_in_threadpool(
            existing_columns, ctx.settings, fields.get("connection"), fields.get("table")
        )
    except ApiError:
        received.discard()
        raise
    stored, detected = await run_in_threadpool(accept, received, ctx.settings.file_roots, fmt)
    return {
        "name": stored.name,
        "size": stored.size,
        "original_name": stored.original_name,
        "preview": preview_dict(detected, existing),
    }
