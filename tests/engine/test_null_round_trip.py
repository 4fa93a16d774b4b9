"""A table holding NULLs, and texts and numbers that read like the null value, exported then imported
into a new table: the tables are equal. A NULL is written bare, a value equal to the null value
quoted, and the import reads a quoted field as the value, a bare one as NULL (PostgreSQL's COPY
convention). On real SQLite files and a real PostgreSQL server, through the engine."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from impex.domain.status import S
from impex.settings import load_settings
from pg_support import fresh_schema, sql_runner
from support import define, pause_once_and_meddle, rejects, run_job, write

MARKERS = ["NULL", "0", "", "true"]
NOTES = [None, "NULL", "", "0", "true", "x, y", 'say "0"']
NUMBERS = [None, 0, 1, -1, 0, 10]
REALS = [None, 0.0, 1.5, 0.0, -2.25]
FLAGS = [None, True, False]
DAYS = [None, date(2024, 1, 2), date(1999, 12, 31), None]
COLUMNS = [
    {"name": "id", "type": "integer"},
    {"name": "note"},
    {"name": "n", "type": "integer"},
    {"name": "r", "type": "float"},
    {"name": "ok", "type": "boolean"},
    {"name": "d", "type": "date"},
]


def source_rows(count: int = 30) -> list[tuple[Any, ...]]:
    def pick(values: list[Any], i: int) -> Any:
        return values[i % len(values)]

    return [
        (i, pick(NOTES, i), pick(NUMBERS, i), pick(REALS, i), pick(FLAGS, i), pick(DAYS, i))
        for i in range(1, count + 1)
    ]


@dataclass
class Database:
    """A target and source database as the specs need it: its connection's name, the settings that
    name it, and a way to run SQL (a query's rows)."""

    connection: str
    settings: Any
    run: Callable[..., list[tuple[Any, ...]]]
    ddl: str

    def fill(self, rows: list[tuple[Any, ...]]) -> None:
        self.run(f"CREATE TABLE t {self.ddl}")
        for row in rows:
            marks = ", ".join(["?" if self.connection == "default" else "%s"] * len(row))
            self.run(f"INSERT INTO t VALUES ({marks})", row)

    def rows(self, table: str) -> list[tuple[Any, ...]]:
        return self.run(f"SELECT id, note, n, r, ok, d FROM {table} ORDER BY id")


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, settings, data_dir: Path, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":

        def run_sqlite(query: str, params: Any = ()) -> list[tuple[Any, ...]]:
            with sqlite3.connect(data_dir / "data.db") as c:
                return c.execute(query, params).fetchall()

        ddl = "(id INTEGER PRIMARY KEY, note TEXT, n INTEGER, r REAL, ok BOOLEAN, d DATE)"
        # SQLite keeps a date as its ISO text, a boolean as 0 or 1
        yield Database("default", settings, run_sqlite, ddl)
        return
    with fresh_schema() as url, sql_runner(url) as run_pg:
        connections = write(tmp_path / "connections.yaml", f"pg: {url}\n")
        overrides = {"data_dir": str(data_dir), "progress_seconds": 0.0, "connections_file": str(connections)}
        pg_settings = load_settings(overrides, env={})
        ddl = "(id int PRIMARY KEY, note text, n int, r float8, ok boolean, d date)"
        yield Database("pg", pg_settings, lambda q, p=None: run_pg(q, p) or [], ddl)


def export(db: Database, out: Path, fmt: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "kind": "export",
        "name": "nulls out",
        "source": {"connection": db.connection, "table": "t"},
        "output": str(out),
        "format": fmt,
        **fields,
    }


def import_back(db: Database, source: Path, marker: str, **fields: Any) -> dict[str, Any]:
    target = {"connection": db.connection, "table": "back"}
    return define(
        source=str(source), target=target, columns=COLUMNS, format={"null_values": [marker]}, **fields
    )


def journal_error(store, job_id: int) -> str:
    return next(line for line in store.journal_lines(job_id) if line.code == "run.error").params["error"]


@pytest.mark.parametrize("quoting", ["minimal", "all"])
@pytest.mark.parametrize("marker", MARKERS)
def test_nulls_and_values_that_read_like_the_null_value_survive_an_export_and_an_import(
    store, db, tmp_path, marker, quoting
):
    db.fill(source_rows())
    out = tmp_path / "out.csv"
    status, job_id = run_job(store, db.settings, export(db, out, {"null_value": marker, "quoting": quoting}))
    assert status is S.FINISHED, journal_error(store, job_id)
    status, job_id = run_job(store, db.settings, import_back(db, out, marker, chunk_rows=4))
    assert status is S.FINISHED
    assert rejects(store, job_id) == []
    assert db.rows("back") == db.rows("t")


def test_a_number_written_as_the_null_value_is_quoted_and_a_null_bare(store, db, tmp_path):
    db.fill([(1, "NULL", 0, 0.0, False, None), (2, None, None, None, None, None)])
    out = tmp_path / "out.csv"
    assert run_job(store, db.settings, export(db, out, {"null_value": "0"}))[0] is S.FINISHED
    false = '"0"' if db.connection == "default" else "false"  # SQLite keeps a boolean as 0 or 1
    first = f'1,NULL,"0",0.0,{false},0'
    assert out.read_text().splitlines() == ["id,note,n,r,ok,d", first, "2,0,0,0,0,0"]


@pytest.mark.parametrize("marker", ["0", "2024-01-02"])
def test_quoting_none_refuses_a_value_written_as_the_null_value_and_leaves_no_file(
    store, db, tmp_path, marker
):
    db.fill(
        [(1, "x", 5, 1.5, None, None), (2, None, None, None, None, None), (3, "y", 0, 2.5, True, DAYS[1])]
    )
    out = tmp_path / "out.csv"
    fmt = {"quoting": "none", "null_value": marker}
    status, job_id = run_job(store, db.settings, export(db, out, fmt, chunk_rows=2))
    assert status is S.FINISHED_WITH_ERRORS
    column = "n" if marker == "0" else "d"
    assert journal_error(store, job_id) == (
        f"row 3, column {column}: '{marker}' is the null value, which quoting 'none' would write as a "
        "null (the file would not read back): use quoting 'minimal'"
    )
    assert not list(tmp_path.glob("out.csv*"))


@pytest.mark.parametrize("marker", ["NULL", "0", ""])
def test_an_export_and_an_import_paused_midway_then_resumed_give_the_same_bytes_and_rows(
    store, db, tmp_path, marker
):
    db.fill(source_rows(60))
    reference, out = tmp_path / "reference.csv", tmp_path / "out.csv"
    fmt = {"null_value": marker}
    assert run_job(store, db.settings, export(db, reference, fmt, chunk_rows=7))[0] is S.FINISHED
    pause_once_and_meddle(store, db.settings, export(db, out, fmt, chunk_rows=7), lambda: None)
    assert out.read_bytes() == reference.read_bytes()
    job_id = pause_once_and_meddle(
        store, db.settings, import_back(db, out, marker, chunk_rows=7), lambda: None
    )
    assert len(store.runs_of(job_id)) == 1 and rejects(store, job_id) == []
    assert db.rows("back") == db.rows("t")
