"""Loading into PostgreSQL tables that a customer's database already has: types whose length or
checks the table declares (char(n), bit(n), a domain over varchar(n)) keep every value whole or
refuse it, on every path a row takes into the table (binary COPY, casts from a temporary table,
upserts, updates, atomic staging)."""

import polars as pl
import pytest

from impex.targets.base import Checkpoint, ChunkWrite, Refusal, RunSpec
from impex.targets.postgres import PostgresTarget
from targets.test_pg_refusals import applied

CODES = (
    "CREATE TABLE codes (id bigint PRIMARY KEY, code char(3), label short5, bits bit(3), "
    "pairs char(2)[], extra jsonb)"
)


def codes(ids, code="ab", label="abc", bits="101", pairs="{ab}"):
    """Rows of ``codes`` with one value per column for all of them; ``extra`` is text for a jsonb
    column, which no binary form sends: the database casts each row's values."""
    n = len(ids)
    return pl.DataFrame(
        {
            "id": ids,
            "code": [code] * n,
            "label": [label] * n,
            "bits": [bits] * n,
            "pairs": [pairs] * n,
            "extra": ["{}"] * n,
            "_row": list(range(n)),
        },
        schema={
            c: pl.Int64 if c in ("id", "_row") else pl.String
            for c in ("id", "code", "label", "bits", "pairs", "extra", "_row")
        },
    )


def written(schema, write, *, atomic=False, prepared=False):
    """What the database refused of the chunk, and the table after it committed."""
    t = PostgresTarget(schema[1])
    got = applied(t, write, prepared=prepared, atomic=atomic, table="codes")
    t.close()
    return [r for result in got for r in result.refused]


@pytest.fixture
def table(sql):
    sql("CREATE DOMAIN short5 AS varchar(5)")
    sql(CODES)
    return sql


def stored(sql):
    return sql("SELECT id, code, label, bits::text, pairs::text FROM codes ORDER BY id")


TOO_LONG = [
    ("code", "abcd", "value too long for type character(3)"),
    ("label", "toolong", "value too long for type character varying(5)"),
    ("bits", "10101", "bit string length 5 does not match type bit(3)"),
    ("pairs", "{abc}", "value too long for type character(2)"),
]


@pytest.mark.parametrize(
    ("how", "atomic", "prepared"),
    [("inserts", False, False), ("inserts", False, True), ("upserts", False, True), ("inserts", True, True)],
    ids=["inserts", "inserts_prepared", "upserts", "atomic"],
)
@pytest.mark.parametrize(("column", "value", "reason"), TOO_LONG, ids=[c for c, _, _ in TOO_LONG])
def test_a_value_longer_than_its_column_is_refused_never_cut_to_fit(
    schema, table, how, atomic, prepared, column, value, reason
):
    good, bad = codes([1]), codes([2], **{column: value}).with_columns(pl.lit(1, pl.Int64).alias("_row"))
    refused = written(schema, ChunkWrite(**{how: pl.concat([good, bad])}), atomic=atomic, prepared=prepared)
    assert refused == [Refusal(1, f"column {column} = '{value}': {reason}", column, value)]
    assert stored(table) == [(1, "ab ", "abc", "101", "{ab}")]


@pytest.mark.parametrize(("column", "value", "reason"), TOO_LONG, ids=[c for c, _, _ in TOO_LONG])
def test_an_update_longer_than_its_column_is_refused_and_the_row_kept(schema, table, column, value, reason):
    table("INSERT INTO codes VALUES (1, 'ab', 'abc', '101', '{ab}', '{}')")
    refused = written(schema, ChunkWrite(updates=codes([1], **{column: value})))
    assert refused == [Refusal(0, f"column {column} = '{value}': {reason}", column, value)]
    assert stored(table) == [(1, "ab ", "abc", "101", "{ab}")]


def test_values_that_fit_go_in_whole_and_a_char_column_pads_them(schema, table):
    refused = written(
        schema, ChunkWrite(inserts=codes([1, 2], code="xyz", label="hello", bits="011", pairs="{a,bc}"))
    )
    assert refused == []
    assert stored(table) == [(1, "xyz", "hello", "011", '{"a ",bc}'), (2, "xyz", "hello", "011", '{"a ",bc}')]


@pytest.mark.parametrize("prepared", [False, True], ids=["as_given", "prepared_by_the_reading_thread"])
def test_a_row_no_partition_takes_is_refused_naming_the_partition_key_and_the_others_are_routed(
    schema, sql, prepared
):
    sql("CREATE TABLE sales (id bigint, region text, amount bigint) PARTITION BY LIST (region)")
    sql("CREATE TABLE sales_eu PARTITION OF sales FOR VALUES IN ('eu')")
    sql("CREATE TABLE sales_us PARTITION OF sales FOR VALUES IN ('us')")
    frame = pl.DataFrame(
        {"id": [1, 2, 3], "region": ["eu", "asia", "us"], "amount": [5, 6, 7], "_row": [0, 1, 2]}
    )
    t = PostgresTarget(schema[1])
    run = t.open_run(RunSpec("s:1:1", "tok", "sales", ()), {})
    got = []
    write = ChunkWrite(inserts=frame)
    run.commit_chunk(run.prepare(write) if prepared else write, lambda r: got.append(r) or Checkpoint())
    t.close()
    reason = (
        'no partition of relation "sales" found for row: '
        "Partition key of the failing row contains (region) = (asia)."
    )
    assert got[0].refused == [Refusal(1, f"column region = 'asia': {reason}", "region", "asia")]
    assert sql("SELECT tableoid::regclass::text, id FROM sales ORDER BY id") == [
        ("sales_eu", 1),
        ("sales_us", 3),
    ]
