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


def zone_lines(store, job_id: int) -> list[dict[str, Any]]:
    return [line.params for line in store.journal_lines(job_id) if line.code == "run.time_zone"]


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
    job_id = finished(store, pg.settings, import_moments(source, **how))
    assert zone_lines(store, job_id) == []  # no value was read in the session's zone
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
    job_id = finished(store, pg.settings, import_moments(source, format={}))
    # and the journal says so, naming the zone
    assert zone_lines(store, job_id) == [{"columns": "at", "zone": pg.zone}]
    assert pg.utc("moments") == pg.utc("copied")
    assert pg.sql("SELECT count(*) FROM moments JOIN copied USING (id, at)") == [(3,)]
    if pg.zone == "Europe/Berlin":
        assert pg.utc("moments")[:2] == [(1, "2024-01-05 09:30:00"), (2, "2024-07-05 08:30:00.5")]
    # into a timestamp without time zone they go as written, and the journal has nothing to say
    job_id = finished(store, pg.settings, import_moments(source, "created", format={}))
    assert zone_lines(store, job_id) == []
    assert pg.sql("SELECT id, at::text FROM created ORDER BY id") == list(enumerate(values, 1))


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


# Exports


def export(out: Path, source: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    source = {"connection": "pg", **(source or {"table": "t"})}
    return {"kind": "export", "name": "moments out", "source": source, "output": str(out), **fields}


TIME_TYPES = (
    "CREATE TABLE t (id int PRIMARY KEY, at timestamptz, ts timestamp, d date, tm time, tz timetz, "
    "i interval)"
)
TIME_VALUES = (
    "INSERT INTO t VALUES "
    "(1, '2024-01-05 10:30:00Z', '2024-01-05 10:30:00.5', '2024-01-05', '10:30:00.5', '10:30:00+02', "
    "'1 day 02:00:00'), "
    "(2, '2024-07-05 08:30:00.25-02:30', '1999-12-31 23:59:59', '0001-01-01', '23:59:59', '23:59:59-03:30', "
    "'-3 mons 00:00:00.000001'), "
    "(3, NULL, NULL, NULL, NULL, NULL, NULL)"
)


def test_an_export_writes_a_timestamptz_in_utc_with_its_offset_and_other_time_types_as_they_are(
    store, pg, tmp_path
):
    pg.sql(TIME_TYPES)
    pg.sql(TIME_VALUES)
    out = tmp_path / "out.csv"
    finished(store, pg.settings, export(out))
    assert out.read_text().splitlines() == [
        "id,at,ts,d,tm,tz,i",
        "1,2024-01-05 10:30:00+00:00,2024-01-05 10:30:00.500,2024-01-05,10:30:00.5,10:30:00+02,"
        "1 day 02:00:00",
        "2,2024-07-05 11:00:00.250+00:00,1999-12-31 23:59:59,0001-01-01,23:59:59,23:59:59-03:30,"
        "-3 mons +00:00:00.000001",
        "3,,,,,,",
    ]
    # the time types as PostgreSQL writes them
    assert pg.sql("SELECT tm::text, tz::text, i::text FROM t WHERE id = 2") == [
        ("23:59:59", "23:59:59-03:30", "-3 mons +00:00:00.000001")
    ]


def test_a_timestamp_format_with_an_offset_writes_the_offset_of_timestamptz_values_only(store, pg, tmp_path):
    pg.sql(TIME_TYPES)
    pg.sql(TIME_VALUES)
    out = tmp_path / "out.csv"
    fmt = {"timestamp_format": "%d.%m.%Y %H:%M%z"}
    finished(store, pg.settings, export(out, {"table": "t", "columns": ["id", "at", "ts"]}, format=fmt))
    assert out.read_text().splitlines() == [
        "id,at,ts",
        "1,05.01.2024 10:30+0000,05.01.2024 10:30",  # a timestamp without a zone has no offset to write
        "2,05.07.2024 11:00+0000,31.12.1999 23:59",
        "3,,",
    ]


def wide_moments(sql: Callable[..., Any], table: str = "t", rows: int = 200) -> None:
    """Moments keyed by themselves: about 7 hours and some microseconds apart, across DST changes."""
    sql(f"CREATE TABLE {table} (at timestamptz PRIMARY KEY, ts timestamp, d date, n int)")
    sql(
        f"INSERT INTO {table} SELECT m, m AT TIME ZONE 'Asia/Kolkata', m::date, i FROM ("
        "SELECT i, timestamptz '2024-03-01 00:00:00.123456Z' "
        "+ i * interval '7 hours 13 seconds 7 microseconds' m "
        f"FROM generate_series(1, {rows}) i) s ORDER BY md5(i::text)"
    )


def test_an_export_and_an_import_paused_midway_give_back_the_same_moments(store, pg, tmp_path):
    wide_moments(pg.sql)
    reference, out = tmp_path / "reference.csv", tmp_path / "out.csv"
    finished(store, pg.settings, export(reference, chunk_rows=30))
    # the resume reads on after the last moment written (its key): the same bytes
    pause_once_and_meddle(store, pg.settings, export(out, chunk_rows=30), lambda: None)
    assert out.read_bytes() == reference.read_bytes()
    assert out.read_text().splitlines()[1].startswith("2024-03-01 07:00:13.123463+00:00,")
    pg.sql("CREATE TABLE back (at timestamptz PRIMARY KEY, ts timestamp, d date, n int)")
    columns = [
        {"name": "at", "type": "timestamp"},
        {"name": "ts", "type": "timestamp"},
        {"name": "d", "type": "date"},
        {"name": "n", "type": "integer"},
    ]
    # one timestamp format a file: the timestamps without a zone go back as text, as they came out
    columns[1]["type"] = "string"
    job = define(
        source=str(out),
        target={"table": "back", "connection": "pg"},
        columns=columns,
        format={"timestamp_format": "%Y-%m-%d %H:%M:%S%.f%z"},
        reconciliation={"keys": ["at"], "doubles": "reject"},
        chunk_rows=30,
    )
    job_id = pause_once_and_meddle(store, pg.settings, job, lambda: None)
    assert rejects(store, job_id) == []
    same = "SELECT count(*) FROM t JOIN back USING (at, ts, d, n)"
    assert pg.sql(same) == [(200,)] and pg.sql("SELECT count(*) FROM back") == [(200,)]


def test_timestamps_without_a_zone_and_dates_come_out_unchanged_and_import_back(store, berlin, tmp_path):
    wide_moments(berlin.sql)
    out = tmp_path / "out.csv"
    finished(store, berlin.settings, export(out, {"table": "t", "columns": ["n", "ts", "d"]}))
    assert out.read_text().splitlines()[1] == "1,2024-03-01 12:30:13.123463,2024-03-01"
    columns = [
        {"name": "n", "type": "integer"},
        {"name": "ts", "type": "timestamp"},
        {"name": "d", "type": "date"},
    ]
    job = define(source=str(out), target={"table": "back", "connection": "pg"}, columns=columns)
    finished(store, berlin.settings, job)
    assert berlin.sql("SELECT count(*) FROM t JOIN back USING (n, ts, d)") == [(200,)]


def test_on_sqlite_moments_paused_midway_and_resumed_are_stored_and_exported_as_never_paused(
    store, settings, data_dir, tmp_path
):
    source = moments_file(tmp_path, moments_with_a_double(offsets=True))
    with sqlite3.connect(data_dir / "data.db") as c:  # declared TIMESTAMP: an export formats it
        c.executescript(
            "CREATE TABLE whole (id INTEGER, at TIMESTAMP); CREATE TABLE paused (id INTEGER, at TIMESTAMP);"
        )
    rules = {"keys": ["at"], "doubles": "reject"}
    whole = finished(
        store, settings, import_moments(source, "whole", "default", reconciliation=rules, chunk_rows=4)
    )
    job = import_moments(source, "paused", "default", reconciliation=rules, chunk_rows=4)
    paused = pause_once_and_meddle(store, settings, job, lambda: None)
    assert [r[:3] for r in rejects(store, paused)] == [(15, 16, "double")]
    with sqlite3.connect(data_dir / "data.db") as c:
        assert (
            c.execute("SELECT * FROM paused ORDER BY id").fetchall()
            == c.execute("SELECT * FROM whole ORDER BY id").fetchall()
        )
        assert c.execute("SELECT at FROM paused WHERE id = 3").fetchall() == [("2024-03-03 10:15:00",)]
    assert rejects(store, whole) == rejects(store, paused)
    reference, out = tmp_path / "reference.csv", tmp_path / "out.csv"
    # SQLite keeps no zone: a format with an offset writes the UTC time without one
    fmt = {"timestamp_format": "%d.%m.%Y %H:%M:%S%z"}
    source_table = {"connection": "default", "table": "paused"}
    finished(store, settings, export(reference, source_table, format=fmt, chunk_rows=4))
    pause_once_and_meddle(store, settings, export(out, source_table, format=fmt, chunk_rows=4), lambda: None)
    assert out.read_bytes() == reference.read_bytes()
    assert out.read_text().splitlines()[:2] == ["id,at", "1,01.03.2024 10:15:00"]
