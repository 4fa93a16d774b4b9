"""Target databases. ``open_target`` picks the module for a connection URL."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote as url_quote
from urllib.parse import unquote, urlsplit, urlunsplit

from impex.targets.base import TargetError, TargetSession
from impex.urls import masked, passwords_in, redact_url

__all__ = ["Connection", "Secrets", "open_target", "redact_url", "sqlite_path", "with_password"]


@dataclass(frozen=True)
class Connection:
    """A target URL plus its password, kept apart so that the URL can be shown and the password never is."""

    url: str
    password: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return redact_url(self.url)


class Secrets:
    """A connection's passwords, masked in any message of its driver that might quote them."""

    def __init__(self, url: str, password: str | None) -> None:
        self._values = ([password] if password else []) + passwords_in(url)

    def masked(self, error: object) -> str:
        return masked(str(error).strip(), self._values)


def with_password(url: str, password: str | None) -> str:
    """The URL with ``password`` in its user part (for the driver only; never shown)."""
    if password is None:
        return url
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    user = url_quote(unquote(parts.username or ""), safe="")
    netloc = f"{user}:{url_quote(password, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def sqlite_path(url: str) -> str:
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise TargetError(f"not a SQLite URL: {url!r} (expected sqlite:///path/to/file.db)")
    return url[len(prefix) :]


def open_target(connection: str | Connection) -> TargetSession:
    """Open the target a URL (or a named connection resolved by the engine) points at."""
    conn = connection if isinstance(connection, Connection) else Connection(connection)
    url = conn.url
    if url.startswith("sqlite:"):
        from impex.targets.sqlite import SqliteTarget

        return SqliteTarget(sqlite_path(url))
    if url.startswith(("postgresql:", "postgres:")):
        from impex.targets.postgres import PostgresTarget

        return PostgresTarget(url, conn.password)
    scheme = url.split(":", 1)[0]
    raise TargetError(f"unsupported target database {scheme!r} (supported: sqlite, postgresql)")
