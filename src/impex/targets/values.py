"""How typed values are stored where a database has no native type for them (SQLite).

Also the canonical form key hashes are computed on, so that keys read back from a table hash
exactly like the same keys parsed from the file.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

TIMESTAMP_TEXT = "%Y-%m-%d %H:%M:%S%.f"


def as_stored(frame: pl.DataFrame) -> pl.DataFrame:
    """ISO text for dates and timestamps, text for decimals, 0/1 for booleans."""
    exprs = [pl.col(name).cast(pl.Int64) for name, dtype in frame.schema.items() if dtype == pl.Boolean]
    return for_ingest(frame.with_columns(exprs) if exprs else frame)


def for_ingest(frame: pl.DataFrame) -> pl.DataFrame:
    """What the SQLite driver cannot store as wanted by itself: timestamps (it would write a 'T'
    and microseconds) and decimals. Dates it would write as ISO text too, but a third as fast as
    Polars formats them. Booleans (0/1) it converts natively."""
    exprs = []
    for name, dtype in frame.schema.items():
        if dtype == pl.Date:
            exprs.append(pl.col(name).dt.to_string("%Y-%m-%d"))
        elif isinstance(dtype, pl.Datetime):
            exprs.append(pl.col(name).dt.to_string(TIMESTAMP_TEXT))
        elif isinstance(dtype, pl.Decimal):
            exprs.append(pl.col(name).cast(pl.Utf8))
    return frame.with_columns(exprs) if exprs else frame


def arrow(frame: pl.DataFrame) -> pa.Table:
    """Zero-copy Arrow (string views) for the driver."""
    return for_ingest(frame).to_arrow(compat_level=pl.CompatLevel.newest())
