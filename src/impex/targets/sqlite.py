"""SQLite as a target, through ADBC (Arrow ingest; no Python tuples in the hot path).

A chunk's rows, its seen-key hashes and its checkpoint commit in one transaction of the target file;
the checkpoint row carries the run's fencing token, so a worker that lost the run cannot commit.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import adbc_driver_manager
import adbc_driver_sqlite.dbapi as adbc
import numpy as np
import polars as pl
import pyarrow as pa

from impex.domain.definitions import ColumnType
from impex.targets.base import (
    Checkpoint,
    ChunkResult,
    ChunkTransactions,
    ChunkWrite,
    ColumnDef,
    FencedOut,
    Finalize,
    Refusal,
    RefusedRecord,
    RunSpec,
    TargetError,
    run_tables,
)
from impex.targets.sql import driver_words, quote, quoted_list
from impex.targets.sqlite_deferred import applied_checked, staged_checked
from impex.targets.sqlite_keys import TableKeys, lacks_parent, table_keys, unique_on
from impex.targets.sqlite_refusal import explained, is_refusal, raised_messages
from impex.targets.sqlite_sql import name_key as sqlite_name_key
from impex.targets.sqlite_sql import schema_refusal
from impex.targets.staged_updates import UPDATES, apply_counted, changes_sql, last_of_each_key
from impex.targets.values import arrow, as_stored
from impex.targets.writeback import Writeback, descriptors_of

SQLITE_TYPES = {
    ColumnType.STRING: "TEXT",
    ColumnType.INTEGER: "INTEGER",
    ColumnType.FLOAT: "REAL",
    ColumnType.DECIMAL: "TEXT",  # exact; SQLite has no decimal type
    ColumnType.BOOLEAN: "INTEGER",
    ColumnType.DATE: "DATE",  # ISO text; NUMERIC affinity keeps it so (it is no number), and tools see a date
    ColumnType.TIMESTAMP: "TIMESTAMP",
}

CHECKPOINTS = "_impex_checkpoint"
NEW_FILE_PAGE_SIZE = 65536  # bytes; SQLite's largest
RETRIED = "_impex_retried"  # staged records inserted again (atomic mode)
STAGED_BATCH = 50_000  # rows of the staging table held in memory at once by the final apply
STAGED = ("_op", "_rec", "_line", "_raw")  # what a staged row has besides the job's columns


_PARAMETER_TYPES = {int: pa.int64(), float: pa.float64(), str: pa.string(), bytes: pa.binary()}


def _rows_differ(a: str, b: str) -> str:
    return f"({a}) IS NOT ({b})"


def _bound(params: tuple[Any, ...]) -> pa.RecordBatch | tuple[Any, ...]:
    """Parameters as typed Arrow columns. Given a tuple, the driver infers each type, and PyArrow's
    inference looks for an optional package on every call: 0.2 ms a statement, two statements a chunk."""
    types = [_PARAMETER_TYPES.get(type(value)) for value in params]
    if None in types:
        return params
    try:
        arrays = [pa.array([value], kind) for value, kind in zip(params, types, strict=True)]
    except OverflowError:  # an integer past 64 bits: the driver says what it makes of it
        return params
    return pa.RecordBatch.from_arrays(arrays, names=[str(i) for i in range(len(params))])


class SqliteTarget:
    holds_nan = False  # SQLite stores NULL for a NaN

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        before = descriptors_of(self.path)
        try:
            # Autocommit at the driver level: we issue BEGIN IMMEDIATE ourselves, so that two writers
            # queue on the lock instead of deadlocking on an upgrade.
            self.conn = adbc.connect(str(self.path), autocommit=True)
            self.writeback = Writeback(self.path, before)
        except adbc_driver_manager.Error as e:
            raise TargetError(f"cannot open SQLite database {self.path}: {e}") from e
        self.cur = self.conn.cursor()
        self._triggers: list[tuple[str, str, list[re.Pattern[str]]]] | None = None
        self._execute("PRAGMA busy_timeout=30000")
        # A row that breaks a foreign key is refused, as PostgreSQL refuses it (SQLite's default is off).
        self._execute("PRAGMA foreign_keys=ON")
        # Only a new, empty file takes it (an existing one keeps its own). With 16 times fewer pages
        # to fill, link and write than at the default 4 KiB, SQLite's own insert work for the
        # benchmark's million rows drops by a sixth (bench/sqlite_insert_floor.py: 1.08 s to 0.89 s).
        self._execute(f"PRAGMA page_size={NEW_FILE_PAGE_SIZE}")
        # Kill -9 safe in any journal mode (the journal rolls an unfinished chunk back); we keep the
        # file's own mode: WAL's checkpoints cost more than they save on bulk loads.
        self._execute("PRAGMA synchronous=NORMAL")
        self._execute(
            f"CREATE TABLE IF NOT EXISTS {CHECKPOINTS} (run_key TEXT PRIMARY KEY, token TEXT NOT NULL, "
            "byte_offset INTEGER NOT NULL, record_no INTEGER NOT NULL, line_no INTEGER NOT NULL, "
            "counters TEXT NOT NULL, state TEXT NOT NULL)"
        )

    def begin(self) -> None:
        self._execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        try:
            self._execute("COMMIT")
        except adbc_driver_manager.Error as e:  # a refusal: a deferred key the run could not check
            raise TargetError(
                f"SQLite database {self.path}: the commit was refused: {driver_words(str(e))} "
                "(a DEFERRABLE INITIALLY DEFERRED key broken by a change impex does not check: "
                "only rows written and rows deleted are)"
            ) from e

    def rollback(self) -> None:
        with contextlib.suppress(adbc_driver_manager.Error):  # no transaction was open
            self.cur.execute("ROLLBACK")

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        try:
            self.cur.execute(sql, _bound(params) if params else None)
        except adbc_driver_manager.Error as e:
            if self.refuses(e):
                raise
            raise TargetError(f"SQLite database {self.path}: {driver_words(str(e))}") from e
        return self.cur

    def refuses(self, error: Exception) -> bool:
        """Whether the error refuses a row (a constraint, a STRICT column's type, a trigger's RAISE),
        not the statement."""
        return is_refusal(str(error)) or self.raising_trigger(driver_words(str(error))) is not None

    def raising_trigger(self, message: str) -> tuple[str, str] | None:
        """The trigger (its name and table) whose RAISE says ``message``, if one does."""
        if self._triggers is None:
            self._triggers = []  # while they are read: a failure of that read is no trigger's
            try:
                found = self._rows("SELECT name, tbl_name, sql FROM sqlite_master WHERE type='trigger'")
            except (TargetError, adbc_driver_manager.Error):
                self._triggers = None
                return None
            self._triggers = [(name, table, raised_messages(str(sql or ""))) for name, table, sql in found]
        for name, table, patterns in self._triggers:
            if any(p.fullmatch(message) for p in patterns):
                return name, table
        return None

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return list(self._execute(sql, params).fetchall())

    def name_key(self, name: str) -> str:
        return sqlite_name_key(name)

    def _has(self, kind: str, name: str) -> bool:
        """Whether the file has a table or view of that name: SQLite's names are case-blind (a table
        Mixed is the table mixed)."""
        if (refused := schema_refusal(name, self.path.name)) is not None:
            raise TargetError(refused)
        sql = "SELECT 1 FROM sqlite_master WHERE type=? AND name=? COLLATE NOCASE"
        return bool(self._rows(sql, (kind, name)))

    def table_exists(self, table: str) -> bool:
        return self._has("table", table)

    def is_view(self, table: str) -> bool:
        return self._has("view", table)

    def table_sql(self, table: str) -> str | None:
        """The statement that created the table, as SQLite keeps it."""
        found = self._rows(
            "SELECT sql FROM sqlite_master WHERE type='table' AND name=? COLLATE NOCASE", (table,)
        )
        return str(found[0][0]) if found else None

    def index_sql(self, index: str) -> str | None:
        """The statement that created the index, as SQLite keeps it."""
        found = self._rows("SELECT sql FROM sqlite_master WHERE type='index' AND name=?", (index,))
        return str(found[0][0]) if found and found[0][0] is not None else None

    def table_columns(self, table: str) -> list[str]:
        return [r[1] for r in self._rows(f"PRAGMA table_info({quote(table)})")]

    def computed_columns(self, table: str) -> dict[str, str]:
        """Generated columns (which ``table_columns`` does not list), which a run must not write."""
        hidden = {2: "GENERATED ALWAYS AS (…) VIRTUAL", 3: "GENERATED ALWAYS AS (…) STORED"}
        return {
            r[1]: hidden[r[6]] for r in self._rows(f"PRAGMA table_xinfo({quote(table)})") if r[6] in hidden
        }

    def required_columns(self, table: str) -> list[str]:
        """Columns a new row must be given a value for: NOT NULL, no default (an INTEGER PRIMARY KEY
        is the rowid: SQLite picks one)."""
        info = self._rows(f"PRAGMA table_info({quote(table)})")
        keys = [r for r in info if r[5]]
        rowid = keys[0][1] if len(keys) == 1 and str(keys[0][2]).upper() == "INTEGER" else None
        return [r[1] for r in info if r[3] and r[4] is None and r[1] != rowid]

    def create_table(self, table: str, columns: list[ColumnDef], keys: tuple[str, ...]) -> None:
        by_name = {c.name: c for c in columns}
        rowid_key = len(keys) == 1 and by_name[keys[0]].type is ColumnType.INTEGER
        parts = []
        for c in columns:
            sql = f"{quote(c.name)} {SQLITE_TYPES[c.type]}"
            if rowid_key and c.name == keys[0]:
                sql += " PRIMARY KEY"
            elif c.required or c.name in keys:
                sql += " NOT NULL"
            parts.append(sql)
        if keys and not rowid_key:
            parts.append(f"PRIMARY KEY ({quoted_list(keys)})")
        self._execute(f"CREATE TABLE IF NOT EXISTS {quote(table)} ({', '.join(parts)})")

    def is_empty(self, table: str) -> bool:
        return not self._rows(f"SELECT 1 FROM {quote(table)} LIMIT 1")

    def committed_records(self, run_key: str) -> int:
        found = self._rows(f"SELECT record_no FROM {CHECKPOINTS} WHERE run_key=?", (run_key,))
        return int(found[0][0]) if found else 0

    def open_run(self, spec: RunSpec, state: dict[str, Any]) -> SqliteRun:
        """The run's target; a new run's checkpoint starts with ``state``."""
        return SqliteRun(self, spec, state)

    def drop_run_tables(self, run_key: str) -> None:
        """A run that will never go on (canceled while no worker held it): its own tables go."""
        for table in run_tables(run_key):
            self._execute(f"DROP TABLE IF EXISTS {quote(table)}")

    def stream(self, sql: str, params: tuple[Any, ...] = ()) -> Iterator[pa.RecordBatch]:
        """Rows of a query as Arrow batches, read without loading them all."""
        self._execute(sql, params)
        yield from self.cur.fetch_record_batch()

    def close(self) -> None:
        self.writeback.stop()
        try:
            self.cur.close()
            self.conn.close()
        except adbc_driver_manager.Error:
            pass


class SqliteRun(ChunkTransactions):
    """A run's checkpoint, seen-key set, staging (atomic mode) and chunk commits."""

    t: SqliteTarget

    def __init__(self, target: SqliteTarget, spec: RunSpec, state: dict[str, Any]) -> None:
        super().__init__(spec)
        self.t = target
        self.columns = target.table_columns(spec.table)
        self.upserts_keys = False  # SQLite's key lookups are cheap: inserts and updates stay apart
        self.unique_keys = not spec.keys or unique_on(target._rows, spec.table, spec.keys)
        self.checkpoint = self._claim(state)
        self.applied = self.checkpoint  # the last chunk's checkpoint, committed or not
        self.pending = False  # a transaction holds applied chunks not committed yet
        self._foreign_keys: TableKeys | None = None

    def foreign_keys(self) -> TableKeys:
        """The foreign keys the table takes part in, read once."""
        if self._foreign_keys is None:
            self._foreign_keys = table_keys(self.t._rows, self.table)
        return self._foreign_keys

    # The new token replaces the old one in the checkpoint row: from now on only this run object commits.
    def _claim(self, state: dict[str, Any]) -> Checkpoint:
        t = self.t
        t.begin()
        row = t._rows(
            f"SELECT byte_offset, record_no, line_no, counters, state FROM {CHECKPOINTS} WHERE run_key=?",
            (self.run_key,),
        )
        self.resumed = bool(row)
        if row:
            offset, record_no, line_no, counters, saved = row[0]
            t._execute(f"UPDATE {CHECKPOINTS} SET token=? WHERE run_key=?", (self.token, self.run_key))
            checkpoint = self._stored_checkpoint(offset, record_no, line_no, counters, saved)
        else:
            checkpoint = Checkpoint(state=state)
            t._execute(
                f"INSERT INTO {CHECKPOINTS} VALUES (?, ?, 0, 0, 0, ?, ?)",
                self._new_checkpoint_row(state),
            )
        if checkpoint.state.get("done"):
            t.commit()
            return checkpoint
        t._execute(f"CREATE TABLE IF NOT EXISTS {quote(self.seen_table)} (h INTEGER NOT NULL)")
        t.commit()
        return checkpoint

    def table_keys(self) -> pl.DataFrame:
        """The key columns of every row in the table, as stored."""
        frame = pl.from_arrow(self._fetch(f"SELECT {quoted_list(self.keys)} FROM {quote(self.table)}"))
        assert isinstance(frame, pl.DataFrame)
        return frame

    def seen_hashes(self) -> np.ndarray:
        self.t._execute(f"SELECT h FROM {quote(self.seen_table)}")
        table = self.t.cur.fetch_arrow_table()
        return table.column(0).to_numpy().astype(np.int64) if table.num_rows else np.empty(0, np.int64)

    def existing(self, keys: pl.DataFrame) -> np.ndarray:
        """Boolean mask: which rows of ``keys`` are already in the table."""
        if keys.height == 0:
            return np.zeros(0, dtype=bool)
        cond = " AND ".join(f"t.{quote(k)} = j.value->>'{k}'" for k in self.keys)
        table = quote(self.table)
        sql = f"SELECT j.key FROM json_each(?) j WHERE EXISTS (SELECT 1 FROM {table} t WHERE {cond})"
        self.t._execute(sql, (as_stored(keys).write_json(),))
        hits = self.t.cur.fetch_arrow_table()
        mask = np.zeros(keys.height, dtype=bool)
        if hits.num_rows:
            mask[hits.column(0).to_numpy()] = True
        return mask

    def key_lookup(self) -> None:
        """None: outside WAL mode (the file keeps its own), a run's transaction that outgrows the
        page cache locks readers out until it commits, and it would be waiting for the very chunk
        such a reader is reconciling."""
        return None

    def _check_token(self) -> None:
        self.t._execute(
            f"UPDATE {CHECKPOINTS} SET token=token WHERE run_key=? AND token=?", (self.run_key, self.token)
        )
        if self.t._rows("SELECT changes()")[0][0] != 1:
            raise FencedOut(f"run {self.run_key} was taken over by another worker")

    def _add_seen(self, hashes: np.ndarray) -> None:
        self.t.cur.adbc_ingest(self.seen_table, pl.DataFrame({"h": hashes}).to_arrow(), mode="append")

    def _write_checkpoint(self, checkpoint: Checkpoint) -> None:
        self.t._execute(
            f"UPDATE {CHECKPOINTS} SET byte_offset=?, record_no=?, line_no=?, counters=?, state=? "
            "WHERE run_key=? AND token=?",
            self._checkpoint_update(checkpoint),
        )

    def isolating(self, frame: pl.DataFrame, op: Any, refused: list[Refusal]) -> int:
        """Run ``op`` on the frame; rows the database refuses are isolated by halving, not row by row.

        The driver inserts row by row, and SQLite checks an immediate foreign key at each row, where
        PostgreSQL's COPY checks it at the end of the chunk: so the rows refused for want of a parent
        go in again once the others are in (a parent may come later in the chunk), until no more does.
        """
        first = len(refused)
        done = went_in = self._halving(frame, op, refused)
        while went_in and (orphans := {r.row for r in refused[first:] if lacks_parent(r.message)}):
            again: list[Refusal] = []
            went_in = self._halving(frame.filter(pl.col("_row").is_in(sorted(orphans))), op, again)
            done += went_in
            refused[first:] = sorted([*(r for r in refused[first:] if r.row not in orphans), *again])
        return done

    def _halving(self, frame: pl.DataFrame, op: Any, refused: list[Refusal]) -> int:
        t = self.t
        t._execute("SAVEPOINT impex_part")
        try:
            done = int(op(frame))
            t._execute("RELEASE impex_part")
            return done
        except adbc_driver_manager.Error as e:
            if not self.t.refuses(e):
                raise TargetError(f"SQLite database {t.path}: {driver_words(str(e))}") from e
            t._execute("ROLLBACK TO impex_part")
            t._execute("RELEASE impex_part")
            if frame.height == 1:
                refused.append(explained(self, frame, driver_words(str(e))))
                return 0
            half = frame.height // 2
            return self._halving(frame.slice(0, half), op, refused) + self._halving(
                frame.slice(half), op, refused
            )

    def insert(self, frame: pl.DataFrame) -> int:
        self.t.cur.adbc_ingest(self.table, arrow(frame.drop("_row")), mode="append")
        return frame.height

    def apply_chunk(self, write: ChunkWrite, finalize: Finalize) -> Checkpoint:
        checkpoint = super().apply_chunk(write, finalize)
        self.t.writeback.start()  # the commit to come then finds less to write
        return checkpoint

    def load_temp(self, name: str, frame: pl.DataFrame) -> None:
        self.t._execute(f"DROP TABLE IF EXISTS temp.{quote(name)}")
        self.t.cur.adbc_ingest(name, arrow(frame), mode="create", temporary=True)

    def update(self, frame: pl.DataFrame) -> int:
        self.load_temp("_impex_upd", frame.drop("_row"))
        values = [c for c in frame.columns if c != "_row" and c not in self.keys]
        if not values:
            return 0
        sets = ", ".join(f"{quote(c)} = s.{quote(c)}" for c in values)
        join = " AND ".join(f"{quote(self.table)}.{quote(k)} = s.{quote(k)}" for k in self.keys)
        mine = ", ".join(f"{quote(self.table)}.{quote(c)}" for c in values)
        theirs = ", ".join(f"s.{quote(c)}" for c in values)
        changing = f"{join} AND ({mine}) IS NOT ({theirs})"
        records = None
        if not self.unique_keys:  # a key on several rows updates them all, and counts once
            records = self.t._rows(
                f"SELECT count(*) FROM temp._impex_upd s WHERE EXISTS (SELECT 1 FROM {quote(self.table)} "
                f"WHERE {changing})"
            )[0][0]
        self.t._execute(f"UPDATE {quote(self.table)} SET {sets} FROM temp._impex_upd s WHERE {changing}")
        return int(self.t._rows("SELECT changes()")[0][0] if records is None else records)

    def insert_missing(self, frame: pl.DataFrame) -> int:
        self.load_temp("_impex_new", frame.drop("_row"))
        cols = quoted_list([c for c in frame.columns if c != "_row"])
        cond = " AND ".join(f"t.{quote(k)} = s.{quote(k)}" for k in self.keys)
        self.t._execute(
            f"INSERT INTO {quote(self.table)} ({cols}) SELECT {cols} FROM temp._impex_new s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {quote(self.table)} t WHERE {cond})"
        )
        return int(self.t._rows("SELECT changes()")[0][0])

    def _delete(self, keys: pl.DataFrame) -> int:
        self.load_temp("_impex_del", keys.select(list(self.keys)))
        cond = " AND ".join(f"{quote(self.table)}.{quote(k)} = d.{quote(k)}" for k in self.keys)
        self.t._execute(
            f"DELETE FROM {quote(self.table)} WHERE EXISTS (SELECT 1 FROM temp._impex_del d WHERE {cond})"
        )
        return int(self.t._rows("SELECT changes()")[0][0])

    def _stage(self, write: ChunkWrite) -> ChunkResult:
        parts = [
            ("i", write.inserts),
            ("u", write.updates),
            ("u", write.rewrites),
            ("r", write.again),
            ("d", write.deletes),
        ]
        for op, frame in parts:
            if frame is None or frame.height == 0:
                continue
            staged = frame.with_columns(pl.lit(op).alias("_op")).drop("_row")
            # The staged columns are the job's: at the end only those are written, so the table's
            # other columns keep their values, or take their defaults.
            cols = ", ".join(quote(c) for c in staged.columns if c not in STAGED)
            self.t._execute(
                f"CREATE TABLE IF NOT EXISTS {quote(self.stage_table)} "
                f"(_op TEXT, _rec INTEGER, _line INTEGER, _raw BLOB, {cols})"
            )
            self.t.cur.adbc_ingest(self.stage_table, arrow(staged), mode="append")
        return ChunkResult()

    def _apply(self, write: ChunkWrite) -> ChunkResult:
        if self.foreign_keys().deferred:
            return applied_checked(self, write, super()._apply)
        return super()._apply(write)

    def _apply_staged(self) -> ChunkResult:
        if self.foreign_keys().deferred:
            return staged_checked(self, self._apply_staged_rows)
        return self._apply_staged_rows()

    def staged_columns(self) -> list[str]:
        """The job's columns, as the staging table holds them (the table's others are not written)."""
        return [c for c in self.t.table_columns(self.stage_table) if c not in STAGED]

    def _apply_staged_rows(self) -> ChunkResult:
        """Staged inserts, then the last staged update of each key (their counts: see
        ``staged_updates``), then deletes. Rows the database refuses are isolated by halving, batch
        by batch, and reported with their record."""
        result = ChunkResult()
        if not self.t.table_exists(self.stage_table):
            return result
        stage = quote(self.stage_table)
        staged = self.staged_columns()
        cols = quoted_list(staged)
        self.t._execute("SAVEPOINT impex_all")
        try:
            self.t._execute(
                f"INSERT INTO {quote(self.table)} ({cols}) "
                f"SELECT {cols} FROM {stage} WHERE _op='i' ORDER BY _rec"
            )
            result.inserted = int(self.t._rows("SELECT changes()")[0][0])
            self.t._execute("RELEASE impex_all")
        except adbc_driver_manager.Error as e:
            if not self.t.refuses(e):
                raise
            self.t._execute("ROLLBACK TO impex_all")
            self.t._execute("RELEASE impex_all")
            result.inserted = self._staged_isolating("_op='i'", staged, self.insert, result)
            result.inserted += self._orphans_again(staged, result)
        if not self.keys:
            return result
        if self.t._rows(f"SELECT 1 FROM {stage} WHERE _op IN ('u', 'r') LIMIT 1"):
            self._apply_staged_updates(staged, result)
        # A delete too may be refused: a foreign key of another table still refers to the row.
        result.deleted = self._staged_isolating("_op='d'", staged, self._delete, result)
        return result

    def _orphans_again(self, staged: list[str], result: ChunkResult) -> int:
        """Insert again the staged rows refused for want of a parent, now that the others are in:
        one statement took them all, and a parent later in the file was then a parent too, but the
        rows isolated after a refusal went in batch by batch (``isolating`` retries within a batch).
        Until no more goes in."""
        inserted = 0
        while orphans := {r.record_no for r in result.refused_records if lacks_parent(r.message)}:
            self.load_temp(RETRIED, pl.DataFrame({"_rec": sorted(orphans)}, schema={"_rec": pl.Int64}))
            again = ChunkResult()
            done = self._staged_isolating(
                f"_op='i' AND _rec IN (SELECT _rec FROM temp.{RETRIED})", staged, self.insert, again
            )
            if not done:
                return inserted
            inserted += done
            result.refused_records = [r for r in result.refused_records if r.record_no not in orphans]
            result.refused_records = sorted([*result.refused_records, *again.refused_records])
        return inserted

    def _apply_staged_updates(self, staged: list[str], result: ChunkResult) -> None:
        """The last staged update of each key, counted as each one would have counted in incremental
        mode; a key without a row is inserted when the run inserts (the copy before was refused)."""
        stage, table = quote(self.stage_table), quote(self.table)
        where = last_of_each_key(stage, self.keys)
        values = [c for c in staged if c not in self.keys]

        def changes() -> tuple[int, int]:
            ((updated, total),) = self.t._rows(
                changes_sql(stage, table, self.keys, values, _rows_differ, unique=self.unique_keys)
            )
            return int(updated), int(total) - int(updated)

        def update() -> None:
            self._staged_isolating(where, staged, self.update, result)

        apply_counted(
            result,
            changes=changes if values else None,
            count=lambda: int(self.t._rows(f"SELECT count(*) FROM {stage} WHERE {UPDATES}")[0][0]),
            update=update,
            revive=(
                (lambda: self._staged_isolating(where, staged, self.insert_missing, result))
                if self.inserts_missing
                else None
            ),
        )

    def _staged_isolating(self, where: str, staged: list[str], op: Any, result: ChunkResult) -> int:
        """Apply ``op`` to the staged rows matching ``where``, in record order and in batches."""
        cols = quoted_list(staged)
        done = 0
        after = -1
        while True:
            batch = pl.from_arrow(
                self._fetch(
                    f"SELECT {cols}, _rec, _line, _raw FROM {quote(self.stage_table)} "
                    f"WHERE {where} AND _rec > {after} ORDER BY _rec LIMIT {STAGED_BATCH}"
                )
            )
            assert isinstance(batch, pl.DataFrame)
            if batch.height == 0:
                return done
            after = int(batch["_rec"][-1])
            refused: list[Refusal] = []
            rows = batch.select(staged).with_row_index("_row").with_columns(pl.col("_row").cast(pl.Int64))
            done += self.isolating(rows, op, refused)
            result.refused_records += RefusedRecord.of_staged(batch, refused)

    def _fetch(self, sql: str) -> Any:
        self.t._execute(sql)
        return self.t.cur.fetch_arrow_table()

    def fetch_frame(self, sql: str) -> pl.DataFrame:
        frame = pl.from_arrow(self._fetch(sql))
        assert isinstance(frame, pl.DataFrame)
        return frame

    def _final_failure(self, error: BaseException) -> None:
        if isinstance(error, adbc_driver_manager.Error):
            raise TargetError(
                f"SQLite database {self.t.path}: the final apply failed, nothing was written: "
                f"{driver_words(str(error))}"
            ) from error
