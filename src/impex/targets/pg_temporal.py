"""PostgreSQL dates and timestamps a CSV writer cannot render, told apart in the driver's Arrow data.

The driver shifts each value from PostgreSQL's epoch (2000) to Arrow's (1970), also the sentinels
of -infinity and infinity (the smallest and largest integers), and the shift wraps infinity (and a
timestamp of the last 30 years PostgreSQL takes) round to just below -infinity: all land far before
PostgreSQL's first day (4713 BC). A value from the year 10000 on is real, but the writer's calendar
renders it otherwise than PostgreSQL (or not at all past the year 262143). Such values are taken out
of their column and given as text, as the server writes them (timestamps without a time zone).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

EPOCH_SHIFT_DAYS = 10_957  # from 1970-01-01 to 2000-01-01
FIRST = "-4713-11-24"  # PostgreSQL's first day (4713 BC, as numpy counts years)
PAST = "10000-01-01"  # from here on, the server's text
TICKS_PER_DAY = {"D": 1, "s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}


def unrenderable(table: pa.Table) -> tuple[pa.Table, dict[str, list[str | None]]]:
    """``table`` with its dates and timestamps the writer cannot render set to null, and by column
    (only those that hold such a value) the text of each: infinity, -infinity, 12345-06-07…"""
    texts: dict[str, list[str | None]] = {}
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            unit, ints = field.type.unit, table.column(i).cast(pa.int64())
        elif pa.types.is_date32(field.type):
            unit, ints = "D", table.column(i).cast(pa.int32())
        else:
            continue
        first, past = (
            int(np.array([day], dtype=f"datetime64[{unit}]").astype(np.int64)[0]) for day in (FIRST, PAST)
        )
        odd = pc.fill_null(pc.or_(pc.less(ints, first), pc.greater_equal(ints, past)), False)
        if not pc.any(odd).as_py():
            continue
        bits = 32 if unit == "D" else 64
        values = ints.to_pylist()
        texts[field.name] = [
            _text(v, unit, first, bits) if hit else None
            for v, hit in zip(values, odd.to_pylist(), strict=True)
        ]
        table = table.set_column(i, field, pc.if_else(odd, pa.nulls(len(table), field.type), table.column(i)))
    return table, texts


def _text(value: int, unit: str, first: int, bits: int) -> str:
    lowest = -(2 ** (bits - 1))
    shift = EPOCH_SHIFT_DAYS * TICKS_PER_DAY[unit]
    if value < first:
        if value == lowest + shift:
            return "-infinity"
        if value == lowest + shift - 1:
            return "infinity"
        value += 2**bits  # the last years before the largest integer, wrapped round too
    if unit == "D":
        return str(np.array([value], dtype="datetime64[D]")[0])
    per_second = TICKS_PER_DAY[unit] // TICKS_PER_DAY["s"]
    seconds, ticks = divmod(value, per_second)  # a count of seconds: numpy's range is years enough
    fraction = f".{ticks:0{len(str(per_second)) - 1}d}".rstrip("0") if ticks else ""
    return str(np.array([seconds], dtype="datetime64[s]")[0]).replace("T", " ") + fraction
