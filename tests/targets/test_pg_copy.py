"""Binary COPY data built column by column: what goes in comes back from a real PostgreSQL server
exactly, for every type pair the encoder takes, nulls included; any other pair is left to SQL."""

import datetime
import decimal

import numpy as np
import polars as pl
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from impex.targets.pg_copy import HEADER, TRAILER, copy_data, encode_rows
from pg_support import POSTGRES_URL

TYPES = {
    "big": "bigint",
    "int": "integer",
    "small": "smallint",
    "dbl": "double precision",
    "flt": "real",
    "ok": "boolean",
    "day": "date",
    "ts": "timestamp without time zone",
    "tz": "timestamp with time zone",
    "txt": "text",
    "vc": "character varying",
    "raw": "bytea",
    "price": "numeric",
    "qty": "numeric",
}
DTYPES = {
    "big": pl.Int64,
    "int": pl.Int32,
    "small": pl.Int16,
    "dbl": pl.Float64,
    "flt": pl.Float32,
    "ok": pl.Boolean,
    "day": pl.Date,
    "ts": pl.Datetime("us"),
    "tz": pl.Datetime("us", "UTC"),  # a moment
    "txt": pl.String,
    "vc": pl.String,
    "raw": pl.Binary,
    "price": pl.Decimal(12, 2),
    "qty": pl.Decimal(18, 5),
}


def maybe(values):
    return st.one_of(st.none(), values)


ROW = st.fixed_dictionaries(
    {
        "big": maybe(st.integers(-(2**63), 2**63 - 1)),
        "int": maybe(st.integers(-(2**31), 2**31 - 1)),
        "small": maybe(st.integers(-(2**15), 2**15 - 1)),
        "dbl": maybe(st.floats(allow_nan=False)),
        "flt": maybe(st.floats(width=32, allow_nan=False)),
        "ok": maybe(st.booleans()),
        "day": maybe(st.dates(datetime.date(1, 1, 1), datetime.date(9999, 12, 31))),
        "ts": maybe(st.datetimes(datetime.datetime(1, 1, 1), datetime.datetime(9999, 12, 31))),
        "tz": maybe(
            st.datetimes(
                datetime.datetime(1, 1, 2), datetime.datetime(9999, 12, 30), timezones=st.just(datetime.UTC)
            )
        ),
        "txt": maybe(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))),
        "vc": maybe(st.sampled_from(["", "a\tb", "line\nbreak", "back\\slash", "é€😀", " pad "])),
        "raw": maybe(st.binary(max_size=20)),
        "price": maybe(st.decimals(min_value=-(10**10) + 1, max_value=10**10 - 1, places=2)),
        "qty": maybe(st.decimals(min_value=-(10**13) + 1, max_value=10**13 - 1, places=5)),
    }
)


@pytest.fixture(scope="module")
def conn():
    with psycopg.connect(POSTGRES_URL, autocommit=True) as c:
        columns = ", ".join(f"{name} {pg}" for name, pg in TYPES.items())
        c.execute(f"CREATE TEMPORARY TABLE copied (n bigint, {columns})")
        yield c


def round_trip(conn, frame: pl.DataFrame, types: dict[str, str]) -> list[tuple]:
    conn.execute("TRUNCATE copied")
    rows = encode_rows(frame, types)
    assert rows is not None
    with conn.cursor().copy(f"COPY copied ({', '.join(frame.columns)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(HEADER)
        copy.write(copy_data(rows))
        copy.write(TRAILER)
    return conn.execute(f"SELECT {', '.join(frame.columns)} FROM copied ORDER BY n").fetchall()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(ROW, min_size=1, max_size=30))
def test_every_encoded_type_comes_back_exactly(conn, rows):
    frame = pl.DataFrame(
        [{"n": i, **row} for i, row in enumerate(rows)], schema={"n": pl.Int64, **DTYPES}, orient="row"
    )
    got = round_trip(conn, frame, {"n": "bigint", **TYPES})
    expected = [(i, *(row[name] for name in TYPES)) for i, row in enumerate(rows)]
    assert [_single(r) for r in got] == [_single(r) for r in expected]


FLT = 1 + list(TYPES).index("flt")


def _single(row: tuple) -> tuple:
    """The row with its real (float4) value as a float4: the server writes the shortest text that
    reads back as that float4, which Python reads as a nearby double."""
    value = row[FLT]
    return (*row[:FLT], None if value is None else np.float32(value), *row[FLT + 1 :])


def test_a_slice_of_the_rows_is_its_own_copy_data(conn):
    frame = pl.DataFrame({"n": [1, 2, 3, 4], "txt": ["a", None, "ccc", "d"]})
    rows = encode_rows(frame, {"n": "bigint", "txt": "text"})
    assert rows is not None
    conn.execute("TRUNCATE copied")
    with conn.cursor().copy("COPY copied (n, txt) FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(HEADER)
        copy.write(copy_data(rows.slice(1, 2)))
        copy.write(TRAILER)
    assert conn.execute("SELECT n, txt FROM copied ORDER BY n").fetchall() == [(2, None), (3, "ccc")]


@pytest.mark.parametrize(
    ("values", "pg"),
    [
        (pl.Series([1, 2**40], dtype=pl.Int64), "integer"),  # out of range: the database says which row
        (pl.Series([1], dtype=pl.Int64), "numeric"),
        (pl.Series(["1"], dtype=pl.String), "bigint"),  # text for another type: cast in SQL
        (pl.Series([datetime.datetime(2024, 1, 1)], dtype=pl.Datetime("ns")), "timestamp without time zone"),
        (pl.Series([decimal.Decimal("1e20")], dtype=pl.Decimal(38, 0)), "numeric"),  # past 63 bits
        (pl.Series([1.5], dtype=pl.Float64), "jsonb"),
        # which moment: the database reads it in the session's time zone, as its COPY does
        (pl.Series([datetime.datetime(2024, 1, 1)], dtype=pl.Datetime("us")), "timestamp with time zone"),
        (
            pl.Series([datetime.datetime(2024, 1, 1)], dtype=pl.Datetime("us", "UTC")),
            "timestamp without time zone",
        ),
    ],
    ids=[
        "int_out_of_range",
        "int_to_numeric",
        "text_to_bigint",
        "timestamp_ns",
        "huge_decimal",
        "jsonb",
        "no_zone_to_timestamptz",
        "moment_to_timestamp",
    ],
)
def test_a_pair_without_an_exact_binary_form_is_left_to_sql(values, pg):
    assert encode_rows(values.to_frame("v"), {"v": pg}) is None
