"""`impex run JOB --json` against an independent model of reconciliation (tests/reconciliation_model.py):
for a table, a file and the rules, the table, the counters and the rejects are the model's, on SQLite
and on PostgreSQL, in both commit modes, with chunks small enough for doubles to span them."""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import random
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from impex.cli.main import app
from impex.definitions_io import parse_definition
from impex.domain.status import A, S
from impex.engine.execution import Progress
from impex.engine.worker import Worker
from impex.settings import load_settings
from impex.store.store import Store
from pg_support import fresh_named_schema, sql_runner
from reconciliation_model import Outcome, reconciled
from support import IMPEX, wait_until


@dataclass(frozen=True)
class Layout:
    """A table's columns (name, type), its key, and the spellings a file gives each key column."""

    columns: tuple[tuple[str, str], ...]
    keys: tuple[str, ...]
    spellings: tuple[tuple[str, ...], ...]

    @property
    def values(self) -> list[str]:
        return [c for c, _ in self.columns if c not in self.keys]

    @property
    def order(self) -> list[str]:
        return [*self.keys, *self.values]

    def type_of(self, column: str) -> str:
        return dict(self.columns)[column]


LAYOUTS = {
    # ' 1' and '01' are the key 1 once trimmed and cast; '' is a null key
    "integer key": Layout(
        (("id", "integer"), ("v", "string"), ("w", "integer")), ("id",), (("1", " 1", "01", "2", "3", ""),)
    ),
    # 'a', 'A' are two keys; ' a' is 'a' once trimmed
    "text and integer key": Layout(
        (("code", "string"), ("n", "integer"), ("v", "string")),
        ("code", "n"),
        (("a", "A", " a", "b", ""), ("1", "2", "")),
    ),
    "date key": Layout((("d", "date"), ("v", "string")), ("d",), (("2024-01-01", "2024-01-02", ""),)),
}
VALUES = {"string": ("x", "y", ""), "integer": ("1", "2", ""), "date": ("2024-01-01", "")}
OPERATIONS = ["insert", "update", "insert_or_update", "insert_only_new", "delete"]
SQLITE_TYPES = {"integer": "INTEGER", "string": "TEXT", "date": "TEXT"}
PG_TYPES = {"integer": "bigint", "string": "text", "date": "date"}


def parsed(text: str, kind: str) -> Any:
    """A field as the table stores it (the job trims, and takes an empty field for null)."""
    text = text.strip()
    if not text:
        return None
    return int(text) if kind == "integer" else text


@dataclass(frozen=True)
class Case:
    layout: Layout
    table: dict[tuple[Any, ...], tuple[Any, ...]]
    records: list[tuple[list[str], list[str]]]  # each record's key fields and value fields, as written
    reconciliation: dict[str, str]
    commit: str
    chunk_rows: int

    def csv(self) -> str:
        lines = [",".join(self.layout.order), *(",".join(k + v) for k, v in self.records)]
        return "\n".join(lines) + "\n"

    def expected(self) -> Outcome:
        lay = self.layout
        records = [
            (
                tuple(parsed(f, lay.type_of(c)) for f, c in zip(k, lay.keys, strict=True)),
                tuple(parsed(f, lay.type_of(c)) for f, c in zip(v, lay.values, strict=True)),
            )
            for k, v in self.records
        ]
        return reconciled(self.table, records, **self.reconciliation)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    layout = draw(st.sampled_from(list(LAYOUTS.values())))
    record = st.tuples(
        st.tuples(*(st.sampled_from(s) for s in layout.spellings)).map(list),
        st.tuples(*(st.sampled_from(VALUES[layout.type_of(c)]) for c in layout.values)).map(list),
    )
    table = {}
    for keys, values in draw(st.lists(record, max_size=3)):
        key = tuple(parsed(f, layout.type_of(c)) for f, c in zip(keys, layout.keys, strict=True))
        if None not in key:
            table[key] = tuple(
                parsed(f, layout.type_of(c)) for f, c in zip(values, layout.values, strict=True)
            )
    rules = {
        "operation": draw(
            st.sampled_from(["insert", "update", "insert_or_update", "insert_only_new", "delete"])
        ),
        "doubles": draw(st.sampled_from(["last_wins", "reject", "ignore"])),
        "duplicates": draw(st.sampled_from(["reject", "ignore", "update"])),
    }
    return Case(
        layout,
        table,
        draw(st.lists(record, min_size=1, max_size=8)),
        rules,
        draw(st.sampled_from(["incremental", "atomic"])),
        draw(st.integers(1, 3)),
    )


class SqliteTable:
    """The default target: data.db in the data folder."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "data.db"
        self.env: dict[str, str] = {}

    def create(self, layout: Layout, rows: list[tuple[Any, ...]]) -> None:
        columns = ", ".join(f"{c} {SQLITE_TYPES[layout.type_of(c)]}" for c in layout.order)
        with sqlite3.connect(self.path) as c:
            c.execute("DROP TABLE IF EXISTS t")
            c.execute(f"CREATE TABLE t ({columns}, PRIMARY KEY ({', '.join(layout.keys)}))")
            c.executemany(f"INSERT INTO t VALUES ({', '.join('?' * len(layout.order))})", rows)

    def rows(self, layout: Layout) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.path) as c:
            return c.execute(f"SELECT {', '.join(layout.order)} FROM t").fetchall()


class PostgresTable:
    """The default target pointed at a fresh schema of the test server."""

    def __init__(self, schema: str, url: str) -> None:
        self.schema = schema
        self.env = {"IMPEX_DEFAULT_TARGET": url}

    def create(self, layout: Layout, rows: list[tuple[Any, ...]]) -> None:
        columns = ", ".join(f"{c} {PG_TYPES[layout.type_of(c)]}" for c in layout.order)
        with sql_runner(schema=self.schema) as sql:
            sql("DROP TABLE IF EXISTS t")
            sql(f"CREATE TABLE t ({columns}, PRIMARY KEY ({', '.join(layout.keys)}))")
            for row in rows:
                sql(f"INSERT INTO t VALUES ({', '.join(['%s'] * len(row))})", row)

    def rows(self, layout: Layout) -> list[tuple[Any, ...]]:
        with sql_runner(schema=self.schema) as sql:
            got = sql(f"SELECT {', '.join(layout.order)} FROM t") or []
        return [tuple(str(v) if isinstance(v, datetime.date) else v for v in r) for r in got]


@pytest.fixture(params=["sqlite", "postgresql"])
def target_at(request) -> Iterator[Callable[[Path], SqliteTable | PostgresTable]]:
    """The target table of a data folder: SQLite's data.db, or one PostgreSQL schema for the test."""
    if request.param == "sqlite":
        yield SqliteTable
        return
    with fresh_named_schema() as (schema, url):
        yield lambda _: PostgresTable(schema, url)


def impex(data_dir: Path, env: dict[str, str], *args: str) -> Any:
    """`impex ARGS --json` (in this process: the same command, without a Python start per example)."""
    result = CliRunner().invoke(app, ["--data-dir", str(data_dir), *args, "--json"], env=env)
    return json.loads(result.stdout)


def run_case(
    case: Case, where: Path, table: SqliteTable | PostgresTable, *, pause_after: int | None = None
) -> tuple[Outcome, str]:
    """Run the case with `impex run`; with ``pause_after``, a worker first runs it and pauses it
    after that many chunks, and `impex run` of the same definition then resumes it."""
    job, definition = prepared(case, where, table)
    env = {"IMPEX_PROGRESS_SECONDS": "0", **table.env}
    data_dir = where / "data"
    if pause_after is not None:
        paused_run(data_dir, env, definition, pause_after)
    done = impex(data_dir, env, "run", str(job))
    rejects = impex(data_dir, env, "jobs", "rejects", str(done["id"]), "--limit", "1000")
    return outcome(case, table, done, rejects), done["status"]


def prepared(case: Case, where: Path, table: SqliteTable | PostgresTable) -> tuple[Path, dict[str, Any]]:
    """The case's table made, its file and job written: the job's file and definition."""
    layout = case.layout
    table.create(layout, [k + v for k, v in case.table.items()])
    source = where / "f.csv"
    source.write_text(case.csv())
    definition = {
        "kind": "import",
        "name": "model",
        "source": str(source),
        "target": {"table": "t", "create": False},
        "columns": [{"name": c, "type": layout.type_of(c)} for c in layout.order],
        "reconciliation": {"keys": list(layout.keys), **case.reconciliation},
        "commit": case.commit,
        "chunk_rows": case.chunk_rows,
    }
    job = where / "job.json"
    job.write_text(json.dumps(definition))
    return job, definition


def outcome(case: Case, table: SqliteTable | PostgresTable, done: Any, rejects: Any) -> Outcome:
    """What a run did, from `impex run --json`, `impex jobs rejects --json` and the table."""
    counters = {k: v for k, v in done["run"]["counters"].items() if k != "written"}
    n = len(case.layout.keys)
    rows = {r[:n]: r[n:] for r in table.rows(case.layout)}
    return Outcome(rows, counters, sorted((r["record_no"], r["reason"]) for r in rejects))


def paused_run(data_dir: Path, env: dict[str, str], definition: dict[str, Any], chunks: int) -> None:
    """Run the definition as `impex run` would, pausing it once ``chunks`` chunks are in."""
    config = load_settings({"data_dir": str(data_dir), "progress_seconds": 0.0}, env=env)
    store = Store.open(config.store_url)
    try:
        job_id, _ = store.job_to_run(parse_definition(definition).model_dump(mode="json"), actor="cli")
        done = []

        def pause(progress: Progress) -> None:
            done.append(progress)
            if len(done) == chunks and store.status_of(job_id) is S.RUNNING:
                store.transition(job_id, A.PAUSE, actor="tester")

        assert Worker(store, config, concurrency=1, on_progress=pause).run_one(job_id) is S.PAUSED
    finally:
        store.close()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases())
def test_a_run_gives_the_table_counters_and_rejects_the_rules_say(target_at, case, tmp_path_factory):
    where = tmp_path_factory.mktemp("case")
    (where / "data").mkdir()
    got, status = run_case(case, where, target_at(where / "data"))
    expected = case.expected()
    assert status == "finished"
    assert got.table == expected.table
    assert got.rejects == sorted(expected.rejects)
    assert got.counters == expected.counters


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases(), pause_after=st.integers(1, 3))
def test_a_run_paused_and_resumed_ends_as_the_rules_say_too(target_at, case, pause_after, tmp_path_factory):
    chunks = -(-len(case.records) // case.chunk_rows)
    assume(chunks > 1)  # a pause after the last chunk comes too late: the run is over
    pause_after = min(pause_after, chunks - 1)
    where = tmp_path_factory.mktemp("case")
    (where / "data").mkdir()
    got, status = run_case(case, where, target_at(where / "data"), pause_after=pause_after)
    expected = case.expected()
    assert status == "finished"
    assert got.table == expected.table
    assert got.rejects == sorted(expected.rejects)
    assert got.counters == expected.counters


@pytest.mark.parametrize("commit", ["incremental", "atomic"])
def test_a_run_killed_mid_way_then_run_again_ends_as_the_rules_say(target_at, commit, tmp_path):
    rng = random.Random(20261125)
    keys = range(1, 301)
    case = Case(
        LAYOUTS["integer key"],
        {(k,): (f"t{k}", k % 3) for k in rng.sample(keys, 60)},
        [([str(rng.choice(keys))], [rng.choice("xyz"), str(rng.randint(0, 2))]) for _ in range(6_000)],
        {"operation": "insert_or_update", "doubles": "last_wins"},
        commit,
        chunk_rows=100,
    )
    (tmp_path / "data").mkdir()
    table = target_at(tmp_path / "data")
    job, _ = prepared(case, tmp_path, table)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMPEX_")}
    env.update(IMPEX_DATA_DIR=str(tmp_path / "data"), IMPEX_LEASE_SECONDS="0.3", **table.env)
    env.update(IMPEX_HEARTBEAT_SECONDS="0.05", IMPEX_PROGRESS_SECONDS="0")
    killed = subprocess.Popen([*IMPEX, "run", str(job), "--json"], env=env, stdout=subprocess.DEVNULL)
    wait_until(lambda: records_read(tmp_path / "data") > 0, 60, "the first chunk")
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert 0 < records_read(tmp_path / "data") < 6_000, "killed too late: make the file longer"
    time.sleep(0.4)  # its lease lapses
    again = subprocess.run([*IMPEX, "run", str(job), "--json"], env=env, capture_output=True, check=True)
    done = json.loads(again.stdout)
    assert done["id"] == 1 and done["status"] == "finished"  # the killed job went on from its checkpoint
    got, expected = outcome(case, table, done, []), case.expected()
    assert got.table == expected.table and got.counters == expected.counters  # and no rejects


def records_read(data_dir: Path) -> int:
    if not (data_dir / "impex.db").exists():
        return 0
    with contextlib.closing(sqlite3.connect(data_dir / "impex.db")) as c:
        try:
            return int(c.execute("SELECT coalesce(max(read), 0) FROM runs").fetchone()[0])
        except sqlite3.OperationalError:  # not made yet
            return 0
