"""Opening the metadata store's database: an embedded SQLite file or a PostgreSQL server."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

POSTGRES_SCHEMES = ("postgresql", "postgres")
# Execution option of connections that only read (see ``read_connection``).
READ_ONLY = "impex_read_only"
WAL_SWITCH_SECONDS = 60.0  # as long as a SQLite connection waits for a lock


def is_postgres(url: str) -> bool:
    return url.split(":", 1)[0].split("+", 1)[0] in POSTGRES_SCHEMES


def sqlalchemy_url(url: str) -> sa.URL:
    """``postgresql://…`` (what libpq and users write) means psycopg 3, the driver impex ships with."""
    parsed = sa.make_url(url)
    if parsed.drivername in POSTGRES_SCHEMES:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def create_store_engine(url: str) -> sa.Engine:
    """An engine for the store. SQLite gets WAL, a busy timeout, and BEGIN IMMEDIATE transactions,
    so that several processes (workers, CLI commands) can share one file without upgrade deadlocks.
    PostgreSQL keeps its default READ COMMITTED isolation: the store locks the rows it changes."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    if is_postgres(url):
        return sa.create_engine(
            sqlalchemy_url(url),
            pool_pre_ping=True,
            connect_args={"application_name": "impex", "connect_timeout": 10},
        )
    return sa.create_engine(url, pool_pre_ping=True)


def _sqlite_engine(url: str) -> sa.Engine:
    path = sa.make_url(url).database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": 60})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        _use_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        # SQLite's own lower() changes only A-Z: a search for "über" missed "Überweisungen".
        # PostgreSQL's lower() already knows every letter.
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # A reader needs no write lock: WAL gives it a snapshot, so it neither waits for a writer
        # nor makes one wait (the web's pages and SSE streams poll while workers write).
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _use_wal(cursor: Any) -> None:
    """Switch the file to WAL, once. The switch needs the file to itself and, unlike other waits for
    a lock, SQLite does not wait for it: processes opening a new store at once retry here."""
    deadline = time.monotonic() + WAL_SWITCH_SECONDS
    while cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def read_connection(engine: sa.Engine) -> sa.Connection:
    """A connection for reads only. On SQLite its transactions take no write lock; writing through
    it could fail with "database is locked", so only read."""
    return engine.connect().execution_options(**{READ_ONLY: True})
