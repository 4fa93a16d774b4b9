"""SQLite's own insert work for the rows of a table: the part of an import no reader can take away.

Usage: python bench/sqlite_insert_floor.py SOURCE_DB TABLE TARGET_DB CHUNK_ROWS

Reads every row of TABLE from SOURCE_DB into Arrow (not timed), creates TABLE in a new TARGET_DB
with the source's DDL, then times only the ingest through the ADBC driver impex writes with: batches
of CHUNK_ROWS in key order, eight to a transaction, as an import commits them. Prints JSON:
``{"rows": N, "ingest_s": S}``. No parsing, no validation, no checkpoints, no interpreter start.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import adbc_driver_sqlite.dbapi as adbc

from impex.targets.sqlite import NEW_FILE_PAGE_SIZE

BATCHES_PER_TRANSACTION = 8


def main() -> int:
    source, table, target, chunk_rows = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
    with adbc.connect(source) as conn, conn.cursor() as cur:
        cur.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
        ddl = cur.fetchall()[0][0]
        cur.execute(f'SELECT * FROM "{table}" ORDER BY rowid')
        rows = cur.fetch_arrow_table()
    batches = rows.combine_chunks().to_batches(max_chunksize=chunk_rows)
    target.unlink(missing_ok=True)
    with adbc.connect(str(target), autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(f"PRAGMA page_size={NEW_FILE_PAGE_SIZE}")  # as impex's target connection
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(ddl)
        began = time.perf_counter()
        for i, batch in enumerate(batches):
            if i % BATCHES_PER_TRANSACTION == 0:
                cur.execute("BEGIN IMMEDIATE")
            cur.adbc_ingest(table, batch, mode="append")
            if i % BATCHES_PER_TRANSACTION == BATCHES_PER_TRANSACTION - 1:
                cur.execute("COMMIT")
        if len(batches) % BATCHES_PER_TRANSACTION:
            cur.execute("COMMIT")
        elapsed = time.perf_counter() - began
    print(json.dumps({"rows": rows.num_rows, "ingest_s": round(elapsed, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
