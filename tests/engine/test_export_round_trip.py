"""Property: a table of hostile values (delimiters, quotes, line breaks, spaces, marks and emoji,
empty texts beside NULLs, 64-bit limits, -0.0 and extreme floats, dates and timestamps) exported
in any of the export's formats, then imported back with the same format, gives the same table:
on a real SQLite file and a real PostgreSQL server. Where the encoding cannot hold a text, the
export stops naming its row, column and value, and no file appears."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from impex.domain.status import S
from impex.formats.sniff import utf8_misread
from impex.settings import load_settings
from pg_support import fresh_schema, sql_runner
from support import define, rejects, run_job, write

COLUMNS = [
    {"name": "id", "type": "integer"},
    {"name": "s"},
    {"name": "i", "type": "integer"},
    {"name": "f", "type": "float"},
    {"name": "b", "type": "boolean"},
    {"name": "d", "type": "date"},
    {"name": "ts", "type": "timestamp"},
]
HOSTILE = list(",;\t|\"'\r\n xa\u0301é€😀\u05d0\u200fNUL\\")
texts = st.one_of(
    st.none(),
    st.just(""),
    st.text(st.sampled_from(HOSTILE), max_size=12),
    st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=8),  # see "left alone" in the report
)
integers = st.one_of(st.none(), st.sampled_from([-(2**63), 2**63 - 1, 0]), st.integers(-(2**63), 2**63 - 1))
floats = st.one_of(
    st.none(), st.sampled_from([-0.0, 1e300, -1e-300, 5e-324, 0.1, 2.0**53 + 1]), st.floats(allow_nan=False)
)
dates = st.one_of(st.none(), st.dates(date(1, 1, 1), date(9999, 12, 31)))
moments = st.one_of(
    st.none(),
    st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59)).map(
        lambda m: m.replace(microsecond=0)
    ),
    st.datetimes(datetime(1800, 1, 1), datetime(2200, 1, 1)).filter(lambda m: m.microsecond % 10),
)
rows = st.lists(
    st.tuples(texts, integers, floats, st.one_of(st.none(), st.booleans()), dates, moments),
    min_size=1,
    max_size=6,
)
formats = st.fixed_dictionaries(
    {
        "delimiter": st.sampled_from([",", ";", "\t", "|"]),
        "quoting": st.sampled_from(["minimal", "all"]),
        "header": st.booleans(),
        "encoding": st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"]),
        "line_ending": st.sampled_from(["lf", "crlf"]),
        "gzip": st.booleans(),
        "null_value": st.sampled_from(["", "NULL", "\\N"]),
        "decimal_separator": st.sampled_from([".", ","]),
        "date_format": st.sampled_from(["%Y-%m-%d", "%d.%m.%Y", "%Y%m%d"]),
        "timestamp_format": st.sampled_from(
            ["%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.6f"]
        ),
    }
)


@dataclass
class Database:
    connection: str
    settings: Any
    run: Callable[..., list[tuple[Any, ...]]]
    ddl: str
    marks: str

    def fill(self, values: list[tuple[Any, ...]]) -> None:
        for table in ("t", "back"):
            self.run(f"DROP TABLE IF EXISTS {table}")
        self.run(f"CREATE TABLE t {self.ddl}")
        for number, row in enumerate(values, 1):
            self.run(f"INSERT INTO t VALUES ({', '.join([self.marks] * 7)})", (number, *self.stored(row)))

    def stored(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        """As the database keeps it: SQLite a date and a timestamp as impex's import writes them."""
        if self.connection != "default":
            return row
        *rest, day, moment = row
        text = (
            None
            if moment is None
            else moment.isoformat(" ", "microseconds" if moment.microsecond else "seconds")
        )
        return (*rest, day and day.isoformat(), text)

    def rows(self, table: str) -> list[tuple[Any, ...]]:
        return self.run(f"SELECT * FROM {table} ORDER BY id")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def db(request, tmp_path_factory) -> Iterator[Database]:
    data_dir = tmp_path_factory.mktemp("round-trip")
    overrides: dict[str, Any] = {"data_dir": str(data_dir), "progress_seconds": 0.0}
    if request.param == "sqlite":

        def run_sqlite(query: str, params: Any = ()) -> list[tuple[Any, ...]]:
            with sqlite3.connect(data_dir / "data.db") as c:
                return c.execute(query, params).fetchall()

        ddl = "(id INTEGER PRIMARY KEY, s TEXT, i INTEGER, f REAL, b BOOLEAN, d DATE, ts TIMESTAMP)"
        yield Database("default", load_settings(overrides, env={}), run_sqlite, ddl, "?")
        return
    with fresh_schema() as url, sql_runner(url) as run_pg:
        overrides["connections_file"] = str(write(data_dir / "connections.yaml", f"pg: {url}\n"))
        ddl = "(id int8 PRIMARY KEY, s text, i int8, f float8, b boolean, d date, ts timestamp)"
        yield Database(
            "pg", load_settings(overrides, env={}), lambda q, p=None: run_pg(q, p) or [], ddl, "%s"
        )


def unencodable(values: list[tuple[Any, ...]], encoding: str) -> tuple[int, str, str] | None:
    """The first row number, text and character ``encoding`` cannot hold, if any."""
    for number, row in enumerate(values, 1):
        text = row[0]
        for character in text or "":
            try:
                character.encode(encoding)
            except UnicodeEncodeError:
                return number, text, character
    return None


def import_back(db: Database, out: Path, fmt: dict[str, Any]) -> dict[str, Any]:
    columns = COLUMNS if fmt["header"] else [{**c, "source": n} for n, c in enumerate(COLUMNS, 1)]
    kept = ("delimiter", "encoding", "header", "decimal_separator", "date_format", "timestamp_format")
    read = {key: fmt[key] for key in kept} | {"null_values": [fmt["null_value"]], "trim": False}
    target = {"connection": db.connection, "table": "back"}
    return define(source=str(out), target=target, columns=columns, format=read)


def journal_error(store, job_id: int) -> str:
    return next(line for line in store.journal_lines(job_id) if line.code == "run.error").params["error"]


@hypothesis_settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(values=rows, fmt=formats)
def test_a_table_of_hostile_values_survives_an_export_and_an_import_in_any_format(
    db, store, tmp_path_factory, values, fmt
):
    db.fill(values)
    folder = tmp_path_factory.mktemp("files")
    out = folder / "out.csv"
    source = {"connection": db.connection, "table": "t"}
    export = {"kind": "export", "name": "round trip", "source": source, "output": str(out), "format": fmt}
    status, job_id = run_job(store, db.settings, export)
    refused = unencodable(values, fmt["encoding"])
    if refused is not None:
        row, text, character = refused
        assert status is S.FINISHED_WITH_ERRORS
        assert journal_error(store, job_id).startswith(f"row {row}, column s: {text!r} holds {character!r}")
        assert list(folder.iterdir()) == []
        return
    assert status is S.FINISHED, journal_error(store, job_id)
    status, job_id = run_job(store, db.settings, import_back(db, out, fmt))
    single_byte = fmt["encoding"] in ("cp1252", "latin-1")
    if single_byte and utf8_misread(out.read_bytes(), fmt["encoding"]) is not None:
        # The file's bytes are UTF-8 text too ('Â\xa0' in cp1252 is a no-break space in UTF-8): the
        # import refuses the single-byte encoding given for it, as it refuses the usual mix-up.
        assert "but the text is UTF-8" in journal_error(store, job_id)
        return
    assert status is S.FINISHED, journal_error(store, job_id)
    assert rejects(store, job_id) == []
    assert db.rows("back") == db.rows("t")
