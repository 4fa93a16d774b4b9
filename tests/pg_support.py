"""A fresh PostgreSQL schema per test, on the server of IMPEX_TEST_POSTGRES_URL (default: the local
test server, which `scripts/test` starts when it is down)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from impex.store.connect import sqlalchemy_url
from impex.urls import redact_url

POSTGRES_URL = os.environ.get("IMPEX_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def fresh_schema(base_url: str = POSTGRES_URL) -> Iterator[str]:
    """Yield a store URL whose search_path is a new, empty schema; drop the schema afterwards."""
    with fresh_named_schema(base_url) as (_, url):
        yield url


@contextmanager
def fresh_named_schema(base_url: str = POSTGRES_URL) -> Iterator[tuple[str, str]]:
    """Yield a new, empty schema's name and a URL whose search_path is it; drop it afterwards."""
    name = f"impex_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(sqlalchemy_url(base_url), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    try:
        with admin.connect() as c:
            c.exec_driver_sql(f"CREATE SCHEMA {name}")
    except sa.exc.OperationalError as error:
        admin.dispose()
        pytest.fail(
            f"PostgreSQL is not reachable at {redact_url(base_url)} ({error.orig}); scripts/test starts it"
        )
    separator = "&" if "?" in base_url else "?"
    try:
        yield name, f"{base_url}{separator}options=-csearch_path%3D{name}"
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP SCHEMA {name} CASCADE")
        admin.dispose()


Rows = list[tuple[Any, ...]]


@contextmanager
def sql_runner(url: str = POSTGRES_URL, *, schema: str | None = None) -> Iterator[Callable[..., Rows | None]]:
    """Run SQL on the test server (autocommit), in ``schema`` when given: a query's rows, else None."""
    conn = psycopg.connect(url, autocommit=True, **({"options": f"-csearch_path={schema}"} if schema else {}))

    def run(query: str, params: Any = None) -> Rows | None:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else None

    try:
        yield run
    finally:
        conn.close()
