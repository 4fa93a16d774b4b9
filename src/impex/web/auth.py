"""Who is asking: a signed session cookie (browser) or ``Authorization: Bearer <token>`` (scripts);
what their role allows; CSRF protection for everything a browser session changes."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response
from itsdangerous import BadSignature

from impex.domain.roles import Role
from impex.store.users import User
from impex.web.context import web_context
from impex.web.errors import ApiError

SESSION_COOKIE = "impex_session"
LOGIN_CSRF_COOKIE = "impex_login_csrf"
CSRF_HEADER = "x-csrf-token"
SESSION_SECONDS = 12 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Auth:
    user: User
    via: str  # "session" or "token"
    csrf: str | None  # the session's CSRF token; None for API tokens, which need none


class LoginRequired(Exception):
    """A page was asked for without a session: the browser is sent to the login form."""


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


def set_session(request: Request, response: Response, user: User) -> None:
    payload = {"u": user.id, "c": new_csrf()}
    response.set_cookie(
        SESSION_COOKIE,
        web_context(request).sessions.dumps(payload),
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE)


def authenticate(request: Request) -> Auth | None:
    """The caller, from a bearer token or a valid session cookie; None when anonymous."""
    cached = getattr(request.state, "auth", None)
    if cached is not None:
        return cached if isinstance(cached, Auth) else None
    ctx = web_context(request)
    auth: Auth | None = None
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = ctx.users.for_token(header[7:].strip())
        if user is None:
            raise ApiError(401, "invalid_token", "the API token is unknown or was revoked")
        auth = Auth(user, "token", None)
    elif cookie := request.cookies.get(SESSION_COOKIE):
        try:
            payload: dict[str, Any] = ctx.sessions.loads(cookie, max_age=SESSION_SECONDS)
        except BadSignature:
            payload = {}
        found = ctx.users.get(int(payload["u"])) if "u" in payload else None
        if found is not None:
            auth = Auth(found, "session", str(payload.get("c", "")))
    request.state.auth = auth if auth is not None else False
    return auth


def check_csrf(request: Request, auth: Auth, submitted: str | None) -> None:
    """A browser session may change something only with its CSRF token (form field or header)."""
    if auth.via != "session" or request.method in SAFE_METHODS:
        return
    token = submitted or request.headers.get(CSRF_HEADER)
    if not token or not auth.csrf or not hmac.compare_digest(token, auth.csrf):
        raise ApiError(403, "csrf_failed", "missing or wrong CSRF token; reload the page and try again")


def _forbidden(user: User, needed: Role) -> ApiError:
    return ApiError(
        403,
        "forbidden",
        f"user {user.name} ({user.role.value}) may not do this: it needs the {needed.value} role",
        {"user": user.name, "role": user.role.value, "needed": needed.value},
    )


def require(needed: Role) -> Callable[[Request], User]:
    """An API dependency: the caller, if their role includes ``needed`` (401/403 otherwise)."""

    def dependency(request: Request) -> User:
        auth = authenticate(request)
        if auth is None:
            raise ApiError(401, "unauthorized", "log in, or send 'Authorization: Bearer <token>'")
        if not auth.user.may(needed):
            raise _forbidden(auth.user, needed)
        check_csrf(request, auth, None)
        return auth.user

    return dependency


def page_auth(request: Request, needed: Role = Role.VIEWER) -> Auth:
    """For pages: the session, or a redirect to the login form; 403 when the role is too low."""
    auth = authenticate(request)
    if auth is None:
        raise LoginRequired()
    if not auth.user.may(needed):
        raise _forbidden(auth.user, needed)
    return auth


Viewer = Annotated[User, Depends(require(Role.VIEWER))]
Operator = Annotated[User, Depends(require(Role.OPERATOR))]
Admin = Annotated[User, Depends(require(Role.ADMIN))]
