"""Target databases. ``open_target`` picks the module for a connection URL."""

from __future__ import annotations

from impex.targets.base import TargetError, TargetSession


def sqlite_path(url: str) -> str:
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise TargetError(f"not a SQLite URL: {url!r} (expected sqlite:///path/to/file.db)")
    return url[len(prefix) :]


def open_target(url: str) -> TargetSession:
    if url.startswith("sqlite:"):
        from impex.targets.sqlite import SqliteTarget

        return SqliteTarget(sqlite_path(url))
    scheme = url.split(":", 1)[0]
    raise TargetError(f"unsupported target database {scheme!r} (supported: sqlite)")
