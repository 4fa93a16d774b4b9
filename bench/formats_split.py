"""Speed of impex.formats reading: split + field counts + encoding check + Polars parse into strings.

Usage: python bench/formats_split.py [rows] [--quoted]  (writes a CSV under the system temp dir)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from impex.domain.definitions import CsvFormat
from impex.formats.reader import DelimitedReader


def make_file(path: Path, rows: int, quoted: bool) -> None:
    rng = np.random.default_rng(1)
    columns = {
        "id": np.arange(rows),
        "amount": rng.normal(1000, 300, rows).round(2),
        "qty": rng.integers(0, 10_000, rows),
        "name": [f"customer name {i % 9973} é" for i in range(rows)],
        "city": [f"city number {i % 211}" for i in range(rows)],
        "date": ["2024-05-17"] * rows,
        "ts": ["2024-05-17 12:34:56"] * rows,
        "flag": ["true", "false"] * (rows // 2) + ["true"] * (rows % 2),
        "code": [f"CODE-{i % 100_000:06d}" for i in range(rows)],
        "email": [f"user{i}@example.org" for i in range(rows)],
        "note": ["a free text note, with a comma"] * rows,
        "score": rng.random(rows).round(6),
    }
    pl.DataFrame(columns).write_csv(path, quote_style="always" if quoted else "necessary")


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 1_000_000
    quoted = "--quoted" in sys.argv
    path = Path(tempfile.gettempdir()) / f"impex_bench_{rows}_{'q' if quoted else 'm'}.csv"
    if not path.exists():
        make_file(path, rows, quoted)
    size = path.stat().st_size
    for chunk_rows in (100_000, 1_000_000):
        started = time.perf_counter()
        n = 0
        with DelimitedReader(path, CsvFormat(delimiter=",", encoding="utf-8")) as reader:
            for chunk in reader.chunks(chunk_rows):
                n += chunk.frame.height
        elapsed = time.perf_counter() - started
        print(f"{rows} rows, {size / 1e6:.0f} MB, chunks of {chunk_rows}: {elapsed:.2f} s ({n} good rows)")


if __name__ == "__main__":
    main()
