"""How an export renders a chunk's values before the CSV writer: SQLite's date and timestamp text in
the job's formats, exact decimals with the job's decimal separator, and the dates and timestamps the
writer cannot render (PostgreSQL's infinity) as the database's text of them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import polars as pl

from impex.domain.definitions import OutputFormat
from impex.formats.writer import CsvWriter


class Columns(Protocol):
    """What a source says about its columns' values."""

    @property
    def date_columns(self) -> tuple[str, ...]: ...
    @property
    def timestamp_columns(self) -> tuple[str, ...]: ...
    @property
    def numeric_columns(self) -> tuple[str, ...]: ...
    @property
    def server_texts(self) -> Mapping[str, str]: ...


def write_chunk(writer: CsvWriter, frame: pl.DataFrame, source: Columns, fmt: OutputFormat) -> None:
    """``frame``'s rows through ``writer``, its dates and numbers rendered as ``fmt`` says."""
    frame = with_server_texts(frame, source.server_texts, fmt)
    frame = render_dates(frame, source.date_columns, source.timestamp_columns, fmt)
    writer.write(render_numeric(render_moments(frame, fmt), source.numeric_columns, fmt))


def with_server_texts(frame: pl.DataFrame, texts: Mapping[str, str], fmt: OutputFormat) -> pl.DataFrame:
    """The date and timestamp columns in ``texts`` with, where they are null, the text of the hidden
    column ``texts`` names (a value the writer cannot render), the hidden columns dropped. Only a chunk
    that holds such a value renders its column as text: the writer renders the others alike."""
    hidden = [h for h in texts.values() if h in frame.columns]
    exprs = [
        pl.coalesce(
            _rendered(frame.schema[name], name, fmt), _server_text(frame.schema[name], texts[name], fmt)
        ).alias(name)
        for name in texts
        if texts[name] in frame.columns and frame.get_column(texts[name]).null_count() < frame.height
    ]
    return frame.with_columns(exprs).drop(hidden) if hidden else frame


def _rendered(dtype: pl.DataType, name: str, fmt: OutputFormat) -> pl.Expr:
    """A column's dates or timestamps as text, as the writer or ``render_moments`` would write them."""
    if dtype == pl.Date:
        return pl.col(name).dt.to_string(fmt.date_format)
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        return _moment_text(pl.col(name), fmt)
    return pl.col(name).dt.to_string(fmt.local_timestamp_format)


UTC_OFFSETS = {"%:z": "+00:00", "%::z": "+00:00:00", "%#z": "+00", "%z": "+0000"}


def _server_text(dtype: pl.DataType, hidden: str, fmt: OutputFormat) -> pl.Expr:
    """The server's text of a value the writer cannot render; a moment's (timestamptz, in UTC) with
    the offset its column's other values are written with, unless it is infinity."""
    text = pl.col(hidden)
    if not (isinstance(dtype, pl.Datetime) and dtype.time_zone is not None):
        return text
    offset = next((v for k, v in UTC_OFFSETS.items() if k in fmt.moment_format), "+00:00")
    return pl.when(text.str.ends_with("infinity")).then(text).otherwise(text + offset)


ISO_DATE = "%Y-%m-%d"
ISO_TIMESTAMP = "%Y-%m-%d %H:%M:%S"
TIMESTAMP_INPUTS = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M")


def render_dates(
    frame: pl.DataFrame, dates: tuple[str, ...], timestamps: tuple[str, ...], fmt: OutputFormat
) -> pl.DataFrame:
    """SQLite keeps dates as ISO text: reformat those of DATE/TIMESTAMP columns; other text stays as is."""
    exprs = []
    if fmt.date_format != ISO_DATE:
        for name in dates:
            if frame.schema.get(name) == pl.String:
                parsed = pl.col(name).str.to_date(ISO_DATE, strict=False)
                exprs.append(pl.coalesce(parsed.dt.to_string(fmt.date_format), pl.col(name)).alias(name))
    if fmt.timestamp_format != ISO_TIMESTAMP:
        for name in timestamps:
            if frame.schema.get(name) == pl.String:
                parsed = pl.coalesce(
                    [pl.col(name).str.to_datetime(f, strict=False) for f in TIMESTAMP_INPUTS]
                )
                exprs.append(
                    pl.coalesce(parsed.dt.to_string(fmt.local_timestamp_format), pl.col(name)).alias(name)
                )
    return frame.with_columns(exprs) if exprs else frame


def render_moments(frame: pl.DataFrame, fmt: OutputFormat) -> pl.DataFrame:
    """Timestamps with a zone (PostgreSQL's timestamptz) as text in UTC with their offset: the moment
    each is, whatever the session's time zone, which an import reads back with a format holding %z.
    (The CSV writer takes one format for every timestamp, and one without a zone has no offset.)"""
    moments = [n for n, t in frame.schema.items() if isinstance(t, pl.Datetime) and t.time_zone is not None]
    if not moments:
        return frame
    return frame.with_columns(_moment_text(pl.col(moments), fmt))


def _moment_text(moments: pl.Expr, fmt: OutputFormat) -> pl.Expr:
    return moments.dt.convert_time_zone("UTC").dt.to_string(fmt.moment_format)


NUMBER_TEXT = r"^[-+]?[0-9]*\.[0-9]+(?:[eE][-+]?[0-9]+)?$"


def render_numeric(frame: pl.DataFrame, numeric: tuple[str, ...], fmt: OutputFormat) -> pl.DataFrame:
    """Exact numbers come as text: the decimal separator is applied to that text (to the numbers
    only, should a column hold other text too)."""
    texts = [n for n in numeric if frame.schema.get(n) == pl.String]
    if fmt.decimal_separator == "." or not texts:
        return frame
    return frame.with_columns(
        pl.when(pl.col(n).str.contains(NUMBER_TEXT))
        .then(pl.col(n).str.replace(".", fmt.decimal_separator, literal=True))
        .otherwise(pl.col(n))
        .alias(n)
        for n in texts
    )
