"""A run into a PostgreSQL target: its checkpoint row, seen-key set, staging (atomic mode) and chunk
commits.

A chunk's rows, its seen-key hashes and its checkpoint commit in one transaction of the target
database; the checkpoint row carries the run's fencing token. Updates and deletes go through a
temporary table and one set-based statement. Rows the database refuses are isolated in windows
behind one savepoint; a failed COPY names its row, and the rest of the window goes on from there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import polars as pl

from impex.targets.base import (
    Checkpoint,
    ChunkResult,
    ChunkTransactions,
    ChunkWrite,
    FencedOut,
    Op,
    Refusal,
    RunSpec,
    TargetError,
    Upserted,
)
from impex.targets.pg_casts import cast_refusals
from impex.targets.pg_copy import ENCODED, as_encoded, encode_rows, encoded_rows, temporary_columns
from impex.targets.pg_fit import Casts, Refused, as_frame, casting, sending
from impex.targets.pg_refusal import explained
from impex.targets.pg_stage import Staging
from impex.targets.sql import quote, quote_table, quoted_list

if TYPE_CHECKING:
    from impex.targets.postgres import PostgresTarget

CHECKPOINTS = "_impex_checkpoint"
TIMESTAMPTZ = "timestamp with time zone"
WINDOW_MIN = 16  # fewest fresh rows a window takes after a refusal
CARRY_MAX = 512  # rows that passed before a refusal, sent with the next windows until this many
PROBES = ("enable_hashjoin", "enable_mergejoin", "jit")  # off: a chunk's join probes the key index
R = TypeVar("R")


@dataclass(frozen=True)
class Sequence:
    """A sequence numbering a column (serial, identity BY DEFAULT)."""

    column: str
    name: str  # as regclass writes it: schema-qualified when not in the search path
    indexed: bool  # an index leads with the column
    movable: bool  # this role may set it


class PostgresRun(ChunkTransactions):
    """A run's checkpoint, seen-key set, staging (atomic mode) and chunk commits."""

    t: PostgresTarget

    def __init__(self, target: PostgresTarget, spec: RunSpec, state: dict[str, Any]) -> None:
        super().__init__(spec)
        self.t = target
        table, keys = spec.table, spec.keys
        self.types = target.column_types(table)
        # Moments in UTC (read with an offset) bound for timestamptz columns: sent with their zone,
        # they are taken as they are; without it the database would read them in the session's zone.
        self.zoned = [c for c in spec.utc_columns if self.types.get(c) == TIMESTAMPTZ]
        # Without an index on the keys, hashing the table is the best plan there is.
        self.probe = bool(keys) and target.indexed_by(table, keys)
        self.planner = target.settings(tuple(PROBES)) if self.probe else {}
        self.unique_keys = not keys or target.unique_on(table, keys)
        self.upserts_keys = not spec.atomic and bool(keys) and self.unique_keys
        self.staging = Staging(self, self.stage_table) if spec.atomic else None
        self.sequences = target.sequences(table)
        self.insert_columns: list[str] = []  # of prepared inserts, set once (see ``prepare``)
        self.upsert_types: dict[str, str] = {}  # of prepared upserts' temporary table, set once
        self.checkpoint = self._claim(state)
        self.applied = self.checkpoint  # the last chunk's checkpoint, committed or not
        self.pending = False  # a transaction holds applied chunks not committed yet

    # The new token replaces the old one in the checkpoint row: from now on only this run object commits.
    def _claim(self, state: dict[str, Any]) -> Checkpoint:
        t = self.t
        t.begin()
        try:
            offset, record_no, line_no, counters, saved, new = t.rows(
                f"INSERT INTO {CHECKPOINTS} VALUES ($1, $2, 0, 0, 0, $3::jsonb, $4::jsonb) "
                "ON CONFLICT (run_key) DO UPDATE SET token = EXCLUDED.token "
                "RETURNING byte_offset, record_no, line_no, counters::text, state::text, xmax = 0",
                self._new_checkpoint_row(state),
            )[0]
            self.resumed = not new  # xmax = 0: the row was inserted, not updated
            checkpoint = self._stored_checkpoint(offset, record_no, line_no, counters, saved)
            if not checkpoint.state.get("done"):
                t.execute(f"CREATE TABLE IF NOT EXISTS {quote(self.seen_table)} (h bigint NOT NULL)")
            t.commit()
        except BaseException:
            t.rollback()
            raise
        return checkpoint

    def table_keys(self) -> pl.DataFrame:
        """The key columns of every row in the table, as stored; a timestamptz key given values
        without a zone as the session's time of day, as those values were read."""
        columns = ", ".join(
            f"{quote(k)}::timestamp AS {quote(k)}"
            if self.types[k] == TIMESTAMPTZ and k not in self.zoned
            else quote(k)
            for k in self.keys
        )
        return as_frame(self.t.read_committed(f"SELECT {columns} FROM {quote_table(self.table)}"))

    def read_in_zone(self, columns: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
        """The timestamptz columns among these, and the session's TimeZone: PostgreSQL reads a value
        without an offset in it, as its COPY does."""
        zoned = tuple(c for c in columns if self.types.get(c) == TIMESTAMPTZ)
        return zoned, self.t.settings(("TimeZone",))["TimeZone"] if zoned else ""

    def moments(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` with its moments in UTC bound for timestamptz columns marked as in UTC."""
        naive = [c for c in self.zoned if c in frame.columns and frame.schema[c] == pl.Datetime("us")]
        return frame.with_columns(pl.col(naive).dt.replace_time_zone("UTC")) if naive else frame

    def seen_hashes(self) -> np.ndarray:
        table = self.t.read_committed(f"SELECT h FROM {quote(self.seen_table)}")
        return table.column(0).to_numpy().astype(np.int64) if table.num_rows else np.empty(0, np.int64)

    def existing(self, keys: pl.DataFrame) -> np.ndarray:
        """Boolean mask: which rows of ``keys`` are already in the table."""
        return self.existing_on(self.t, keys)

    def existing_on(self, t: PostgresTarget, keys: pl.DataFrame) -> np.ndarray:
        """``existing``, asked over the connection ``t`` (in a transaction it has begun)."""
        mask = np.zeros(keys.height, dtype=bool)
        if keys.height == 0:
            return mask
        t.load_temporary("_impex_keys", self.moments(keys.select(self.keys)).with_row_index("_i"))
        hits = self._probing(
            lambda: t.arrow(
                f"SELECT s._i FROM pg_temp._impex_keys s WHERE EXISTS "
                f"(SELECT 1 FROM {quote_table(self.table)} t WHERE {self._join('t', 's')})"
            ),
            t,
        )
        if hits.num_rows:
            mask[hits.column(0).to_numpy()] = True
        return mask

    def key_lookup(self) -> PostgresKeyLookup | None:
        """None when no second connection can be had (the role's connection limit, say)."""
        try:
            return PostgresKeyLookup(self)
        except TargetError:
            return None

    def _probing(self, statement: Callable[[], R], t: PostgresTarget | None = None) -> R:
        """Run a statement joining a chunk's rows with the table as one index probe per row, when an
        index leads with the keys. The planner would rather hash the whole table (its cost model
        takes the index for disk reads, and right after a bulk load the table's statistics are
        stale): for every chunk, a cost that grows with the table instead of with the chunk.
        (0.5 s a chunk at 1M rows, against 50 ms.) A failed statement leaves the settings to the
        savepoint the caller rolls back to."""
        t = t or self.t
        if not self.probe:
            return statement()
        t.set_local(dict.fromkeys(PROBES, "off"))
        result = statement()
        t.set_local(self.planner)
        return result

    def _join(self, mine: str, theirs: str) -> str:
        return " AND ".join(f"{mine}.{quote(k)} = {self._cast(theirs, k)}" for k in self.keys)

    def _cast(self, alias: str, name: str) -> str:
        return f"{alias}.{quote(name)}::{self.types[name]}"

    def _check_token(self) -> None:
        # Takes the checkpoint row's lock for the transaction: a takeover waits for this chunk.
        # (RETURNING, because the driver gives no row count for a statement with parameters.)
        mine = self.t.rows(
            f"UPDATE {CHECKPOINTS} SET token = token WHERE run_key = $1 AND token = $2 RETURNING 1",
            (self.run_key, self.token),
        )
        if len(mine) != 1:
            raise FencedOut(f"run {self.run_key} was taken over by another worker")

    def unmovable_sequences(self, columns: tuple[str, ...]) -> list[tuple[str, str]]:
        return [(s.column, s.name) for s in self.sequences if not s.movable and s.column in columns]

    def _move_sequences(self, *, final: bool) -> None:
        """A row the database numbers itself after the import must not take an imported row's number
        (COPY and INSERT leave the sequence where it was). After each chunk when the column's largest
        value is found at once through an index, else once at the end."""
        for sequence in self.sequences:
            if sequence.movable and (final or sequence.indexed):
                value = self.t.move_sequence(self.table, sequence)
                if value is not None:
                    self.sequences_moved[sequence.column] = (sequence.name, value)

    def _stage(self, write: ChunkWrite) -> ChunkResult:
        assert self.staging is not None
        return self.staging.stage(write)

    def _add_seen(self, hashes: np.ndarray) -> None:
        rows = encode_rows(pl.DataFrame({"h": hashes}, schema={"h": pl.Int64}), {"h": "bigint"})
        assert rows is not None
        self.t.copy(quote(self.seen_table), ["h"], rows)

    def _write_checkpoint(self, checkpoint: Checkpoint) -> None:
        self.t.execute(
            f"UPDATE {CHECKPOINTS} SET byte_offset = $1, record_no = $2, line_no = $3, "
            "counters = $4::jsonb, state = $5::jsonb WHERE run_key = $6 AND token = $7",
            self._checkpoint_update(checkpoint),
        )

    def isolating(self, frame: pl.DataFrame, op: Op, refused: list[Refusal]) -> int:
        """Run ``op`` on the frame; rows the database refuses are isolated, not row by row.

        The frame goes in window by window behind one savepoint, the first window being the whole
        frame. A failed COPY names its row: that row is refused, the rows before it (they passed) are
        carried into the next window together with fresh rows after it, so the rows after a refused
        one are never sent again from the top. Windows shrink to about the distance between refused
        rows and double after each success. When the database names no row, the values of the
        window's rows that a cast of the statement refuses are found all at once (``pg_casts``), and
        the rest of the window is halved."""
        t, done, pos, fresh, first = self.t, 0, 0, frame.height, len(refused)
        carry = frame.clear()  # rows known to pass, not committed yet (they went in before a refusal)
        t.execute("SAVEPOINT impex_window")
        while pos < frame.height or carry.height:
            # carried rows are sent again with each window: past a few windows' worth they go alone
            taken = 0 if carry.height > CARRY_MAX else min(fresh, frame.height - pos)
            part = pl.concat([carry, frame.slice(pos, taken)]) if carry.height else frame.slice(pos, taken)
            try:
                done += int(op(part))
            except Refused as e:
                t.execute("ROLLBACK TO impex_window")
                at = e.row if e.row is not None and carry.height <= e.row < part.height else None
                if at is None:  # nothing named (or a carried row, which passed before): halve
                    done += self._halving(self._cast_refused(part, e, refused), op, refused)
                    pos, carry = pos + taken, frame.clear()
                    self._advance()
                    continue
                refused.append(explained(self, part.slice(at, 1), e))
                passed = at - carry.height  # fresh rows that went in before the refused one
                pos, carry = pos + passed + 1, part.slice(0, at)
                fresh = max(WINDOW_MIN, 2 * passed)
                continue
            pos, carry, fresh = pos + taken, frame.clear(), max(fresh, WINDOW_MIN) * 2
            self._advance()
        t.execute("RELEASE impex_window")
        refused[first:] = sorted(refused[first:], key=lambda r: r.row)  # in the frame's order
        return done

    def _cast_refused(self, frame: pl.DataFrame, error: Refused, refused: list[Refusal]) -> pl.DataFrame:
        """The rows of ``frame`` but those whose values a cast of the statement refuses, found for
        the whole frame at once (``pg_casts``) and added to ``refused``."""
        if error.casts is None:
            return frame
        found = cast_refusals(self, frame, error.casts)
        if not found:
            return frame
        refused += found.values()
        return frame.filter(~pl.int_range(frame.height).is_in(list(found)))

    def _advance(self) -> None:
        """Move the window's savepoint past the rows that went in."""
        self.t.execute("RELEASE impex_window")
        self.t.execute("SAVEPOINT impex_window")

    def _halving(self, frame: pl.DataFrame, op: Op, refused: list[Refusal]) -> int:
        """``op`` on the frame, halved recursively around refusals the database does not place."""
        t = self.t
        t.execute("SAVEPOINT impex_part")
        try:
            done = int(op(frame))
            t.execute("RELEASE impex_part")
            return done
        except Refused as e:
            t.execute("ROLLBACK TO impex_part")
            t.execute("RELEASE impex_part")
            at = e.row if e.row is not None and 0 <= e.row < frame.height else None
            if frame.height == 1 or at is not None:
                at = at or 0
                refused.append(explained(self, frame.slice(at, 1), e))
                parts = [frame.slice(0, at), *_halves(frame.slice(at + 1))]
            else:
                parts = _halves(frame)
            return sum(self._halving(p, op, refused) for p in parts if p.height)

    def prepare(self, write: ChunkWrite) -> ChunkWrite:
        """Inserts encoded for binary COPY into the table, upserts for their temporary table, one
        ``ENCODED`` value per row beside ``_row``, and staged rows (atomic mode) for the staging
        table: the reading thread encodes while the database takes the previous chunk. Rows without
        an exact binary form stay as they are. Moments in UTC get their zone first (``moments``).

        The writing thread reads the columns (and the temporary table's types) from this run, set by
        the first chunk: they stay set, and a chunk whose frame would differ is not encoded, so a
        chunk still being written never sees another chunk's layout."""
        if self.zoned:
            for name in ("inserts", "updates", "deletes", "upserts"):
                frame = getattr(write, name)
                if frame is not None:
                    setattr(write, name, self.moments(frame))
        if self.atomic:
            return self.staging.prepare(write) if self.staging is not None else write
        if write.inserts is not None:
            columns = [c for c in write.inserts.columns if c != "_row"]
            self.insert_columns = self.insert_columns or columns
            if columns == self.insert_columns:
                write.inserts = as_encoded(
                    write.inserts, encode_rows(write.inserts.select(columns), self.types)
                )
        if write.upserts is not None:
            values, types = temporary_columns(write.upserts.drop("_row"))
            self.upsert_types = self.upsert_types or types
            if types == self.upsert_types:
                write.upserts = as_encoded(write.upserts, encode_rows(values, types))
        return write

    def insert(self, frame: pl.DataFrame) -> int:
        if ENCODED in frame.columns:
            with sending({c: self.types[c] for c in self.insert_columns}):
                self.t.copy(quote_table(self.table), self.insert_columns, encoded_rows(frame))
        else:
            self.copy_into(self.table, frame.drop("_row"), self.types)
        return frame.height

    def copy_into(self, table: str, frame: pl.DataFrame, types: dict[str, str]) -> None:
        """Binary COPY when every column can be sent as the table's own type, else through a
        temporary table and INSERT … SELECT with casts (the database then judges each value)."""
        rows = encode_rows(frame, types)
        if rows is not None:
            self.t.copy(quote_table(table), frame.columns, rows)
            return
        self.t.load_temporary("_impex_ins", frame)
        cols = frame.columns
        casts = ", ".join(f"s.{quote(c)}::{types[c]}" for c in cols)
        into = f"{quote_table(table)} ({quoted_list(cols)})"
        sql = f"INSERT INTO {into} SELECT {casts} FROM pg_temp._impex_ins s"
        with casting(Casts(table, types)):
            self.t.execute(sql)

    def upsert(self, frame: pl.DataFrame, tally: Upserted) -> int:
        """One INSERT … ON CONFLICT DO UPDATE: rows whose key is new go in, the others are updated
        where a value differs (xmax = 0 tells a row inserted from one updated)."""
        if ENCODED in frame.columns:
            self.t.load_encoded("_impex_ups", self.upsert_types, encoded_rows(frame))
            cols = list(self.upsert_types)
        else:
            self.t.load_temporary("_impex_ups", frame.drop("_row"))
            cols = [c for c in frame.columns if c != "_row"]
        values = [c for c in cols if c not in self.keys]
        casts = ", ".join(self._cast("s", c) for c in cols)
        table = quote_table(self.table)
        sql = (
            f"INSERT INTO {table} AS t ({quoted_list(cols)}) SELECT {casts} FROM pg_temp._impex_ups s "
            f"ON CONFLICT ({quoted_list(self.keys)}) "
        )
        if values:
            sets = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in values)
            mine = ", ".join(f"t.{quote(c)}" for c in values)
            theirs = ", ".join(f"EXCLUDED.{quote(c)}" for c in values)
            sql += f"DO UPDATE SET {sets} WHERE ROW({mine}) IS DISTINCT FROM ROW({theirs}) "
        else:
            sql += "DO NOTHING "
        # xmax = 0: the row was inserted, not updated; counted by the server, not sent back row by row
        counted = f"WITH done AS ({sql}RETURNING xmax = 0 AS new) "
        counted += "SELECT count(*) FILTER (WHERE new), count(*) FROM done"
        encoded = self.upsert_types if ENCODED in frame.columns else None
        with sending(encoded), casting(Casts(self.table, self.types, encoded)):
            inserted, changed = self.t.rows(counted)[0]
        tally.inserted += inserted
        tally.updated += changed - inserted
        return int(changed)

    def update(self, frame: pl.DataFrame) -> int:
        values = [c for c in frame.columns if c != "_row" and c not in self.keys]
        if not values:
            return 0
        self.t.load_temporary("_impex_upd", frame.drop("_row"))
        return self._probing(lambda: self.update_from("pg_temp._impex_upd", values))

    def update_from(self, source: str, values: list[str]) -> int:
        """One UPDATE … FROM; only rows whose values differ are written, and counted by key: a key
        the table holds on several rows (no unique index says it cannot) updates them all, once."""
        table = quote_table(self.table)
        sets = ", ".join(f"{quote(c)} = {self._cast('s', c)}" for c in values)
        mine = ", ".join(f"t.{quote(c)}" for c in values)
        theirs = ", ".join(self._cast("s", c) for c in values)
        update = (
            f"UPDATE {table} t SET {sets} FROM {source} s "
            f"WHERE {self._join('t', 's')} AND ROW({mine}) IS DISTINCT FROM ROW({theirs})"
        )
        if not self.unique_keys:
            keys = ", ".join(f"t.{quote(k)}" for k in self.keys)
            return int(
                self.t.rows(
                    f"WITH done AS ({update} RETURNING {keys}) SELECT count(DISTINCT done) FROM done"
                )[0][0]
            )
        self.t.execute(update)
        return int(self.t.cur.rowcount)

    def insert_missing(self, frame: pl.DataFrame) -> int:
        cols = [c for c in frame.columns if c != "_row"]
        self.t.load_temporary("_impex_new", frame.select(cols))
        casts = ", ".join(self._cast("s", c) for c in cols)
        table = quote_table(self.table)
        self.t.execute(
            f"INSERT INTO {table} ({quoted_list(cols)}) SELECT {casts} FROM pg_temp._impex_new s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {self._join('t', 's')})"
        )
        return int(self.t.cur.rowcount)

    def _delete(self, keys: pl.DataFrame) -> int:
        self.t.load_temporary("_impex_del", keys.select(self.keys))
        return self._probing(lambda: self.delete_using("pg_temp._impex_del"))

    def delete_using(self, source: str) -> int:
        table = quote_table(self.table)
        self.t.execute(f"DELETE FROM {table} t USING {source} s WHERE {self._join('t', 's')}")
        return int(self.t.cur.rowcount)

    def _apply_staged(self) -> ChunkResult:
        assert self.staging is not None
        return self.staging.apply()

    def _final_failure(self, error: BaseException) -> None:
        if isinstance(error, Refused):
            raise TargetError(
                f"PostgreSQL database {self.t.where}: the final apply failed, nothing was written: "
                f"{error.message}"
            ) from None


class PostgresKeyLookup:
    """A run's ``existing`` over a connection of its own, for the reading thread: the run's thread
    then only writes. Each lookup is a transaction of its own, rolled back (its temporary table
    goes with it)."""

    def __init__(self, run: PostgresRun) -> None:
        self.run = run
        self.t = run.t.another()

    def existing(self, keys: pl.DataFrame) -> np.ndarray:
        self.t.begin()
        try:
            return self.run.existing_on(self.t, keys)
        finally:
            self.t.rollback()

    def close(self) -> None:
        self.t.close()


def _halves(frame: pl.DataFrame) -> list[pl.DataFrame]:
    half = frame.height // 2
    return [frame.slice(0, half), frame.slice(half)] if half else [frame]
