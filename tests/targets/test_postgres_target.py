"""The PostgreSQL target (real server): rows and checkpoint in one transaction, fencing, refused rows
isolated with the database's message, set-based updates and deletes, atomic staging, streaming."""

import datetime
import decimal
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import polars as pl
import psycopg
import pytest

from impex.domain.counters import Counters
from impex.domain.definitions import ColumnType
from impex.domain.position import Position
from impex.engine.reconcile import key_hashes
from impex.targets import Connection, open_target, redact_url, with_password
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
from impex.targets.postgres import PostgresTarget
from support import staged

COLUMNS = [ColumnDef("id", ColumnType.INTEGER, True), ColumnDef("name", ColumnType.STRING, True)]


@pytest.fixture
def target(schema):
    t = PostgresTarget(schema[1])
    t.create_table("people", COLUMNS, ("id",))
    yield t
    t.close()


def rows(ids, names=None, start=0):
    names = names or [f"n{i}" for i in ids]
    return pl.DataFrame(
        {"id": ids, "name": names, "_row": list(range(start, start + len(ids)))},
        schema={"id": pl.Int64, "name": pl.Utf8, "_row": pl.Int64},
    )


def run_tables(sql, prefix="_impex_s"):
    """impex's own per-run tables left in the test's schema."""
    return sql(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND starts_with(tablename, %s)",
        (prefix,),
    )


def people(sql):
    return sql("SELECT id, name FROM people ORDER BY id")


def finalize_at(offset):
    def finalize(result):
        return Checkpoint(Position(offset, offset, offset), Counters(inserted=result.inserted), {"x": 1})

    return finalize


def capture(got, offset=1):
    def finalize(result):
        got["r"] = result
        return Checkpoint(Position(offset, offset, offset), Counters(inserted=result.inserted))

    return finalize


def open_run(target, token="tok", *, atomic=False, table="people"):
    return target.open_run(RunSpec("s:1:1", token, table, ("id",), atomic=atomic), {})


def test_a_chunk_and_its_checkpoint_commit_together(target, sql):
    run = open_run(target)
    cp = run.commit_chunk(ChunkWrite(inserts=rows([1, 2])), finalize_at(10))
    assert cp.position == Position(10, 10, 10)
    again = open_run(target, "tok2")
    assert again.checkpoint.position == Position(10, 10, 10)
    assert again.checkpoint.counters.inserted == 2 and again.checkpoint.state == {"x": 1}
    assert people(sql) == [(1, "n1"), (2, "n2")]
    assert sql("SELECT token, record_no FROM _impex_checkpoint") == [("tok2", 10)]


def test_a_failure_inside_the_chunk_commits_nothing_not_even_the_checkpoint(target, sql):
    run = open_run(target)

    def exploding(result):
        raise OSError("disk full")

    with pytest.raises(OSError):
        run.commit_chunk(ChunkWrite(inserts=rows([1, 2])), exploding)
    assert people(sql) == []
    assert open_run(target, "t").checkpoint.position == Position()


def test_a_worker_that_lost_the_run_cannot_commit(target, sql):
    old = open_run(target, "old")
    open_run(target, "new")
    with pytest.raises(FencedOut):
        old.commit_chunk(ChunkWrite(inserts=rows([1])), finalize_at(1))
    assert people(sql) == []


def test_the_table_is_created_with_postgresql_types_and_its_key(target, sql):
    columns = [
        ColumnDef("code", ColumnType.STRING, max_length=5),
        ColumnDef("n", ColumnType.INTEGER),
        ColumnDef("f", ColumnType.FLOAT),
        ColumnDef("price", ColumnType.DECIMAL, precision=10, scale=2),
        ColumnDef("ok", ColumnType.BOOLEAN),
        ColumnDef("d", ColumnType.DATE),
        ColumnDef("ts", ColumnType.TIMESTAMP, required=True),
        ColumnDef("note", ColumnType.STRING),
    ]
    target.create_table("things", columns, ("code",))
    got = sql(
        "SELECT column_name, data_type, character_maximum_length, numeric_precision, numeric_scale, "
        "is_nullable FROM information_schema.columns WHERE table_name = 'things' "
        "AND table_schema = current_schema() ORDER BY ordinal_position"
    )
    assert got == [
        ("code", "character varying", 5, None, None, "NO"),
        ("n", "bigint", None, 64, 0, "YES"),
        ("f", "double precision", None, 53, None, "YES"),
        ("price", "numeric", None, 10, 2, "YES"),
        ("ok", "boolean", None, None, None, "YES"),
        ("d", "date", None, None, None, "YES"),
        ("ts", "timestamp without time zone", None, None, None, "NO"),
        ("note", "text", None, None, None, "YES"),
    ]
    assert target.primary_key("things") == ("code",)


def test_every_column_type_goes_in_by_binary_copy_and_comes_back(target, sql):
    target.create_table(
        "things",
        [
            ColumnDef("id", ColumnType.INTEGER),
            ColumnDef("price", ColumnType.DECIMAL, precision=10, scale=2),
            ColumnDef("ok", ColumnType.BOOLEAN),
            ColumnDef("d", ColumnType.DATE),
            ColumnDef("ts", ColumnType.TIMESTAMP),
            ColumnDef("f", ColumnType.FLOAT),
        ],
        ("id",),
    )
    frame = pl.DataFrame(
        {
            "id": [1],
            "price": [decimal.Decimal("12.50")],
            "ok": [True],
            "d": [datetime.date(2024, 2, 29)],
            "ts": [datetime.datetime(2024, 2, 29, 23, 59, 58, 123456)],
            "f": [0.25],
            "_row": [0],
        },
        schema_overrides={"price": pl.Decimal(10, 2)},
    )
    run = target.open_run(RunSpec("s:1:1", "tok", "things", ("id",)), {})
    run.commit_chunk(ChunkWrite(inserts=frame), finalize_at(1))
    assert sql("SELECT * FROM things") == [
        (
            1,
            decimal.Decimal("12.50"),
            True,
            datetime.date(2024, 2, 29),
            datetime.datetime(2024, 2, 29, 23, 59, 58, 123456),
            0.25,
        )
    ]


@pytest.mark.parametrize(
    ("ddl", "bad_name", "message"),
    [
        (
            "name text NOT NULL CHECK (name <> 'bad')",
            "bad",
            "column name = 'bad': new row for relation \"people\" violates check constraint "
            '"people_name_check"',
        ),
        (
            "name text NOT NULL",
            None,
            'column name = null: null value in column "name" of relation "people" violates not-null',
        ),
        (
            "name varchar(3)",
            "toolong",
            "column name = 'toolong': value too long for type character varying(3)",
        ),
        (
            "name text UNIQUE",
            "n1",
            """column name = 'n1': duplicate key value violates unique constraint "people_name_key": """
            "Key (name)=(n1) already exists.",
        ),
        (
            "name text REFERENCES parents(name)",
            "orphan",
            """column name = 'orphan': insert or update on table "people" violates foreign key constraint """
            '"people_name_fkey": Key (name)=(orphan) is not present in table "parents".',
        ),
    ],
    ids=["check", "not_null", "too_long", "unique", "foreign_key"],
)
def test_rows_the_database_refuses_are_isolated_with_its_message_and_the_rest_is_loaded(
    schema, sql, ddl, bad_name, message
):
    """Each refusal names the column (a check's from the catalog) and its value, then the database's
    words."""
    sql("CREATE TABLE parents (name text PRIMARY KEY)")
    sql("INSERT INTO parents SELECT 'n' || i FROM generate_series(1, 100) i")
    sql(f"CREATE TABLE people (id bigint PRIMARY KEY, {ddl})")
    t = PostgresTarget(schema[1])
    run = open_run(t)
    bad = {3, 17, 18, 40}
    ids = list(range(1, 51))
    names = [bad_name if i in bad else f"n{i}" for i in ids]
    got = {}
    run.commit_chunk(ChunkWrite(inserts=rows(ids, names, start=100)), capture(got))
    t.close()
    assert [r.row for r in got["r"].refused] == [100 + i - 1 for i in sorted(bad)]
    assert all(r.message.startswith(message) for r in got["r"].refused), got["r"].refused
    assert {(r.column, r.value) for r in got["r"].refused} == {("name", bad_name)}
    assert got["r"].inserted == 46
    assert [i for i, _ in people(sql)] == [i for i in ids if i not in bad]


def test_refused_rows_cost_about_one_statement_each_not_a_halving_from_the_top(schema, sql, monkeypatch):
    """Dense, sparse, adjacent, first and last rows refused, plus a duplicate key: each one is found
    by the window it falls in, and the rows after it are not sent again from the start."""
    sql("CREATE TABLE people (id bigint PRIMARY KEY CHECK (id % 97 <> 5), name text NOT NULL)")
    t = PostgresTarget(schema[1])
    run = open_run(t)
    ids = [*range(0, 20_000), 19_999]  # the last one repeats a key
    bad = {i for i in ids[:-1] if i % 97 == 5} | {0, 1, 2, 19_998}
    names = [None if i in {0, 1, 2, 19_998} else f"n{i}" for i in ids]
    sent: list[int] = []
    insert = run.insert
    monkeypatch.setattr(run, "insert", lambda frame: sent.append(frame.height) or insert(frame))
    got = {}
    run.commit_chunk(ChunkWrite(inserts=rows(ids, names)), capture(got))
    t.close()
    refused = [r.row for r in got["r"].refused]
    assert refused == sorted([ids.index(i) for i in bad] + [len(ids) - 1])
    assert got["r"].inserted == len(ids) - len(refused)
    assert sql("SELECT count(*), min(id), max(id) FROM people") == [(got["r"].inserted, 3, 19_999)]
    # (halving from the top took 624 statements sending 159,407 rows here)
    assert len(sent) < 3 * len(refused) and sum(sent) < 4 * len(ids), (len(sent), sum(sent))


def test_inserts_prepared_by_the_reading_thread_go_in_and_refused_ones_are_isolated(schema, sql):
    sql("CREATE TABLE people (id bigint PRIMARY KEY, name text NOT NULL CHECK (name <> 'bad'))")
    t = PostgresTarget(schema[1])
    run = open_run(t)
    ids = list(range(1, 51))
    names = ["bad" if i in {3, 17, 18, 40} else f"n{i}" for i in ids]
    prepared = run.prepare(ChunkWrite(inserts=rows(ids, names, 100))).inserts
    assert prepared.columns == ["_row", "_copy"]  # encoded: the writing thread only sends it
    got = {}
    run.commit_chunk(ChunkWrite(inserts=prepared), capture(got))
    t.close()
    assert [r.row for r in got["r"].refused] == [102, 116, 117, 139]
    assert got["r"].inserted == 46
    assert people(sql)[:3] == [(1, "n1"), (2, "n2"), (4, "n4")]


def test_rows_without_a_binary_form_are_left_as_they_are_staged_or_not(schema, sql):
    sql("CREATE TABLE people (id bigint PRIMARY KEY, name jsonb)")
    t = PostgresTarget(schema[1])
    frame = rows([1, 2], ['{"a": 1}', "[]"])
    assert open_run(t).prepare(ChunkWrite(inserts=frame)).inserts.equals(frame)  # jsonb: SQL casts
    assert open_run(t, atomic=True).prepare(ChunkWrite(inserts=staged(frame))).inserts.equals(staged(frame))
    t.close()


def test_staged_rows_are_encoded_by_the_reading_thread_with_their_operation(target):
    write = ChunkWrite(inserts=staged(rows([1, 2])), deletes=staged(rows([3])).select("id", "_row", "_rec"))
    prepared = open_run(target, atomic=True).prepare(write)
    assert prepared.inserts.columns == prepared.deletes.columns == ["_row", "_copy"]


def test_a_chunk_laid_out_unlike_the_first_one_is_not_encoded_and_still_goes_in(target, sql):
    """The writing thread reads the encoded layout from the run: it is the first chunk's, for good."""
    run = open_run(target)
    first = run.prepare(ChunkWrite(inserts=rows([1]), upserts=rows([2])))
    assert first.inserts.columns == first.upserts.columns == ["_row", "_copy"]
    other = rows([3, 4]).with_columns(pl.col("id").cast(pl.Float64))  # a double for the bigint key
    second = run.prepare(ChunkWrite(inserts=rows([5]).select("name", "id", "_row"), upserts=other))
    assert second.inserts.columns == ["name", "id", "_row"]
    assert second.upserts.columns == ["id", "name", "_row"]
    run.commit_chunk(first, finalize_at(1))
    got = {}
    run.commit_chunk(second, capture(got, 2))
    assert (got["r"].inserted, got["r"].refused) == (3, [])
    assert people(sql) == [(1, "n1"), (2, "n2"), (3, "n3"), (4, "n4"), (5, "n5")]


def test_a_value_out_of_range_of_an_existing_narrower_column_is_refused_and_the_rest_loaded(schema, sql):
    sql("CREATE TABLE people (id integer PRIMARY KEY, name text)")
    t = PostgresTarget(schema[1])
    got = {}
    open_run(t).commit_chunk(ChunkWrite(inserts=rows([1, 2**40, 3])), capture(got))
    t.close()
    too_big = str(2**40)
    assert got["r"].refused == [Refusal(1, f"column id = '{too_big}': integer out of range", "id", too_big)]
    assert [i for i, _ in people(sql)] == [1, 3]


def test_a_text_value_for_a_column_of_another_type_is_cast_by_the_database(schema, sql):
    sql("CREATE TABLE people (id bigint PRIMARY KEY, name jsonb)")
    t = PostgresTarget(schema[1])
    got = {}
    open_run(t).commit_chunk(ChunkWrite(inserts=rows([1, 2], ['{"a": 1}', "not json"])), capture(got))
    t.close()
    assert [r.row for r in got["r"].refused] == [1]
    assert "invalid input syntax for type json" in got["r"].refused[0].message
    assert sql("SELECT id, name FROM people") == [(1, {"a": 1})]


def test_existing_tells_which_keys_the_table_has(target):
    run = open_run(target)
    run.commit_chunk(ChunkWrite(inserts=rows([1, 3])), finalize_at(1))
    mask = run.existing(pl.DataFrame({"id": [1, 2, 3]}))
    assert mask.tolist() == [True, False, True]
    assert run.existing(pl.DataFrame({"id": []}, schema={"id": pl.Int64})).tolist() == []


@pytest.mark.parametrize(
    ("index", "keys", "probes"),
    [
        ("PRIMARY KEY (a, b)", ("b", "a"), True),
        ("UNIQUE (b, a, c)", ("a", "b"), True),
        ("UNIQUE (a, c)", ("a", "b"), False),
        ("UNIQUE (c)", ("a",), False),
        (None, ("a",), False),
    ],
)
def test_chunk_lookups_probe_an_index_only_when_one_leads_with_the_keys(schema, sql, index, keys, probes):
    extra = f", {index}" if index else ""
    sql(f"CREATE TABLE t (a bigint NOT NULL, b bigint NOT NULL, c text{extra})")
    t = PostgresTarget(schema[1])
    run = t.open_run(RunSpec("s:1:1", "tok", "t", keys), {})
    assert run.probe is probes
    t.close()


def test_a_partial_or_unfinished_index_is_not_one_to_probe(schema, sql):
    sql("CREATE TABLE t (a bigint NOT NULL, c text)")
    sql("CREATE UNIQUE INDEX t_some ON t (a) WHERE c IS NOT NULL")
    t = PostgresTarget(schema[1])
    assert not t.indexed_by("t", ("a",))
    t.close()


def test_lookups_against_a_large_table_probe_its_key_index_and_leave_the_planner_as_it_was(target, sql):
    sql("INSERT INTO people SELECT i, 'n' || i FROM generate_series(1, 50000) i")
    sql(  # the driver reads results through COPY, which takes no EXPLAIN: a function runs it
        "CREATE FUNCTION plan_of(q text) RETURNS SETOF text LANGUAGE plpgsql AS "
        "$$ DECLARE line text; BEGIN FOR line IN EXECUTE 'EXPLAIN ' || q LOOP RETURN NEXT line; "
        "END LOOP; END $$"
    )
    run = open_run(target)
    plans = []
    real_arrow = target.arrow

    def explained(query, params=()):
        plans.append(target.rows("SELECT plan_of($1)", (query,)))
        return real_arrow(query, params)

    target.arrow = explained
    target.begin()
    mask = run.existing(pl.DataFrame({"id": [7, 50001, 123]}))
    assert mask.tolist() == [True, False, True]
    plan = " ".join(line for (line,) in plans[0])
    assert "Index" in plan and "Hash" not in plan  # not a hash of the whole table for three keys
    assert target.rows("SELECT current_setting('enable_hashjoin'), current_setting('jit')") == [
        tuple(run.planner[name] for name in ("enable_hashjoin", "jit"))
    ]
    target.rollback()


@pytest.mark.parametrize("prepared", [False, True], ids=["as_given", "prepared_by_the_reading_thread"])
def test_upserts_insert_new_keys_update_changed_rows_and_count_the_unchanged(target, sql, prepared):
    run = open_run(target)
    assert run.upserts_keys  # the key is the primary key
    run.commit_chunk(ChunkWrite(inserts=rows([1, 2])), finalize_at(1))
    got = {}
    write = ChunkWrite(upserts=rows([1, 2, 3], ["n1", "changed", "new"]))
    run.commit_chunk(run.prepare(write) if prepared else write, capture(got, 2))
    assert (got["r"].inserted, got["r"].updated, got["r"].unchanged) == (1, 1, 1)
    assert people(sql) == [(1, "n1"), (2, "changed"), (3, "new")]


@pytest.mark.parametrize("prepared", [False, True], ids=["as_given", "prepared_by_the_reading_thread"])
def test_an_upsert_the_database_refuses_is_isolated_and_the_rest_goes_in(schema, sql, prepared):
    sql("CREATE TABLE people (id bigint PRIMARY KEY, name text CHECK (name <> 'bad'))")
    sql("INSERT INTO people VALUES (1, 'n1'), (2, 'n2')")
    t = PostgresTarget(schema[1])
    got = {}
    run = open_run(t)
    write = ChunkWrite(upserts=rows([1, 2, 3, 4, 5], ["u1", "bad", "n3", "bad", "n5"]))
    run.commit_chunk(run.prepare(write) if prepared else write, capture(got))
    t.close()
    assert [r.row for r in got["r"].refused] == [1, 3]
    assert (got["r"].inserted, got["r"].updated, got["r"].unchanged) == (2, 1, 0)
    assert people(sql) == [(1, "u1"), (2, "n2"), (3, "n3"), (5, "n5")]


def test_upserts_need_a_unique_index_on_exactly_the_keys(schema, sql):
    sql("CREATE TABLE t (a bigint NOT NULL, b bigint NOT NULL, c text, UNIQUE (a, b))")
    sql("CREATE UNIQUE INDEX t_expression ON t (a, lower(c))")  # an expression: never the keys
    t = PostgresTarget(schema[1])
    assert t.open_run(RunSpec("s:1:1", "tok", "t", ("b", "a")), {}).upserts_keys
    assert not t.open_run(RunSpec("s:1:2", "tok", "t", ("a",)), {}).upserts_keys
    assert not t.open_run(RunSpec("s:1:3", "tok", "t", ("a", "b"), atomic=True), {}).upserts_keys
    t.close()


def test_updates_count_changed_and_unchanged_rows(target, sql):
    run = open_run(target)
    run.commit_chunk(ChunkWrite(inserts=rows([1, 2])), finalize_at(1))
    got = {}
    run.commit_chunk(ChunkWrite(updates=rows([1, 2], ["n1", "changed"])), capture(got, 2))
    assert (got["r"].updated, got["r"].unchanged) == (1, 1)
    assert people(sql) == [(1, "n1"), (2, "changed")]


def test_an_update_the_database_refuses_is_isolated(schema, sql):
    sql("CREATE TABLE people (id bigint PRIMARY KEY, name text CHECK (name <> 'bad'))")
    sql("INSERT INTO people SELECT i, 'n' || i FROM generate_series(1, 8) i")
    t = PostgresTarget(schema[1])
    got = {}
    names = ["u1", "u2", "bad", "u4", "n5", "u6", "u7", "u8"]
    open_run(t).commit_chunk(ChunkWrite(updates=rows(list(range(1, 9)), names)), capture(got))
    t.close()
    assert [r.row for r in got["r"].refused] == [2]
    assert (got["r"].updated, got["r"].unchanged) == (6, 1)
    assert people(sql)[2] == (3, "n3")


def test_deletes_go_through_a_temporary_table_and_one_statement(target, sql):
    run = open_run(target)
    run.commit_chunk(ChunkWrite(inserts=rows([1, 2, 3])), finalize_at(1))
    got = {}
    run.commit_chunk(ChunkWrite(deletes=rows([1, 3]).select("id", "_row")), capture(got, 2))
    assert got["r"].deleted == 2
    assert people(sql) == [(2, "n2")]


def test_inserts_updates_and_deletes_of_one_chunk_commit_together(target, sql):
    run = open_run(target)
    run.commit_chunk(ChunkWrite(inserts=rows([1, 2])), finalize_at(1))
    got = {}
    write = ChunkWrite(inserts=rows([3]), updates=rows([1], ["new"]), deletes=rows([2]).select("id", "_row"))
    run.commit_chunk(write, capture(got, 2))
    assert (got["r"].inserted, got["r"].updated, got["r"].deleted) == (1, 1, 1)
    assert people(sql) == [(1, "new"), (3, "n3")]


def test_seen_hashes_survive_a_restart(target):
    run = open_run(target)
    run.commit_chunk(
        ChunkWrite(inserts=rows([1]), seen_hashes=np.array([7, -9], dtype=np.int64)), finalize_at(1)
    )
    assert sorted(open_run(target, "tok2").seen_hashes().tolist()) == [-9, 7]


def test_a_key_lookup_has_its_own_connection_and_sees_only_committed_rows(target):
    run = open_run(target)
    run.commit_chunk(ChunkWrite(inserts=rows([1])), finalize_at(1))
    run.apply_chunk(ChunkWrite(inserts=rows([2])), finalize_at(2))  # not committed yet
    lookup = run.key_lookup()
    try:
        asked = pl.DataFrame({"id": [2, 1, 3]})
        assert lookup.existing(asked).tolist() == [False, True, False]
        assert run.existing(asked).tolist() == [True, True, False]  # the run's own connection
        run.commit()
        assert lookup.existing(asked).tolist() == [True, True, False]
    finally:
        lookup.close()


def test_table_keys_reads_the_key_columns(target):
    open_run(target).commit_chunk(ChunkWrite(inserts=rows([5, 6])), finalize_at(1))
    assert sorted(open_run(target, "t2").table_keys()["id"].to_list()) == [5, 6]


def test_table_keys_read_back_hash_as_the_parsed_keys_do(target, sql):
    sql(
        "CREATE TABLE priced (code varchar(8), amount numeric(10, 2), day date, at timestamp, "
        "PRIMARY KEY (code, amount, day, at))"
    )
    sql(
        "INSERT INTO priced VALUES ('a', 12.50, '2024-02-29', '2024-01-01 10:00:00'), "
        "('b', -0.05, '1999-12-31', '2024-01-01 10:00:00.25')"
    )
    parsed = pl.DataFrame(
        {
            "code": ["b", "a"],
            "amount": [decimal.Decimal("-0.05"), decimal.Decimal("12.50")],
            "day": [datetime.date(1999, 12, 31), datetime.date(2024, 2, 29)],
            "at": [datetime.datetime(2024, 1, 1, 10, 0, 0, 250000), datetime.datetime(2024, 1, 1, 10)],
        },
        schema={"code": pl.String, "amount": pl.Decimal(10, 2), "day": pl.Date, "at": pl.Datetime("us")},
    )
    keys = ("code", "amount", "day", "at")
    run = target.open_run(RunSpec("r-priced", "tok", "priced", keys), {})
    assert sorted(key_hashes(run.table_keys(), keys)) == sorted(key_hashes(parsed, keys))


def test_without_a_second_connection_the_keys_are_still_read_and_asked(schema, sql):
    name, url = schema
    role = f"{name}_one"
    sql(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 1")
    try:
        sql(f"GRANT ALL ON SCHEMA {name} TO {role}")
        parts = urlsplit(url)
        t = PostgresTarget(urlunsplit(parts._replace(netloc=f"{role}@{parts.netloc.rsplit('@', 1)[-1]}")))
        try:
            t.create_table("people", COLUMNS, ("id",))
            open_run(t).commit_chunk(ChunkWrite(inserts=rows([5, 6])), finalize_at(1))
            again = open_run(t, "t2")
            assert sorted(again.table_keys()["id"].to_list()) == [5, 6]
            assert again.key_lookup() is None  # the run's thread asks the table, on its connection
            assert again.existing(pl.DataFrame({"id": [6, 7]})).tolist() == [True, False]
        finally:
            t.close()
    finally:
        sql(f"DROP OWNED BY {role} CASCADE")
        sql(f"DROP ROLE {role}")


def test_a_failed_bulk_read_names_the_database_but_not_the_password(schema):
    t = PostgresTarget(schema[1], password="hunter2-secret")
    try:
        with pytest.raises(TargetError, match="no_such_table") as failed:
            t.read_committed("SELECT * FROM no_such_table")
        assert "hunter2-secret" not in str(failed.value)
    finally:
        t.close()


@pytest.mark.parametrize("prepared", [False, True], ids=["as_given", "prepared_by_the_reading_thread"])
def test_atomic_mode_leaves_the_table_untouched_until_finish(target, sql, prepared):
    run = open_run(target, atomic=True)
    ready = run.prepare if prepared else (lambda write: write)
    run.commit_chunk(ready(ChunkWrite(inserts=staged(rows([1, 2])))), finalize_at(1))
    run.commit_chunk(ready(ChunkWrite(updates=staged(rows([2], ["last"]), first_record=3))), finalize_at(2))
    run.commit_chunk(ready(ChunkWrite(updates=staged(rows([2], ["later"]), first_record=4))), finalize_at(3))
    assert people(sql) == []
    done = run.finish(
        lambda r: Checkpoint(Position(3, 3, 3), Counters(inserted=r.inserted, updated=r.updated))
    )
    # each staged update of key 2 in its turn
    assert (done.counters.inserted, done.counters.updated) == (2, 2)
    assert people(sql) == [(1, "n1"), (2, "later")]
    assert run_tables(sql) == []


@pytest.mark.parametrize("prepared", [False, True], ids=["as_given", "prepared_by_the_reading_thread"])
def test_atomic_mode_refuses_a_value_the_table_cannot_hold_when_the_chunk_is_staged(schema, sql, prepared):
    sql("CREATE TABLE people (id bigint PRIMARY KEY, name varchar(3), born date DEFAULT '2000-01-01')")
    t = PostgresTarget(schema[1])
    run = open_run(t, atomic=True)
    got = {}
    write = ChunkWrite(inserts=staged(rows([1, 2, 3], ["ok", "toolong", "ok"])))
    run.commit_chunk(run.prepare(write) if prepared else write, capture(got))
    assert got["r"].refused == [
        Refusal(1, "column name = 'toolong': value too long for type character varying(3)", "name", "toolong")
    ]
    run.finish(lambda r: Checkpoint(Position(1, 1, 1), Counters(inserted=r.inserted)))
    t.close()
    assert sql("SELECT id, born FROM people ORDER BY id") == [
        (1, datetime.date(2000, 1, 1)),
        (3, datetime.date(2000, 1, 1)),
    ]


@pytest.mark.parametrize("prepared", [False, True], ids=["as_given", "prepared_by_the_reading_thread"])
def test_atomic_final_apply_isolates_refused_rows_and_names_their_records(schema, sql, prepared):
    sql("CREATE TABLE people (id bigint PRIMARY KEY, name text CHECK (name <> 'bad'))")
    sql("INSERT INTO people VALUES (10, 'ten'), (11, 'eleven')")
    t = PostgresTarget(schema[1])
    run = open_run(t, atomic=True)
    ready = run.prepare if prepared else (lambda write: write)
    run.commit_chunk(ready(ChunkWrite(inserts=staged(rows([1, 2, 3], ["ok", "bad", "ok"])))), finalize_at(3))
    updates = staged(rows([10, 11], ["bad", "changed"]), first_record=4)
    run.commit_chunk(ready(ChunkWrite(updates=updates)), finalize_at(5))
    got = {}
    run.finish(capture(got, 5))
    t.close()
    r = got["r"]
    assert (r.inserted, r.updated, r.unchanged) == (2, 1, 0)
    check = 'new row for relation "people" violates check constraint "people_name_check"'
    message = f"column name = 'bad': {check}"
    assert r.refused_records == [
        RefusedRecord(2, 3, b"raw 2", message, "name", "bad"),
        RefusedRecord(4, 5, b"raw 4", message, "name", "bad"),
    ]
    assert people(sql) == [(1, "ok"), (3, "ok"), (10, "ten"), (11, "changed")]


def test_atomic_cancel_drops_the_staged_rows(target, sql):
    run = open_run(target, atomic=True)
    run.commit_chunk(ChunkWrite(inserts=staged(rows([1, 2]))), finalize_at(1))
    run.abandon()
    assert people(sql) == []
    assert run_tables(sql, "_impex_stage") == []


def test_stream_reads_a_query_as_arrow_batches(target, sql):
    sql("INSERT INTO people SELECT i, 'n' || i FROM generate_series(1, 5000) i")
    batches = list(target.stream("SELECT id, name FROM people WHERE id > $1 ORDER BY id", (4990,)))
    frame = pl.concat([pl.from_arrow(b) for b in batches])
    assert frame["id"].to_list() == list(range(4991, 5001))
    assert frame["name"][0] == "n4991"


def test_a_bad_query_in_stream_is_a_target_error(target):
    with pytest.raises(TargetError, match="nope"):
        list(target.stream("SELECT * FROM nope"))


def test_the_password_is_merged_at_open_and_never_shown():
    url = "postgresql://impex@127.0.0.1:1/db?sslmode=disable"
    assert (
        with_password(url, "p@ss:w/rd") == "postgresql://impex:p%40ss%3Aw%2Frd@127.0.0.1:1/db?sslmode=disable"
    )
    assert (
        redact_url("postgresql://impex:hunter2@h/db?password=x") == "postgresql://impex:***@h/db?password=***"
    )
    with pytest.raises(TargetError) as error:
        open_target(Connection(url, "hunter2-secret"))
    assert "hunter2-secret" not in str(error.value)
    assert "postgresql://impex@127.0.0.1:1/db" in str(error.value)
    assert "hunter2-secret" not in repr(Connection(url, "hunter2-secret"))
    assert "hunter2-secret" not in str(Connection(url, "hunter2-secret"))


def test_workers_opening_a_new_database_at_once_all_get_the_checkpoint_table_and_the_target_table(schema):
    """CREATE TABLE IF NOT EXISTS is not safe against a concurrent one: the DDL is serialized."""
    import threading

    _, url = schema
    n = 6
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def open_and_create() -> None:
        barrier.wait()
        try:
            target = open_target(url)
            try:
                target.create_table("t", [ColumnDef("id", ColumnType.INTEGER, required=True)], ("id",))
            finally:
                target.close()
        except BaseException as error:
            errors.append(error)

    for _ in range(3):  # a race: a few rounds, each on fresh tables
        threads = [threading.Thread(target=open_and_create) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with psycopg.connect(url.split("?")[0], autocommit=True, options=f"-csearch_path={schema[0]}") as c:
            c.execute("DROP TABLE _impex_checkpoint, t")
