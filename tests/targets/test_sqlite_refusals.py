"""A row an existing SQLite table refuses is reported with the columns the refusal is about, their
values and SQLite's words, also when SQLite names no column: a check constraint (named, or by its
expression), whose columns are read from the table's CREATE TABLE statement; a unique index on an
expression, whose columns its statement tells; a foreign key (test_sqlite_foreign_keys.py). A value
a STRICT table's column refuses for its type, a trigger's RAISE, are refused rows too."""

import sqlite3
from datetime import datetime

import polars as pl
import pytest

from impex.domain.counters import Counters
from impex.domain.position import Position
from impex.targets.base import Checkpoint, ChunkWrite, Refusal, RefusedRecord, RunSpec
from impex.targets.sqlite import SqliteTarget
from impex.targets.sqlite_refusal import checked_columns, indexed_columns, listed_columns, raised_messages
from support import staged

EVENTS = """
CREATE TABLE parents (id INTEGER PRIMARY KEY);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    lo INTEGER,
    hi INTEGER,
    "code" TEXT NOT NULL CHECK (length("code") <= 3),
    a TEXT,
    b TEXT,
    parent INTEGER REFERENCES parents (id),
    CONSTRAINT ordered CHECK (lo <= hi),
    UNIQUE (a, b)
)
"""
ORDERED = "columns lo = '5', hi = '3': CHECK constraint failed: ordered"
TOO_LONG = "column code = 'long': CHECK constraint failed: length(\"code\") <= 3"
NO_CODE = "column code = null: NOT NULL constraint failed: events.code"
TWICE = "columns a = 'x', b = 'y': UNIQUE constraint failed: events.a, events.b"
ORPHAN = "column parent = '99': FOREIGN KEY constraint failed: not present in parents (id)"


def events():
    """Six rows: the second out of order, the third's code too long, the fourth without one, the
    fifth with the first one's (a, b); the last one's parent is not in ``parents``."""
    return pl.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6],
            "lo": [1, 5, 1, 1, 1, 1],
            "hi": [2, 3, 2, 2, 2, 2],
            "code": ["ok", "ok", "long", None, "ok", "ok"],
            "a": ["x", "x", "x", "x", "x", "z"],
            "b": ["y", "u", "v", "w", "y", "y"],
            "parent": [None, None, None, None, None, 99],
            "_row": [0, 1, 2, 3, 4, 5],
        },
        schema_overrides={"parent": pl.Int64},
    )


def applied(path, ddl, write, *, atomic=False):
    """What a run did with the chunk, the table ``ddl`` makes being there: its ChunkResult (in
    atomic mode, the final apply's too)."""
    with sqlite3.connect(path) as c:
        c.executescript(ddl)
    t = SqliteTarget(path)
    run = t.open_run(RunSpec("s:1:1", "tok", "events", ("id",), atomic=atomic), {})
    got = []

    def finalize(result):
        got.append(result)
        return Checkpoint(Position(1, 1, 1), Counters(inserted=result.inserted))

    run.commit_chunk(write, finalize)
    if atomic:
        run.finish(finalize)
    t.close()
    return got


def ids(path):
    with sqlite3.connect(path) as c:
        return [i for (i,) in c.execute("SELECT id FROM events ORDER BY id")]


def test_a_check_not_null_unique_or_foreign_key_refusal_names_its_columns_and_their_values(tmp_path):
    path = tmp_path / "data.db"
    (result,) = applied(path, EVENTS, ChunkWrite(inserts=events()))
    assert result.refused == [
        Refusal(1, ORDERED, "lo", "5"),
        Refusal(2, TOO_LONG, "code", "long"),
        Refusal(3, NO_CODE, "code", None),
        Refusal(4, TWICE, "a", "x"),
        Refusal(5, ORPHAN, "parent", "99"),
    ]
    assert ids(path) == [1]


def test_in_atomic_mode_the_final_apply_names_the_columns_values_and_records(tmp_path):
    path = tmp_path / "data.db"
    staging, final = applied(path, EVENTS, ChunkWrite(inserts=staged(events())), atomic=True)
    assert staging.refused == []
    assert final.refused_records == [
        RefusedRecord(2, 3, b"raw 2", ORDERED, "lo", "5"),
        RefusedRecord(3, 4, b"raw 3", TOO_LONG, "code", "long"),
        RefusedRecord(4, 5, b"raw 4", NO_CODE, "code", None),
        RefusedRecord(5, 6, b"raw 5", TWICE, "a", "x"),
        RefusedRecord(6, 7, b"raw 6", ORPHAN, "parent", "99"),
    ]
    assert ids(path) == [1]


def test_a_refused_update_names_the_columns_and_the_values_it_has(tmp_path):
    path = tmp_path / "data.db"
    ddl = EVENTS + "; INSERT INTO events (id, lo, hi, code) VALUES (1, 1, 2, 'ok');"
    update = pl.DataFrame({"id": [1], "hi": [0], "_row": [7]})
    (result,) = applied(path, ddl, ChunkWrite(updates=update))
    assert result.refused == [Refusal(7, "columns lo, hi = '0': CHECK constraint failed: ordered", "hi", "0")]


def test_a_value_is_shown_as_the_table_stores_it(tmp_path):
    ddl = "CREATE TABLE events (id INTEGER PRIMARY KEY, at TEXT CHECK (at < '2100'))"
    frame = pl.DataFrame({"id": [1], "at": [datetime(2100, 1, 1, 12, 30)], "_row": [0]})
    (result,) = applied(tmp_path / "data.db", ddl, ChunkWrite(inserts=frame))
    message = "column at = '2100-01-01 12:30:00': CHECK constraint failed: at < '2100'"
    assert result.refused == [Refusal(0, message, "at", "2100-01-01 12:30:00")]


@pytest.mark.parametrize("atomic", [False, True], ids=["incremental", "atomic"])
def test_a_value_a_strict_column_refuses_for_its_type_is_a_refused_row_not_a_failed_run(tmp_path, atomic):
    path = tmp_path / "data.db"
    ddl = "CREATE TABLE events (id INTEGER PRIMARY KEY, n INTEGER) STRICT"
    frame = pl.DataFrame({"id": [1, 2, 3], "n": ["3", "x", "4"], "_row": [0, 1, 2]})
    got = applied(path, ddl, ChunkWrite(inserts=staged(frame) if atomic else frame), atomic=atomic)
    message = "column n = 'x': cannot store TEXT value in INTEGER column events.n"
    if atomic:
        assert got[-1].refused_records == [RefusedRecord(2, 3, b"raw 2", message, "n", "x")]
    else:
        assert got[-1].refused == [Refusal(1, message, "n", "x")]
    assert ids(path) == [1, 3]


TABLE = "CREATE TABLE t (lo INT, hi INT, name TEXT, c TEXT, d TEXT"


@pytest.mark.parametrize(
    ("said", "ddl", "columns"),
    [
        ("ordered", TABLE + ", CONSTRAINT ordered CHECK (hi >= lo))", ["lo", "hi"]),
        ("Ordered", TABLE + ', CONSTRAINT "ordered" CHECK ([HI] >= `lo`))', ["lo", "hi"]),
        ("short", TABLE + " CONSTRAINT short CHECK ((length(c)) < 3), e TEXT CHECK (d > 0))", ["c"]),
        ("length(name) <= 3 AND name <> 'lo'", TABLE + ")", ["name"]),
        ("t.lo < 3 -- hi", TABLE + ")", ["lo"]),
        ('"d" > c', TABLE + ")", ["c", "d"]),
        ("random() > 0", TABLE + ")", []),
    ],
    ids=["named", "quoted", "column_level", "string_and_function", "qualified", "unnamed_quoted", "none"],
)
def test_a_check_is_about_the_columns_its_expression_uses(said, ddl, columns):
    assert checked_columns(said, ddl, ["lo", "hi", "name", "c", "d"]) == columns


@pytest.mark.parametrize(
    ("listed", "table", "columns"),
    [
        ("events.a, events.b", "events", ["a", "b"]),
        ("My Events.A", "my events", ["a"]),
        ("other.a", "events", []),
    ],
    ids=["two", "spaced_table_in_another_case", "another_table"],
)
def test_a_not_null_or_unique_refusal_is_about_the_table_columns_it_lists(listed, table, columns):
    assert listed_columns(listed, table, ["a", "b"]) == columns


@pytest.mark.parametrize(
    ("ddl", "columns"),
    [
        ("CREATE UNIQUE INDEX i ON t (lower(name))", ["name"]),
        ('CREATE UNIQUE INDEX "on" ON "t" (d COLLATE NOCASE, c + 1 DESC) WHERE lo > 0', ["c", "d"]),
        ("CREATE UNIQUE INDEX i ON t (random())", []),
    ],
    ids=["function", "quoted_terms_and_a_partial_index", "none"],
)
def test_a_unique_index_is_about_the_columns_its_terms_use(ddl, columns):
    assert indexed_columns(ddl, ["lo", "hi", "name", "c", "d"]) == columns


@pytest.mark.parametrize(
    ("trigger", "said", "raises"),
    [
        ("SELECT RAISE(ABORT, 'no spam')", "no spam", True),
        ("SELECT RAISE(FAIL, 'it''s ' || new.name || ' again')", "it's Ann again", True),
        ("SELECT RAISE(ABORT, 'no spam')", "database is locked", False),
        ("SELECT RAISE(ABORT, new.name)", "Ann", False),
        ("SELECT RAISE(IGNORE)", "", False),
    ],
    ids=["literal", "expression", "other_words", "no_literal_to_know_it_by", "ignore"],
)
def test_a_trigger_is_known_by_the_words_of_its_raise(trigger, said, raises):
    ddl = f"CREATE TRIGGER tr BEFORE INSERT ON t BEGIN {trigger}; END"
    assert any(p.fullmatch(said) for p in raised_messages(ddl)) is raises


def test_names_are_alike_as_sqlite_finds_them_whatever_the_case_of_ascii_letters_only():
    # SQLite finds column Email as email, but not column Äpfel as äpfel: neither may impex.
    assert checked_columns("CHECK (lower(EMAIL) <> '' AND äpfel > 0)", "", ["Email", "Äpfel"]) == ["Email"]
