"""How typed values are stored where a database has no native type for them (SQLite).

Also the canonical form key hashes are computed on, so that keys read back from a table hash
exactly like the same keys parsed from the file.
"""

from __future__ import annotations

from datetime import date

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
    as a format string does: it is used within years 1-9999 and, for timestamps, when every value is a
    whole second (the usual file), cast to seconds first so that no fraction is written. There both
    write the same text."""
    physical = values.to_physical()  # days, or time units, since 1970-01-01
    per_second = _PER_SECOND[values.dtype.time_unit] if whole_seconds else 0  # type: ignore[attr-defined]
    per_day = per_second * 86_400 if whole_seconds else 1
    low, high = physical.min(), physical.max()
    usual = low is None or _FIRST_DAY * per_day <= low <= high < _AFTER_LAST_DAY * per_day  # type: ignore[operator]
    if whole_seconds and usual:
        usual = not (physical % per_second != 0).any()
    if not usual:
        return values.dt.to_string(TIMESTAMP_TEXT if whole_seconds else "%Y-%m-%d")
    data = values.to_arrow()
    if whole_seconds:
        data = data.cast(pa.timestamp("s"))
    return pl.Series(values.name, pc.cast(data, pa.string()), dtype=pl.String)


_PER_SECOND = {"ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
_FIRST_DAY = (date(1, 1, 1) - date(1970, 1, 1)).days
_AFTER_LAST_DAY = (date(9999, 12, 31) - date(1970, 1, 1)).days + 1


def arrow(frame: pl.DataFrame) -> pa.Table:
    """Zero-copy Arrow (string views) for the driver."""
    return for_ingest(frame).to_arrow(compat_level=pl.CompatLevel.newest())
