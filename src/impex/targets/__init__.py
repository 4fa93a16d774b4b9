"""Target databases. ``open_target`` picks the module for a connection URL."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from impex.targets.base import TargetError, TargetSession

SECRET_PARAMS = {"password", "sslpassword"}


@dataclass(frozen=True)
class Connection:
    """A target URL plus its password, kept apart so that the URL can be shown and the password never is."""

    url: str
    password: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return redact_url(self.url)


def redact_url(url: str) -> str:
    """The URL with any password (in the user part or the query) replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        if ":" in user:
            netloc = f"{user.split(':', 1)[0]}:***@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in SECRET_PARAMS for k, _ in pairs):
            query = urlencode([(k, "***" if k.lower() in SECRET_PARAMS else v) for k, v in pairs])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


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
