"""Users, their argon2id password hashes and their API tokens, kept in the metadata store."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from impex.domain.definitions import IDENTIFIER
from impex.domain.roles import Role
from impex.store.schema import api_tokens, meta, users

TOKEN_PREFIX = "impex_"
_hasher = PasswordHasher()
# Verifying against this when the name is unknown takes as long as a real check: the login's
# timing does not tell which user names exist.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class UserError(ValueError):
    """A user that cannot be created as asked (bad name, name taken, weak password)."""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: Role

    def may(self, needed: Role) -> bool:
        return self.role.allows(needed)


def _user(row: sa.Row[tuple[int, str, str]]) -> User:
    return User(id=row.id, name=row.name, role=Role(row.role))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Users:
    """The ``users`` and ``api_tokens`` tables of one store."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def create(self, name: str, password: str, role: Role) -> User:
        if not IDENTIFIER.match(name):
            raise UserError(f"{name!r} is not a valid user name (letters, digits and _)")
        if len(password) < 8:
            raise UserError("a password needs at least 8 characters")
        with self.engine.begin() as c:
            if c.scalar(sa.select(users.c.id).where(users.c.name == name)) is not None:
                raise UserError(f"user {name} already exists")
            user_id = c.execute(
                users.insert().values(
                    name=name, password_hash=_hasher.hash(password), role=role.value, created_at=time.time()
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        return User(id=int(user_id), name=name, role=role)

    def count(self) -> int:
        with self.engine.connect() as c:
            return int(c.scalar(sa.select(sa.func.count()).select_from(users)) or 0)

    def all(self) -> list[User]:
        with self.engine.connect() as c:
            return [_user(r) for r in c.execute(sa.select(users).order_by(users.c.name))]

    def get(self, user_id: int) -> User | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(users).where(users.c.id == user_id)).first()
        return _user(row) if row is not None else None

    def authenticate(self, name: str, password: str) -> User | None:
        """The user if ``password`` is theirs, else None (same answer for an unknown name)."""
        with self.engine.connect() as c:
            row = c.execute(sa.select(users).where(users.c.name == name)).first()
        try:
            _hasher.verify(row.password_hash if row is not None else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        return _user(row) if row is not None else None

    def bootstrap_admin(self, name: str = "admin") -> str | None:
        """On a store without users, create ``name`` as admin and return its random password
        (shown once); None when users exist already."""
        if self.count():
            return None
        password = secrets.token_urlsafe(12)
        try:
            self.create(name, password, Role.ADMIN)
        except (UserError, sa.exc.IntegrityError):  # another process bootstrapped at the same moment
            return None
        return password

    def create_token(self, user_id: int, label: str = "") -> str:
        """A new API token for the user; the plain token is returned once and never stored."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.engine.begin() as c:
            c.execute(
                api_tokens.insert().values(
                    user_id=user_id, token_hash=_token_hash(token), label=label, created_at=time.time()
                )
            )
        return token

    def for_token(self, token: str) -> User | None:
        with self.engine.begin() as c:
            row = c.execute(
                sa.select(users, api_tokens.c.id.label("token_id"))
                .join(api_tokens, api_tokens.c.user_id == users.c.id)
                .where(api_tokens.c.token_hash == _token_hash(token))
            ).first()
            if row is None:
                return None
            c.execute(
                api_tokens.update().where(api_tokens.c.id == row.token_id).values(last_used_at=time.time())
            )
        return _user(row)

    def secret(self, key: str) -> str:
        """A random secret kept in the store (e.g. the session signing key), made on first use,
        so that every process serving this store signs alike and sessions survive a restart."""
        query = sa.select(meta.c.value).where(meta.c.key == key)
        with self.engine.connect() as c:
            value = c.scalar(query)
        if value is None:
            try:
                with self.engine.begin() as c:
                    c.execute(meta.insert().values(key=key, value=secrets.token_hex(32)))
            except sa.exc.IntegrityError:
                pass  # another process made it first; use theirs
            with self.engine.connect() as c:
                value = c.scalar(query)
        return str(value)
