"""How fast impex.validate checks and casts 1,000,000 rows x 12 columns.

Run: python bench/validate_speed.py [ROWS]
"""

from __future__ import annotations

import sys
import time

import numpy as np
import polars as pl

from impex.domain.definitions import ColumnSpec, ColumnType, CsvFormat, Transform
from impex.validate import build_plan, validate

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
T = ColumnType

COLUMNS = [
    ColumnSpec(name="id", type=T.INTEGER, required=True),
    ColumnSpec(name="first_name", max_length=50, transforms=(Transform.CAPITALIZE,)),
    ColumnSpec(name="last_name", max_length=50),
    ColumnSpec(name="city", max_length=80),
    ColumnSpec(name="street", max_length=120),
    ColumnSpec(name="country", max_length=2, transforms=(Transform.UPPER,)),
    ColumnSpec(name="email", max_length=255, required=True, transforms=(Transform.LOWER,)),
    ColumnSpec(name="birth_date", type=T.DATE),
    ColumnSpec(name="signup_date", type=T.DATE),
    ColumnSpec(name="score", type=T.FLOAT),
    ColumnSpec(name="active", type=T.BOOLEAN),
    ColumnSpec(name="visits", type=T.INTEGER),
]


def make_frame(rows: int) -> pl.DataFrame:
    rng = np.random.default_rng(7)
    ids = np.arange(rows)
    words = np.array(["alice", "Bob", " carol ", "DAVE", "eve", "Frank", "grace", "heidi"])
    days = rng.integers(0, 20_000, rows).astype("timedelta64[D]") + np.datetime64("1970-01-01")
    frame = pl.DataFrame(
        {
            "f1": ids.astype(str),
            "f2": words[rng.integers(0, 8, rows)],
            "f3": words[rng.integers(0, 8, rows)],
            "f4": np.char.add("City ", rng.integers(0, 999, rows).astype(str)),
            "f5": np.char.add(rng.integers(1, 300, rows).astype(str), " Main Street"),
            "f6": np.array(["fr", "de", "nl", "be"])[rng.integers(0, 4, rows)],
            "f7": np.char.add(words[rng.integers(0, 8, rows)], "@Example.org"),
            "f8": np.datetime_as_string(days),
            "f9": np.datetime_as_string(days + 3),
            "f10": np.round(rng.random(rows) * 1000, 2).astype(str),
            "f11": np.array(["true", "false", "yes", "no", ""])[rng.integers(0, 5, rows)],
            "f12": rng.integers(0, 10_000, rows).astype(str),
        }
    )
    # About 0.1 % bad values spread over a few columns.
    bad = rng.random(rows) < 0.001
    return frame.with_columns(
        pl.when(pl.Series(bad)).then(pl.lit("n/a")).otherwise(pl.col("f12")).alias("f12"),
        pl.when(pl.Series(np.roll(bad, 1))).then(pl.lit("2023-02-30")).otherwise(pl.col("f8")).alias("f8"),
    )


def main() -> None:
    frame = make_frame(ROWS)
    plan = build_plan(COLUMNS, [c.name.upper() for c in COLUMNS], len(COLUMNS))
    fmt = CsvFormat()
    validate(frame.head(1000), plan, fmt)  # warm-up
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        result = validate(frame, plan, fmt)
        timings.append(time.perf_counter() - start)
    print(
        f"{ROWS:,} rows x {len(COLUMNS)} columns: best {min(timings):.3f} s, "
        f"median {sorted(timings)[2]:.3f} s; {result.good.height:,} good, {result.errors.height:,} errors"
    )


if __name__ == "__main__":
    main()
