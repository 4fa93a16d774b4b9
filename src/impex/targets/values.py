"""How typed values are stored where a database has no native type for them (SQLite).

Also the canonical form key hashes are computed on, so that keys read back from a table hash
exactly like the same keys parsed from the file.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

TIMESTAMP_TEXT = "%Y-%m-%d %H:%M:%S%.f"


def as_stored(frame: pl.DataFrame) -> pl.DataFrame:
    """ISO text for dates and timestamps, text for decimals, 0/1 for booleans."""
    exprs = [pl.col(name).cast(pl.Int64) for name, dtype in frame.schema.items() if dtype == pl.Boolean]
    return for_ingest(frame.with_columns(exprs) if exprs else frame)


def for_ingest(frame: pl.DataFrame) -> pl.DataFrame:
    """What the SQLite driver cannot store as wanted by itself: timestamps (it would write a 'T'
    and microseconds) and decimals. Dates it would write as ISO text too, but a third as fast.
    Booleans (0/1) it converts natively."""
    columns = []
    for name, dtype in frame.schema.items():
        if dtype == pl.Date:
            columns.append(_iso_text(frame.get_column(name), whole_seconds=False))
        elif isinstance(dtype, pl.Datetime):
            columns.append(_iso_text(frame.get_column(name), whole_seconds=True))
        elif isinstance(dtype, pl.Decimal):
            columns.append(frame.get_column(name).cast(pl.Utf8))
    return frame.with_columns(columns) if columns else frame


def _iso_text(values: pl.Series, *, whole_seconds: bool) -> pl.Series:
    """``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM:SS[.fff…]`` text. Arrow's cast writes it five times as fast
    as a format string does, but always with every fractional digit: it is used when the values are
    all whole seconds (the usual file) and within years 1-9999, where both write the same text."""
    usual = bool(values.dt.year().is_between(1, 9999).all())  # nulls aside
    if whole_seconds:
        usual = usual and not (values.dt.nanosecond() != 0).any()
    if not usual:
        return values.dt.to_string(TIMESTAMP_TEXT if whole_seconds else "%Y-%m-%d")
    text = pc.cast(values.to_arrow(), pa.string())
    if whole_seconds:
        text = pc.utf8_slice_codeunits(text, 0, len("YYYY-MM-DD HH:MM:SS"))
    return pl.Series(values.name, text, dtype=pl.String)


def arrow(frame: pl.DataFrame) -> pa.Table:
    """Zero-copy Arrow (string views) for the driver."""
    return for_ingest(frame).to_arrow(compat_level=pl.CompatLevel.newest())
