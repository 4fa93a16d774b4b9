"""Named target connections: 'default' is the embedded SQLite data database; others come from
the connections file. Passwords never live in job definitions, and never in a message.

The file is YAML; an entry is a URL, or a URL plus where its password comes from::

    warehouse: sqlite:///warehouse.db
    crm:
      url: postgresql://impex@db.example.com:5432/crm
      password_env: CRM_PASSWORD   # or password_file: secrets/crm (a relative path starts at this file)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from impex.settings import Settings
from impex.targets import Connection, redact_url

__all__ = ["Connection", "UnknownConnection", "connection_names", "connection_url", "redact_url"]


class UnknownConnection(LookupError):
    pass


class BadConnection(ValueError):
    """A connections file entry that cannot be used (its message names no secret)."""


def connection_url(settings: Settings, name: str) -> Connection:
    """The connection named ``name``, its password read now (from the environment or a file)."""
    if name == "default":
        connection = Connection(settings.default_target_url)
    else:
        known = _entries(settings.connections_file)
        if name not in known:
            names = ", ".join(["default", *sorted(known)])
            raise UnknownConnection(f"no connection named {name!r} (known: {names})")
        connection = _resolve(name, known[name], Path(settings.connections_file).parent)
    _not_the_store(settings, name, connection)
    return connection


def _not_the_store(settings: Settings, name: str, connection: Connection) -> None:
    """The store is read through Python's sqlite3, the data through the ADBC driver's own SQLite: two
    libraries that each drop the other's locks on a file they share in one process (closing any
    descriptor of a file drops all the process's POSIX locks on it)."""
    prefix = "sqlite:///"
    if not (connection.url.startswith(prefix) and settings.store_url.startswith(prefix)):
        return
    store = settings.store_url[len(prefix) :]
    if os.path.realpath(connection.url[len(prefix) :]) == os.path.realpath(store):
        raise BadConnection(
            f"connection {name!r} is impex's own store ({store}): give the data a database file of its own"
        )


def connection_names(settings: Settings) -> list[str]:
    """Every connection a job may name: 'default' first, then the connections file's, sorted."""
    return ["default", *sorted(_entries(settings.connections_file))]


def _entries(path: str) -> dict[str, Any]:
    if not path:
        return {}
    loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(loaded, dict):
        raise BadConnection(f"connections file {path}: expected a mapping of name: url")
    return {str(k): v for k, v in loaded.items()}


def _resolve(name: str, entry: Any, base: Path) -> Connection:
    if isinstance(entry, str):
        return Connection(entry)
    if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
        raise BadConnection(f"connection {name!r}: expected a URL, or a mapping with url")
    unknown = set(entry) - {"url", "password_env", "password_file"}
    if unknown:
        raise BadConnection(f"connection {name!r}: unknown field(s) {', '.join(sorted(unknown))}")
    if "password_env" in entry and "password_file" in entry:
        raise BadConnection(f"connection {name!r}: give password_env or password_file, not both")
    return Connection(entry["url"], _password(name, entry, base))


def _password(name: str, entry: dict[str, Any], base: Path) -> str | None:
    if "password_env" in entry:
        var = str(entry["password_env"])
        if var not in os.environ:
            raise BadConnection(f"connection {name!r}: environment variable {var} is not set")
        return os.environ[var]
    if "password_file" in entry:
        path = base / Path(str(entry["password_file"])).expanduser()  # relative to the connections file
        try:
            # One trailing line end is the file's, not the password's (as in Docker secrets).
            return path.read_text(encoding="utf-8").removesuffix("\n").removesuffix("\r")
        except OSError as e:
            raise BadConnection(f"connection {name!r}: cannot read password_file {path}: {e.strerror}") from e
    return None
