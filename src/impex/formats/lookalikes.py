"""Values of an export that are not text but are written as the null value (0 with null value '0',
false with 'false', a date with a null value such as '2024-01-02'): the writer quotes them, as it
quotes a text equal to the null value, so that they read back as values, not as nulls.

Polars writes such a value bare, as it writes a null. Columns are looked at cheaply first (numbers
and booleans by value, dates and timestamps by the characters their format can write), and only a
column holding one is turned into the text Polars writes for it.
"""

from __future__ import annotations

import functools
import io
import math
import re
from datetime import datetime

import polars as pl

from impex.domain.definitions import OutputFormat

_INTEGER_TEXT = re.compile(r"-?(?:0|[1-9][0-9]*)")
# What the numeric specifiers of a date or time format write (%Y, %m, %d, %H, %.f, %z, %%…)
_NUMERIC_OUTPUT = frozenset("0123456789 +-./:%\t\n")
_WORDS = re.compile(r"%[-_0^#]?[aAbBhpPZcxXrv+]")  # specifiers that write names (Mon, Jan, PM…)


def values_like_null(df: pl.DataFrame, fmt: OutputFormat) -> pl.DataFrame:
    """``df`` with each column of numbers, dates, booleans… that holds a value written as the null
    value turned into the text Polars writes for it. Nothing to do with the empty null value (no such
    value is written empty) or with quoting 'all' (it quotes every value)."""
    if not fmt.null_value or fmt.quoting == "all":
        return df
    texts = []
    for name, dtype in df.schema.items():
        if dtype == pl.String or not _may_be_written_as(df.get_column(name), fmt.null_value, fmt):
            continue
        text = as_written(df.get_column(name), fmt)
        if (text == fmt.null_value).any():
            texts.append(text)
    return df.with_columns(texts) if texts else df


def _may_be_written_as(column: pl.Series, text: str, fmt: OutputFormat) -> bool:
    """Whether a value of ``column`` may be written as ``text``: a look that spares rendering a
    column as text; :func:`as_written` tells for sure."""
    dtype = column.dtype
    if dtype == pl.Null:
        return False
    if dtype.is_integer():
        if _INTEGER_TEXT.fullmatch(text) is None:
            return False
        try:
            return bool((column == int(text)).any())
        except OverflowError:  # beyond the column's type: none of its values
            return False
    if dtype.is_float():
        if fmt.decimal_separator != "." and "." in text:
            return False
        try:
            number = float(text.replace(fmt.decimal_separator, "."))
        except ValueError:
            return False
        return bool(column.is_nan().any() if math.isnan(number) else (column == number).any())
    if dtype == pl.Boolean:
        return text in ("true", "false") and bool((column == (text == "true")).any())
    if dtype == pl.Date:
        return _temporal_may_be(column, text, fmt.date_format)
    if isinstance(dtype, pl.Datetime):
        return _temporal_may_be(column, text, fmt.local_timestamp_format)
    return True  # times, durations…: rendered to tell


def _temporal_may_be(column: pl.Series, text: str, pattern: str) -> bool:
    if not _WORDS.search(pattern) and not set(text) <= _NUMERIC_OUTPUT | set(pattern):
        return False  # 'NULL' with '%Y-%m-%d': no date is written so
    if _reads_back(pattern, column.dtype) and _read(text, pattern, column.dtype) is None:
        return False  # '0' with '%Y-%m-%d': what the format writes reads back, and '0' does not read
    return bool((column.dt.to_string(pattern) == text).any())


@functools.lru_cache(maxsize=64)
def _reads_back(pattern: str, dtype: pl.DataType) -> bool:
    """Whether a date or timestamp written in ``pattern`` reads back with it (it holds the year, the
    month, the day…), as one sample shows."""
    sample = pl.Series([datetime(2001, 2, 3, 4, 5, 6)]).cast(dtype)
    written = sample.dt.to_string(pattern)[0]
    return written is not None and _read(written, pattern, dtype) == sample[0]


def _read(text: str, pattern: str, dtype: pl.DataType) -> object:
    """``text`` read in ``pattern`` as a value of ``dtype``; None when it does not read."""
    try:
        return pl.Series([text]).str.strptime(dtype, pattern, strict=False)[0]  # type: ignore[arg-type]  # a Date or Datetime
    except pl.exceptions.PolarsError:
        return None


def as_written(column: pl.Series, fmt: OutputFormat) -> pl.Series:
    """``column``'s values as the text Polars writes for them in ``fmt`` (nulls stay null)."""
    out = io.BytesIO()
    column.to_frame().write_csv(
        out,
        include_header=False,
        separator=fmt.delimiter,
        quote_style="never",
        line_terminator="\n",
        date_format=fmt.date_format,
        datetime_format=fmt.local_timestamp_format,
        decimal_comma=fmt.decimal_separator == ",",
        null_value="",
    )
    # one string split in Polars: no Python string per value
    lines = (
        pl.Series(column.name, [out.getvalue().decode()])
        .str.split("\n")
        .explode(empty_as_null=True)[: len(column)]
    )
    return pl.select(pl.when(column.is_not_null()).then(lines)).to_series().alias(column.name)
