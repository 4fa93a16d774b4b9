"""The import's reading thread alone: read, split and parse; validate; reconcile. In one thread, no
database, against Polars reading the same file as text columns (the parse every import needs anyway).

Run from anywhere:
  .venv/bin/python bench/bench_reading.py               # 1,000,000 records, best of 3 rounds
  .venv/bin/python bench/bench_reading.py --rows 100000 --rounds 5

The reading thread is the import's critical path on a 2-core machine (the target's thread writes
meanwhile): this shows where its time goes, with the same anchor on any machine. Not a test.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # for gen_contacts, which sits next to this file

import gen_contacts  # noqa: E402
import polars as pl  # noqa: E402
import yaml  # noqa: E402

from impex.domain.definitions import ImportJob  # noqa: E402
from impex.engine.keyset import KeySet  # noqa: E402
from impex.engine.reconcile import reconcile  # noqa: E402
from impex.formats.reader import DelimitedReader  # noqa: E402
from impex.validate import build_plan, validate  # noqa: E402


def reading_thread(job: ImportJob) -> dict[str, float]:
    """Seconds spent reading (split, parse), validating and reconciling the whole file."""
    with DelimitedReader(job.source, job.format) as probe:
        plan = build_plan(job.columns, probe.header, probe.n_fields)
    seen = KeySet()
    spent = {"read": 0.0, "validate": 0.0, "reconcile": 0.0}
    with DelimitedReader(
        job.source,
        job.format,
        max_chunk_bytes=job.chunk_bytes,
        block_size=max(64 * 1024, job.chunk_bytes // 4),
    ) as reader:
        chunks = reader.chunks(job.chunk_rows)
        while True:
            began = time.perf_counter()
            chunk = next(chunks, None)
            read = time.perf_counter()
            spent["read"] += read - began
            if chunk is None:
                return spent
            checked = validate(chunk.frame, plan, job.format, plain=chunk.plain, quoting=chunk)
            validated = time.perf_counter()
            spent["validate"] += validated - read
            rec = reconcile(
                checked.good,
                checked.good_rows,
                job.reconciliation,
                seen_contains=seen.contains,
                existing=None,
            )
            seen.add(rec.new_keys)
            spent["reconcile"] += time.perf_counter() - validated


def polars_text_read(path: Path) -> float:
    began = time.perf_counter()
    pl.read_csv(path, infer_schema=False)
    return time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    paths = gen_contacts.generate(args.rows)
    definition = yaml.safe_load(paths.job.read_text(encoding="utf-8"))
    definition["source"] = str(paths.dirty)
    job = ImportJob.model_validate(definition)
    rounds = [(polars_text_read(paths.dirty), reading_thread(job)) for _ in range(args.rounds)]
    anchor = min(r[0] for r in rounds)
    best = min((r[1] for r in rounds), key=lambda s: sum(s.values()))
    total = sum(best.values())
    print(f"== reading thread alone, {args.rows:,} records, best of {args.rounds} rounds")
    print(f"polars read_csv, text columns (anchor) {anchor:6.2f} s")
    for stage, seconds in best.items():
        print(f"impex {stage:<33} {seconds:6.2f} s")
    print(f"impex reading thread, in all          {total:6.2f} s   = {total / anchor:.1f} x the anchor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
