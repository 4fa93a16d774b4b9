"""Atomic mode on PostgreSQL: chunks wait in a staging table; ``finish`` applies them all at once.

The staging table has the target's own column types (but none of its constraints), so a value the
table cannot hold at all (too long, out of range) is refused when its chunk is staged, with its line.
The final apply is one set-based statement per operation; only when the database refuses one of
them are the staged rows walked in record order and the refused ones isolated by halving. Staged
rows carry their record number, line and raw bytes, so that those are still known at the end.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import polars as pl

from impex.targets.base import ChunkResult, ChunkWrite, Refusal, RefusedRecord
from impex.targets.pg_copy import ENCODED, as_encoded, encode_rows, encoded_rows
from impex.targets.pg_fit import Refused, as_frame, selected_as_text, sending
from impex.targets.sql import quote, quote_table, quoted_list
from impex.targets.staged_updates import UPDATES, apply_counted, changes_sql, last_of_each_key

if TYPE_CHECKING:
    from collections.abc import Callable

    from impex.targets.base import Op
    from impex.targets.pg_run import PostgresRun

RECORD = {"_rec": "bigint", "_line": "bigint", "_raw": "bytea"}  # what the engine adds to staged rows
# staged as, from ChunkWrite's ("r": a later copy of a key the same chunk wrote before)
OPERATIONS = (("i", "inserts"), ("u", "updates"), ("u", "rewrites"), ("r", "again"), ("d", "deletes"))
STAGED = {"_op": "text", **RECORD}
STAGED_BATCH = 50_000  # staged rows held in memory at once when the final apply isolates refusals


class Staging:
    def __init__(self, run: PostgresRun, table: str) -> None:
        self.run = run
        self.t = run.t
        self.name = table
        # Per operation, the columns of its encoded rows: set by the first chunk, for good (the
        # reading thread encodes while the writing thread sends the chunk before).
        self.columns: dict[str, list[str]] = {}

    def prepare(self, write: ChunkWrite) -> ChunkWrite:
        """The rows to stage encoded for binary COPY into the staging table, ``_op`` included."""
        for op, name in OPERATIONS:
            frame = getattr(write, name)
            if frame is not None and frame.height:
                setattr(write, name, self._encoded(op, frame))
        return write

    def _encoded(self, op: str, frame: pl.DataFrame) -> pl.DataFrame:
        staged = frame.with_columns(pl.lit(op).alias("_op"))
        columns = [c for c in staged.columns if c != "_row"]
        if self.columns.setdefault(op, columns) != columns:
            return frame
        rows = encode_rows(staged.select(columns), dict(self.run.types, **STAGED))
        # else the rows stay as they are, for the database to cast
        return frame if rows is None else as_encoded(staged, rows)

    def stage(self, write: ChunkWrite) -> ChunkResult:
        result = ChunkResult()
        types = dict(self.run.types, **STAGED)
        for op, name in OPERATIONS:
            frame = getattr(write, name)
            if frame is None or frame.height == 0:
                continue
            if ENCODED in frame.columns:
                self._ensure(self.columns[op])
                self.run.isolating(frame, partial(self._copy_encoded, self.columns[op]), result.refused)
                continue
            self._ensure(frame.columns)
            staged = frame.with_columns(pl.lit(op).alias("_op"))
            self.run.isolating(staged, lambda f: self._copy(f, types), result.refused)
        return result

    def _copy(self, frame: pl.DataFrame, types: dict[str, str]) -> int:
        self.run.copy_into(self.name, frame.drop("_row"), types)
        return frame.height

    def _copy_encoded(self, columns: list[str], frame: pl.DataFrame) -> int:
        types = dict(self.run.types, **STAGED)
        with sending({c: types[c] for c in columns}):
            self.t.copy(quote(self.name), columns, encoded_rows(frame))
        return frame.height

    def _ensure(self, columns: list[str]) -> None:
        # The staged columns are the frame's: at the end only those are written, so defaults apply.
        cols = ", ".join(f"t.{quote(c)}" for c in columns if c in self.run.types)
        extra = ", ".join(f"NULL::{pg} AS {c}" for c, pg in STAGED.items())
        self.t.execute(
            f"CREATE TABLE IF NOT EXISTS {quote(self.name)} AS "
            f"SELECT {extra}, {cols} FROM {quote_table(self.run.table)} t WITH NO DATA"
        )

    def apply(self) -> ChunkResult:
        """Staged inserts, then the last staged update of each key (their counts: see ``_changes``),
        then deletes."""
        result = ChunkResult()
        if not self.t.table_exists(self.name):
            return result
        run, stage = self.run, quote(self.name)
        staged = [c for c in self.t.column_types(self.name) if c not in STAGED]
        cols = quoted_list(staged)
        insert = f"INSERT INTO {quote_table(run.table)} ({cols}) SELECT {cols} FROM {stage} WHERE _op = 'i'"
        insert += " ORDER BY _rec"
        inserted = self._set_based(lambda: self.t.execute(insert).rowcount)
        result.inserted = (
            self._isolated("_op = 'i'", staged, run.insert, result) if inserted is None else inserted
        )
        if not run.keys:
            return result
        group = quoted_list(run.keys)
        if self.t.rows(f"SELECT 1 FROM {stage} WHERE _op IN ('u', 'r') LIMIT 1"):
            self._apply_updates(staged, result)
        result.deleted = run.delete_using(f"(SELECT DISTINCT {group} FROM {stage} WHERE _op = 'd')")
        return result

    def _apply_updates(self, staged: list[str], result: ChunkResult) -> None:
        """The last staged update of each key, counted as each one would have counted in incremental
        mode; a key without a row is inserted when the run inserts (the copy before was refused)."""
        run, stage = self.run, quote(self.name)
        where = last_of_each_key(stage, run.keys)
        values = [c for c in staged if c not in run.keys]

        def changes() -> tuple[int, int]:
            table = quote_table(run.table)
            sql = changes_sql(stage, table, run.keys, values, _rows_differ, unique=run.unique_keys)
            updated, total = self.t.rows(sql)[0]
            return int(updated), int(total) - int(updated)

        def update() -> None:
            source = f"(SELECT * FROM {stage} WHERE {where})"
            if self._set_based(partial(run.update_from, source, values)) is None:
                self._isolated(where, staged, run.update, result)

        apply_counted(
            result,
            changes=changes if values else None,
            count=lambda: int(self.t.rows(f"SELECT count(*) FROM {stage} WHERE {UPDATES}")[0][0]),
            update=update,
            revive=(
                (lambda: self._isolated(where, staged, run.insert_missing, result))
                if run.inserts_missing
                else None
            ),
        )

    def _set_based(self, statement: Callable[[], Any]) -> int | None:
        """The statement's row count, or None (and nothing done) if the database refused a row."""
        self.t.execute("SAVEPOINT impex_all")
        try:
            count = int(statement())
        except Refused:
            self.t.execute("ROLLBACK TO impex_all")
            self.t.execute("RELEASE impex_all")
            return None
        self.t.execute("RELEASE impex_all")
        return count

    def _isolated(self, where: str, staged: list[str], op: Op, result: ChunkResult) -> int:
        """``op`` over the staged rows matching ``where``, in record order and in batches."""
        done, after, types = 0, -1, self.t.column_types(self.name)
        while True:
            batch = as_frame(
                self.t.arrow(
                    f"SELECT {selected_as_text({c: types[c] for c in staged})}, _rec, _line, _raw "
                    f"FROM {quote(self.name)} "
                    f"WHERE {where} AND _rec > $1 ORDER BY _rec LIMIT {STAGED_BATCH}",
                    (after,),
                )
            )
            if batch.height == 0:
                return done
            after = int(batch["_rec"][-1])
            rows = batch.select(staged).with_row_index("_row").with_columns(pl.col("_row").cast(pl.Int64))
            refused: list[Refusal] = []
            done += self.run.isolating(rows, op, refused)
            result.refused_records += RefusedRecord.of_staged(batch, refused)

    def drop(self) -> None:
        self.t.execute(f"DROP TABLE IF EXISTS {quote(self.name)}")


def _rows_differ(a: str, b: str) -> str:
    return f"ROW({a}) IS DISTINCT FROM ROW({b})"
