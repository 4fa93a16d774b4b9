"""The text SQLite stores for dates and timestamps: ISO, seconds without a fraction when whole.

The fast path (Arrow's cast) must write exactly what the format string writes, whatever the values.
"""

from datetime import date, datetime

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from impex.targets.values import TIMESTAMP_TEXT, for_ingest

whole = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)).map(
    lambda d: d.replace(microsecond=0)
)
any_time = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59))


def stored(values: list, dtype: pl.DataType) -> list[str | None]:
    return for_ingest(pl.DataFrame({"v": pl.Series(values, dtype=dtype)}))["v"].to_list()


def formatted(values: list, dtype: pl.DataType, fmt: str) -> list[str | None]:
    return pl.Series(values, dtype=dtype).dt.to_string(fmt).to_list()


@given(st.lists(st.one_of(st.none(), whole), max_size=30))
def test_whole_second_timestamps_are_stored_as_the_format_writes_them(values):
    assert stored(values, pl.Datetime("us")) == formatted(values, pl.Datetime("us"), TIMESTAMP_TEXT)


@given(st.lists(st.one_of(st.none(), whole, any_time), max_size=30))
def test_timestamps_with_fractions_are_stored_as_the_format_writes_them(values):
    assert stored(values, pl.Datetime("us")) == formatted(values, pl.Datetime("us"), TIMESTAMP_TEXT)


@pytest.mark.parametrize("unit", ["ms", "ns"])
@given(values=st.lists(st.one_of(st.none(), whole, any_time), max_size=30))
def test_timestamps_in_any_time_unit_are_stored_as_the_format_writes_them(unit, values):
    if unit == "ns":  # nanosecond timestamps span the years 1677-2262 only
        values = [v if v is None or 1678 <= v.year <= 2261 else None for v in values]
    assert stored(values, pl.Datetime(unit)) == formatted(values, pl.Datetime(unit), TIMESTAMP_TEXT)


@given(st.lists(st.one_of(st.none(), st.dates(min_value=date(1, 1, 1))), max_size=30))
def test_dates_are_stored_as_iso_text(values):
    assert stored(values, pl.Date) == formatted(values, pl.Date, "%Y-%m-%d")


def test_examples():
    assert stored([datetime(2020, 1, 2, 3, 4, 5), None], pl.Datetime("us")) == ["2020-01-02 03:04:05", None]
    assert stored([datetime(2020, 1, 2, 3, 4, 5, 120000)], pl.Datetime("us")) == ["2020-01-02 03:04:05.120"]
    assert stored([date(900, 1, 2)], pl.Date) == ["0900-01-02"]
    assert stored([None, None], pl.Date) == [None, None]
    assert stored([None, None], pl.Datetime("us")) == [None, None]
    assert stored([datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59)], pl.Datetime("us")) == [
        "0001-01-01 00:00:00",
        "9999-12-31 23:59:59",
    ]
