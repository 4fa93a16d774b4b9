"""The REST API for the caller, their API tokens, and (admins) users."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from impex.domain.definitions import IDENTIFIER
from impex.domain.roles import Role
from impex.store.users import User, UserError
from impex.web.auth import Admin, Viewer
from impex.web.context import WebContext, web_context
from impex.web.errors import API_ERRORS, BAD_JSON, ApiError
from impex.web.params import Text

router = APIRouter(prefix="/api", tags=["users"], responses=API_ERRORS)
Ctx = Annotated[WebContext, Depends(web_context)]


def user_dict(user: User) -> dict[str, Any]:
    return {"id": user.id, "name": user.name, "role": user.role.value}


class NewToken(BaseModel):
    label: Text = Field("", max_length=200)


class NewUser(BaseModel):
    # the pattern is documented, and checked by Users.create: a name off it is invalid_user, saying why
    name: str = Field(min_length=1, max_length=63, json_schema_extra={"pattern": IDENTIFIER.pattern})
    password: str = Field(min_length=8, max_length=1000)
    role: Role = Role.VIEWER


@router.get("/me", summary="Who is calling")
def me(user: Viewer) -> dict[str, Any]:
    return user_dict(user)


@router.post(
    "/tokens", status_code=201, summary="A new API token for the caller (shown once)", responses=BAD_JSON
)
def create_token(body: NewToken, user: Viewer, ctx: Ctx) -> dict[str, Any]:
    return {"token": ctx.users.create_token(user.id, body.label), "user": user_dict(user)}


@router.get("/users", summary="Every user (admin)")
def list_users(_admin: Admin, ctx: Ctx) -> dict[str, Any]:
    return {"items": [user_dict(u) for u in ctx.users.all()]}


@router.post("/users", status_code=201, summary="Create a user (admin)", responses=BAD_JSON)
def create_user(body: NewUser, _admin: Admin, ctx: Ctx) -> dict[str, Any]:
    try:
        return user_dict(ctx.users.create(body.name, body.password, body.role))
    except UserError as e:
        raise ApiError(422, "invalid_user", str(e)) from None
