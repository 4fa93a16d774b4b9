"""The SQLite target: rows and checkpoint in one transaction, fencing, refused rows isolated."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from impex.domain.counters import Counters
from impex.domain.definitions import ColumnType
from impex.domain.position import Position
from impex.targets.base import (
    Checkpoint,
    ChunkWrite,
    ColumnDef,
    FencedOut,
    Refusal,
    RefusedRecord,
    RunSpec,
    TargetError,
)
from impex.targets.sqlite import SqliteTarget
from support import staged

REPO = Path(__file__).resolve().parents[2]
COLUMNS = [ColumnDef("id", ColumnType.INTEGER, True), ColumnDef("name", ColumnType.STRING, True)]


@pytest.fixture
def target(tmp_path):
    t = SqliteTarget(tmp_path / "data.db")
    t.create_table("people", COLUMNS, ("id",))
    yield t
    t.close()


def rows(ids, names=None, start=0):
    names = names or [f"n{i}" for i in ids]
    return pl.DataFrame(
        {"id": ids, "name": names, "_row": list(range(start, start + len(ids)))},
        schema={"id": pl.Int64, "name": pl.Utf8, "_row": pl.Int64},
    )


def table(tmp_path):
    with sqlite3.connect(tmp_path / "data.db") as c:
        return c.execute("SELECT id, name FROM people ORDER BY id").fetchall()


def people_run(token="tok", *, atomic=False):
    return RunSpec("s:1:1", token, "people", ("id",), atomic=atomic)


def finalize_at(offset):
    def finalize(result):
        return Checkpoint(Position(offset, offset, offset), Counters(inserted=result.inserted), {"x": 1})

    return finalize


def test_a_chunk_and_its_checkpoint_commit_together(target, tmp_path):
    run = target.open_run(people_run(), {})
    cp = run.commit_chunk(ChunkWrite(inserts=rows([1, 2])), finalize_at(10))
    assert cp.position == Position(10, 10, 10)
    again = target.open_run(people_run("tok2"), {})
    assert again.checkpoint.position == Position(10, 10, 10)
    assert again.checkpoint.counters.inserted == 2
    assert table(tmp_path) == [(1, "n1"), (2, "n2")]


def test_a_failure_inside_the_chunk_commits_nothing_not_even_the_checkpoint(target, tmp_path):
    run = target.open_run(people_run(), {})

    def exploding(result):
        raise OSError("disk full")

    with pytest.raises(OSError):
        run.commit_chunk(ChunkWrite(inserts=rows([1, 2])), exploding)
    assert table(tmp_path) == []
    assert target.open_run(people_run("t"), {}).checkpoint.position == Position()


def test_a_worker_that_lost_the_run_cannot_commit(target, tmp_path):
    old = target.open_run(people_run("old"), {})
    target.open_run(people_run("new"), {})
    with pytest.raises(FencedOut):
        old.commit_chunk(ChunkWrite(inserts=rows([1])), finalize_at(1))
    assert table(tmp_path) == []


def test_rows_the_database_refuses_are_isolated_and_the_rest_is_loaded(tmp_path):
    t = SqliteTarget(tmp_path / "data.db")
    t._execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL CHECK (length(name) <= 3))")
    t.conn.commit()
    run = t.open_run(people_run(), {})
    names = ["ok", "toolong", "ok", "ok", "bad!", "ok", "ok"]
    got = {}

    def finalize(result):
        got["r"] = result
        return Checkpoint(Position(7, 7, 7), Counters(inserted=result.inserted))

    run.commit_chunk(ChunkWrite(inserts=rows(list(range(1, 8)), names)), finalize)
    t.close()
    assert [r.row for r in got["r"].refused] == [1, 4]
    assert got["r"].inserted == 5
    assert [i for i, _ in table(tmp_path)] == [1, 3, 4, 6, 7]


def refusals(tmp_path, ddl, frame):
    """What the database refused of ``frame`` inserted into the table ``ddl`` creates."""
    t = SqliteTarget(tmp_path / "data.db")
    t._execute(ddl)
    t.conn.commit()
    run = t.open_run(people_run(), {})
    seen = {}

    def finalize(result):
        seen["refused"] = result.refused
        return Checkpoint(Position(1, 1, 1), Counters(inserted=result.inserted))

    run.commit_chunk(ChunkWrite(inserts=frame), finalize)
    t.close()
    return seen["refused"]


def test_refused_rows_carry_the_database_message(tmp_path):
    ddl = "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL CHECK (length(name) <= 3))"
    refused = refusals(tmp_path, ddl, rows([1, 2], ["ok", "toolong"], start=40))
    message = "column name = 'toolong': CHECK constraint failed: length(name) <= 3"
    assert refused == [Refusal(41, message, "name", "toolong")]


def test_a_refusal_names_the_column_the_database_names_and_its_value(tmp_path):
    ddl = "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE)"
    frame = pl.DataFrame(
        {"id": [1, 2, 3], "name": ["a", None, "c"], "email": ["x@y", "z@y", "x@y"], "_row": [0, 1, 2]}
    )
    assert refusals(tmp_path, ddl, frame) == [
        Refusal(1, "column name = null: NOT NULL constraint failed: people.name", "name", None),
        Refusal(2, "column email = 'x@y': UNIQUE constraint failed: people.email", "email", "x@y"),
    ]


def test_existing_tells_which_keys_the_table_has(target):
    run = target.open_run(people_run(), {})
    run.commit_chunk(ChunkWrite(inserts=rows([1, 3])), finalize_at(1))
    mask = run.existing(pl.DataFrame({"id": [1, 2, 3]}))
    assert mask.tolist() == [True, False, True]


def test_updates_count_changed_and_unchanged_rows(target):
    run = target.open_run(people_run(), {})
    run.commit_chunk(ChunkWrite(inserts=rows([1, 2])), finalize_at(1))
    got = {}

    def finalize(result):
        got["r"] = result
        return Checkpoint(Position(2, 2, 2))

    run.commit_chunk(ChunkWrite(updates=rows([1, 2], ["n1", "changed"])), finalize)
    assert (got["r"].updated, got["r"].unchanged) == (1, 1)


def test_seen_hashes_survive_a_restart(target):
    run = target.open_run(people_run(), {})
    run.commit_chunk(
        ChunkWrite(inserts=rows([1]), seen_hashes=np.array([7, 9], dtype=np.int64)), finalize_at(1)
    )
    again = target.open_run(people_run("tok2"), {})
    assert sorted(again.seen_hashes().tolist()) == [7, 9]


def test_atomic_mode_leaves_the_table_untouched_until_finish(target, tmp_path):
    run = target.open_run(people_run(atomic=True), {})
    run.commit_chunk(ChunkWrite(inserts=staged(rows([1, 2]))), finalize_at(1))
    run.commit_chunk(ChunkWrite(updates=staged(rows([2], ["last"]), first_record=3)), finalize_at(2))
    assert table(tmp_path) == []
    run.finish(lambda r: Checkpoint(Position(2, 2, 2), Counters(inserted=r.inserted, updated=r.updated)))
    assert table(tmp_path) == [(1, "n1"), (2, "last")]


def test_atomic_cancel_drops_the_staged_rows(target, tmp_path):
    run = target.open_run(people_run(atomic=True), {})
    run.commit_chunk(ChunkWrite(inserts=staged(rows([1, 2]))), finalize_at(1))
    run.abandon()
    assert table(tmp_path) == []
    with sqlite3.connect(tmp_path / "data.db") as c:
        names = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE name LIKE '_impex_stage%'")]
    assert names == []


def test_atomic_final_apply_isolates_refused_rows_and_names_their_records(tmp_path):
    t = SqliteTarget(tmp_path / "data.db")
    t._execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL CHECK (length(name) <= 3))")
    run = t.open_run(people_run(atomic=True), {})
    run.commit_chunk(ChunkWrite(inserts=staged(rows([1, 2, 3], ["ok", "toolong", "ok"]))), finalize_at(3))
    got = {}

    def finalize(result):
        got["r"] = result
        return Checkpoint(Position(3, 3, 3), Counters(inserted=result.inserted))

    run.finish(finalize)
    t.close()
    assert got["r"].inserted == 2
    assert got["r"].refused_records == [
        RefusedRecord(
            2,
            3,
            b"raw 2",
            "column name = 'toolong': CHECK constraint failed: length(name) <= 3",
            "name",
            "toolong",
        )
    ]
    assert [i for i, _ in table(tmp_path)] == [1, 3]


@pytest.mark.parametrize(
    ("values", "stored"),
    [
        ((7, 2.5, "é", b"\x00\xff", -(2**63)), (7, 2.5, "é", b"\x00\xff", -(2**63))),  # typed columns
        ((None, True, "x"), (None, 1, "x")),  # a type without its column: the driver infers them all
    ],
)
def test_statement_parameters_keep_their_values_whatever_their_type(target, values, stored):
    assert target._rows("SELECT " + ", ".join("?" * len(values)), values) == [stored]


def test_a_wal_database_stays_wal(tmp_path):
    with sqlite3.connect(tmp_path / "data.db") as c:
        c.execute("PRAGMA journal_mode=WAL")
    t = SqliteTarget(tmp_path / "data.db")
    t.create_table("people", COLUMNS, ("id",))
    t.open_run(people_run(), {}).commit_chunk(ChunkWrite(inserts=rows([1])), finalize_at(10))
    t.close()
    with sqlite3.connect(tmp_path / "data.db") as c:
        assert c.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert table(tmp_path) == [(1, "n1")]


def page_size(path):
    with sqlite3.connect(path) as c:
        return c.execute("PRAGMA page_size").fetchone()[0]


def test_a_database_impex_creates_has_64_kib_pages(target, tmp_path):
    assert page_size(tmp_path / "data.db") == 65536


def test_an_existing_database_keeps_its_page_size(tmp_path):
    with sqlite3.connect(tmp_path / "data.db") as c:
        c.execute("CREATE TABLE theirs (x)")
    SqliteTarget(tmp_path / "data.db").close()
    assert page_size(tmp_path / "data.db") == 4096


def test_a_table_or_view_is_found_whatever_the_case_of_its_name_as_sqlite_finds_it(tmp_path):
    with sqlite3.connect(tmp_path / "data.db") as c:
        c.execute("CREATE TABLE Mixed (id INTEGER PRIMARY KEY)")
        c.execute("CREATE VIEW Seen AS SELECT id FROM Mixed")
    t = SqliteTarget(tmp_path / "data.db")
    assert t.table_exists("mixed") and t.table_exists("MIXED")
    assert t.is_view("seen") and not t.table_exists("seen")
    t.close()


def test_a_chunk_killed_before_its_commit_is_rolled_back_by_the_next_opener(tmp_path):
    script = (
        "import os, sys\n"
        "from impex.targets.base import ChunkWrite\n"
        "from impex.targets.sqlite import SqliteTarget\n"
        "from tests.targets.test_sqlite_target import COLUMNS, finalize_at, people_run, rows\n"
        "t = SqliteTarget(sys.argv[1])\n"
        "t.create_table('people', COLUMNS, ('id',))\n"
        "run = t.open_run(people_run(), {})\n"
        "run.commit_chunk(ChunkWrite(inserts=rows([1, 2])), finalize_at(10))\n"
        "run.apply_chunk(ChunkWrite(inserts=rows(list(range(3, 5000)))), finalize_at(20))\n"
        "os._exit(9)  # no commit, no close: as a kill -9 leaves it\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "tests")}  # for the specs' support module
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "data.db")], cwd=REPO, env=env, check=False
    )
    assert done.returncode == 9
    assert (tmp_path / "data.db-journal").stat().st_size > 0  # hot: the chunk's changes are in it
    again = SqliteTarget(tmp_path / "data.db")
    assert again.open_run(people_run("tok2"), {}).checkpoint.position == Position(10, 10, 10)
    again.close()
    assert table(tmp_path) == [(1, "n1"), (2, "n2")]


def test_a_driver_error_gives_the_database_words_without_the_statement(tmp_path):
    t = SqliteTarget(tmp_path / "data.db")
    wide = [ColumnDef(f"c{i}", ColumnType.INTEGER, False) for i in range(2500)]
    try:
        with pytest.raises(TargetError) as raised:
            t.create_table("wide", wide, ())
    finally:
        t.close()
    assert str(raised.value) == f"SQLite database {tmp_path / 'data.db'}: too many columns on wide"
