"""Timestamps with and without a UTC offset, imported and exported, on a real PostgreSQL whose session
time zone is not UTC (set by the connection's URL, as a server, role or database setting would) and
on SQLite.

Into a ``timestamptz`` column a value read with its offset lands as that exact moment, whatever the
session's zone; a value without one is read in the session's zone, as PostgreSQL's own COPY reads it.
Into a ``timestamp`` column (and into SQLite) a value with an offset is its moment in UTC, offset
dropped. An export writes a ``timestamptz`` value in UTC with its offset (+00:00), so that an import
reads back the same moment; other time types come out as PostgreSQL writes them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from impex.domain.status import S
from impex.settings import load_settings
from pg_support import fresh_named_schema
from support import define, pause_once_and_meddle, rejects, run_job, write

WITH_OFFSET = "%Y-%m-%dT%H:%M:%S%.f%z"
MOMENTS = [  # (text in the file, the moment in UTC)
    ("2024-01-05T10:30:00Z", "2024-01-05 10:30:00"),
    ("2024-01-05T10:30:00.25+02:00", "2024-01-05 08:30:00.25"),
    ("2024-01-05T23:30:00-0130", "2024-01-06 01:00:00"),
    ("2024-07-05T10:30:00+05", "2024-07-05 05:30:00"),
    ("2024-03-31T01:59:59.999999+00:00", "2024-03-31 01:59:59.999999"),  # Berlin: just before 03:00
]


@dataclass
class Postgres:
    """A fresh schema reached through connection ``pg``, whose session zone is ``zone``; ``sql`` runs
    SQL in a session of that zone too."""

    zone: str
    url: str
    settings: Any
    sql: Callable[..., list[tuple[Any, ...]]]

    def utc(self, table: str, column: str = "at") -> list[tuple[Any, ...]]:
        """The table's ids and the column's moments as UTC text."""
        return self.sql(f"SELECT id, ({column} AT TIME ZONE 'UTC')::text FROM {table} ORDER BY id")


def postgres_in(zone: str, data_dir: Path, tmp_path: Path) -> Iterator[Postgres]:
    with fresh_named_schema() as (_, url):
        url = f"{url}%20-cTimeZone%3D{zone}"  # one more option: the session's time zone
        connections = write(tmp_path / "connections.yaml", f"pg: {url}\n")
        overrides = {"data_dir": str(data_dir), "progress_seconds": 0.0, "connections_file": str(connections)}
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SELECT current_setting('TimeZone')").fetchone() == (zone,)

            def run(query: str, params: Any = None) -> list[tuple[Any, ...]]:
                cur = conn.execute(query, params)
                return cur.fetchall() if cur.description else []

            yield Postgres(zone, url, load_settings(overrides, env={}), run)


@pytest.fixture(params=["Europe/Berlin", "America/St_Johns"])  # +01/+02, and -03:30/-02:30
def pg(request, data_dir: Path, tmp_path: Path) -> Iterator[Postgres]:
    yield from postgres_in(request.param, data_dir, tmp_path)


@pytest.fixture
def berlin(data_dir: Path, tmp_path: Path) -> Iterator[Postgres]:
    yield from postgres_in("Europe/Berlin", data_dir, tmp_path)


def moments_file(tmp_path: Path, values: list[str], name: str = "moments.csv") -> Path:
    return write(tmp_path / name, "id,at\n" + "".join(f"{i},{v}\n" for i, v in enumerate(values, 1)))


def import_moments(source: Path, table: str = "moments", connection: str = "pg", **fields: Any) -> dict:
    columns = [{"name": "id", "type": "integer"}, {"name": "at", "type": "timestamp"}]
    fields.setdefault("format", {"timestamp_format": WITH_OFFSET})
    return define(
        source=str(source), target={"table": table, "connection": connection}, columns=columns, **fields
    )


def finished(store, settings, definition: dict[str, Any]) -> int:
    status, job_id = run_job(store, settings, definition)
    errors = [line.params for line in store.journal_lines(job_id) if line.code == "run.error"]
    assert status is S.FINISHED, errors
    return job_id


# Imports into timestamptz


@pytest.mark.parametrize(
    "how",
    [
        {},
        {"commit": "atomic"},
        # through a temporary table: rows 1 to 3 are there, the others are not
        {"reconciliation": {"keys": ["id"], "operation": "insert_or_update"}},
        {"reconciliation": {"keys": ["id"], "operation": "update"}},  # every row is there
    ],
    ids=["insert", "atomic", "insert_or_update", "update"],
)
def test_a_value_with_an_offset_lands_in_a_timestamptz_column_as_that_moment_whatever_the_session_zone(
    store, pg, tmp_path, how
):
    pg.sql("CREATE TABLE moments (id bigint PRIMARY KEY, at timestamptz)")
    there = {"insert_or_update": 3, "update": 6}.get(how.get("reconciliation", {}).get("operation"), 0)
    pg.sql(f"INSERT INTO moments SELECT i, now() FROM generate_series(1, {there}) i")
    source = moments_file(tmp_path, [text for text, _ in MOMENTS] + [""])
    finished(store, pg.settings, import_moments(source, **how))
    assert pg.utc("moments") == [(i, utc) for i, (_, utc) in enumerate(MOMENTS, 1)] + [(6, None)]


def test_a_key_with_an_offset_finds_its_row_in_a_timestamptz_column(store, pg, tmp_path):
    pg.sql("CREATE TABLE moments (id bigint, at timestamptz PRIMARY KEY)")
    pg.sql("INSERT INTO moments VALUES (0, '2024-01-05 10:30:00Z'), (0, '2024-07-05 05:30:00Z')")
    # the same moments, with other offsets: the rows are updated, not inserted again
    source = moments_file(tmp_path, ["2024-01-05T11:30:00+01:00", "2024-07-05T10:30:00+05:00"])
    job = import_moments(source, reconciliation={"keys": ["at"], "operation": "update"})
    finished(store, pg.settings, job)
    assert pg.utc("moments") == [(1, "2024-01-05 10:30:00"), (2, "2024-07-05 05:30:00")]


def test_a_value_without_an_offset_is_read_in_the_session_zone_as_copy_reads_it(store, pg, tmp_path):
    values = ["2024-01-05 10:30:00", "2024-07-05 10:30:00.5", "2024-03-31 02:30:00"]  # winter, summer
    pg.sql("CREATE TABLE moments (id bigint PRIMARY KEY, at timestamptz)")
    pg.sql("CREATE TABLE copied (id bigint PRIMARY KEY, at timestamptz)")
    source = moments_file(tmp_path, values)
    copy_csv = "COPY copied FROM STDIN (FORMAT csv, HEADER)"
    with psycopg.connect(pg.url) as conn, conn.cursor().copy(copy_csv) as copy:
        copy.write(source.read_bytes())
    finished(store, pg.settings, import_moments(source, format={}))
    assert pg.utc("moments") == pg.utc("copied")
    assert pg.sql("SELECT count(*) FROM moments JOIN copied USING (id, at)") == [(3,)]
    if pg.zone == "Europe/Berlin":
        assert pg.utc("moments")[:2] == [(1, "2024-01-05 09:30:00"), (2, "2024-07-05 08:30:00.5")]


def test_a_value_with_an_offset_is_its_utc_moment_in_a_timestamp_without_time_zone(store, pg, tmp_path):
    pg.sql("CREATE TABLE given (id bigint PRIMARY KEY, at timestamp)")
    source = moments_file(tmp_path, [text for text, _ in MOMENTS])
    for table in ("given", "created"):  # impex creates 'timestamp without time zone'
        finished(store, pg.settings, import_moments(source, table))
        assert pg.sql(f"SELECT id, at::text FROM {table} ORDER BY id") == [
            (i, utc) for i, (_, utc) in enumerate(MOMENTS, 1)
        ]
    assert pg.sql("SELECT pg_typeof(at)::text FROM created LIMIT 1") == [("timestamp without time zone",)]


def test_a_value_with_an_offset_is_its_utc_moment_in_sqlite(store, settings, data_dir, tmp_path):
    source = moments_file(tmp_path, [text for text, _ in MOMENTS])
    finished(store, settings, import_moments(source, connection="default"))
    with sqlite3.connect(data_dir / "data.db") as c:
        stored = c.execute("SELECT id, at FROM moments ORDER BY id").fetchall()
    # SQLite's text: whole milliseconds or microseconds, as impex writes a fraction
    assert stored == [
        (1, "2024-01-05 10:30:00"),
        (2, "2024-01-05 08:30:00.250"),
        (3, "2024-01-06 01:00:00"),
        (4, "2024-07-05 05:30:00"),
        (5, "2024-03-31 01:59:59.999999"),
    ]


@pytest.mark.parametrize("commit", ["incremental", "atomic"])
def test_a_row_the_database_refuses_leaves_the_other_moments_exact(store, berlin, tmp_path, commit):
    berlin.sql("CREATE TABLE moments (id bigint PRIMARY KEY, at timestamptz CHECK (at < '2024-06-01Z'))")
    source = moments_file(tmp_path, [text for text, _ in MOMENTS])
    job_id = finished(store, berlin.settings, import_moments(source, commit=commit))
    assert [r[:3] for r in rejects(store, job_id)] == [(4, 5, "constraint")]
    assert berlin.utc("moments") == [(i, utc) for i, (_, utc) in enumerate(MOMENTS, 1) if i != 4]


def moments_with_a_double(offsets: bool) -> list[str]:
    """Twenty moments a day apart, the 15th the 3rd again (with another offset, if offsets)."""
    values = [f"2024-03-{d:02d}T10:15:00+00:00" for d in range(1, 21)]
    if not offsets:
        values = [v.replace("T", " ").removesuffix("+00:00") for v in values]
    values[14] = "2024-03-03T11:15:00+01:00" if offsets else values[2]
    return values


@pytest.mark.parametrize("offsets", [True, False], ids=["offsets", "no offsets"])
def test_an_import_paused_midway_and_resumed_gives_the_rows_and_rejects_of_a_run_never_paused(
    store, berlin, tmp_path, offsets
):
    source = moments_file(tmp_path, moments_with_a_double(offsets))
    fmt = {"timestamp_format": WITH_OFFSET} if offsets else {}
    # the moment is the key: after the pause, the run knows the moments it applied by reading the table
    rules = {"keys": ["at"], "doubles": "reject"}
    for table in ("whole", "paused"):
        berlin.sql(f"CREATE TABLE {table} (id bigint, at timestamptz)")
    job = import_moments(source, "whole", format=fmt, reconciliation=rules, chunk_rows=4)
    whole = finished(store, berlin.settings, job)
    job = import_moments(source, "paused", format=fmt, reconciliation=rules, chunk_rows=4)
    paused = pause_once_and_meddle(store, berlin.settings, job, lambda: None)
    assert [r[:3] for r in rejects(store, whole)] == [(15, 16, "double")]
    assert rejects(store, paused) == rejects(store, whole)
    assert berlin.utc("paused") == berlin.utc("whole")
    assert len(berlin.utc("whole")) == 19
