"""The REST API for named connections (admins): what is configured, and whether it can be opened.

Connections are defined in the connections file (IMPEX_CONNECTIONS_FILE), never through the web,
so that passwords stay in the environment or in files; the API shows URLs with passwords masked.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from impex.engine.connections import BadConnection, UnknownConnection, connection_names, connection_url
from impex.targets import open_target, redact_url
from impex.targets.base import TargetError
from impex.web.auth import Admin
from impex.web.context import WebContext, web_context
from impex.web.errors import API_ERRORS, ApiError, errors

router = APIRouter(prefix="/api", tags=["connections"], responses=API_ERRORS)
Ctx = Annotated[WebContext, Depends(web_context)]


@router.get("/connections", summary="Every named connection, passwords masked (admin)")
def list_connections(_admin: Admin, ctx: Ctx) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for name in connection_names(ctx.settings):
        try:
            connection = connection_url(ctx.settings, name)
            items.append({"name": name, "url": str(connection), "kind": connection.url.split(":", 1)[0]})
        except BadConnection as e:
            items.append({"name": name, "url": None, "kind": None, "problem": str(e)})
    return {"items": items}


@router.post(
    "/connections/{name}/check",
    summary="Open a connection and report whether it works (admin)",
    responses=errors({404: "No connection of that name (unknown_connection)."}),
)
def check_connection(name: str, _admin: Admin, ctx: Ctx) -> dict[str, Any]:
    try:
        connection = connection_url(ctx.settings, name)
    except UnknownConnection as e:
        raise ApiError(404, "unknown_connection", str(e)) from None
    except BadConnection as e:
        return {"name": name, "ok": False, "message": str(e)}
    try:
        open_target(connection).close()
    except (TargetError, OSError) as e:
        secret = connection.password
        message = redact_url(str(e))
        if secret:
            message = message.replace(secret, "***")
        return {"name": name, "ok": False, "message": message}
    return {"name": name, "ok": True, "message": f"{connection} can be opened"}
