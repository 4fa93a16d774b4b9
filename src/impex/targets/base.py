"""What the runner needs from a target database, whatever its kind."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

import numpy as np
import polars as pl
import pyarrow as pa

from impex.domain.counters import Counters
from impex.domain.definitions import ColumnType
from impex.domain.position import Position


class TargetError(RuntimeError):
    """A technical failure of the target database (unreachable, locked, disk full…)."""


class FencedOut(RuntimeError):
    """Another worker took this run over: this one must not commit anything more."""


@dataclass(frozen=True)
class ColumnDef:
    name: str
    type: ColumnType
    required: bool = False
    max_length: int | None = None
    precision: int | None = None
    scale: int | None = None


@dataclass(frozen=True)
class Checkpoint:
    """A run's progress as committed in the target database, with the chunk it covers."""

    position: Position = field(default_factory=Position)
    counters: Counters = field(default_factory=Counters)
    state: dict[str, Any] = field(default_factory=dict)  # e.g. whether the table was empty at start


@dataclass
class ChunkWrite:
    """What one chunk changes in the target. Frames carry the target columns plus ``_row``
    (index of the record in the chunk) so that a row the database refuses can be reported;
    in atomic mode also ``_rec``, ``_line`` and ``_raw`` (record number, line, raw bytes), which are
    staged with the row so that the final apply can still report a refused one."""

    inserts: pl.DataFrame | None = None
    updates: pl.DataFrame | None = None
    deletes: pl.DataFrame | None = None  # key columns
    # Rows to insert, or to update where the key is there: the target tells which (``upserts_keys``).
    upserts: pl.DataFrame | None = None
    # Doubles under last_wins: the first copies of keys an earlier chunk applied (``rewrites``), and
    # the later copies of keys the rows above write (``again``, in record order), each of which
    # updates the row its copy before wrote. The reconciler counts ``again`` (without asking the
    # table): a chunk writes only the last copy of each key, after the rows above. Where the copy
    # before was refused, the row is missing: inserted when the run inserts (RunSpec.inserts_missing).
    rewrites: pl.DataFrame | None = None
    again: pl.DataFrame | None = None
    seen_hashes: np.ndarray | None = None  # key hashes this chunk adds to the run's seen set
    # When the run keeps no seen set (a resume rebuilds it from the table): the rows and hashes of
    # the keys this chunk applies. Those of rows the database refuses are kept, as the table will
    # not have them: a resume must still find their later copies doubles, as the run did.
    refusable_keys: tuple[np.ndarray, np.ndarray] | None = None


class Refusal(NamedTuple):
    """A row the database refused: its index in the frame (``_row``), the database's words, and the
    column they name with its value as text, when they name one."""

    row: int
    message: str
    column: str | None = None
    value: str | None = None


class RefusedRecord(NamedTuple):
    """A staged row refused by atomic mode's final apply, with the record it came from."""

    record_no: int
    line_no: int
    raw: bytes
    message: str
    column: str | None = None
    value: str | None = None

    @staticmethod
    def of_staged(batch: pl.DataFrame, refused: list[Refusal]) -> list[RefusedRecord]:
        """The refusals of rows of a batch of staged rows (``_rec``, ``_line``, ``_raw``)."""
        return [
            RefusedRecord(
                int(batch["_rec"][r.row]),
                int(batch["_line"][r.row]),
                bytes(batch["_raw"][r.row]),
                r.message,
                r.column,
                r.value,
            )
            for r in refused
        ]


@dataclass
class ChunkResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    # Doubles inserted, since their key had no row: the copy before them was refused. So they are not
    # doubles (no record applied the key), and the reconciler counted each as updating its row.
    revived: int = 0
    refused: list[Refusal] = field(default_factory=list)
    # Atomic mode's final apply: the staged rows carry their record (_rec, _line, _raw).
    refused_records: list[RefusedRecord] = field(default_factory=list)


# Given what the database did with a chunk, the checkpoint to commit with it (same transaction).
Finalize = Callable[[ChunkResult], Checkpoint]


Op = Callable[[pl.DataFrame], int]  # writes rows, returns how many it changed


@dataclass
class Upserted:
    """What upserts did, added up over the parts of a chunk that went in."""

    inserted: int = 0
    updated: int = 0


@dataclass(frozen=True)
class RunSpec:
    """Which run writes where: its key (which names its checkpoint row and its own tables), the
    fencing token it commits with, the table and its key columns, whether its rows are staged
    and applied in one transaction at the end (atomic), and its timestamp columns whose values are
    moments in UTC (read with a UTC offset; the frames hold them without a zone)."""

    run_key: str
    token: str
    table: str
    keys: tuple[str, ...] = ()
    atomic: bool = False
    inserts_missing: bool = False  # a double whose key has no row (its copy before was refused) goes in
    utc_columns: tuple[str, ...] = ()


class Transactions(Protocol):
    def begin(self) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def drop_run_tables(self, run_key: str) -> None: ...


def run_tables(run_key: str) -> tuple[str, str]:
    """The names of a run's own tables in the target: its seen keys, its staged rows (atomic mode)."""
    suffix = hashlib.sha1(run_key.encode()).hexdigest()[:12]
    return f"_impex_seen_{suffix}", f"_impex_stage_{suffix}"


class ChunkTransactions:
    """What every database's run target does the same way: chunks written in the open transaction
    (begun by the first, fenced by the run's token) and committed together with the last one's
    checkpoint. A target provides the transaction (``t``) and the database's own steps."""

    t: Transactions
    atomic: bool
    checkpoint: Checkpoint  # the last committed one
    applied: Checkpoint  # the last chunk's, committed or not
    pending: bool  # a transaction holds applied chunks not committed yet

    def __init__(self, spec: RunSpec) -> None:
        self.run_key = spec.run_key
        self.token = spec.token
        self.table = spec.table
        self.keys = spec.keys
        self.atomic = spec.atomic
        self.inserts_missing = spec.inserts_missing
        self.seen_table, self.stage_table = run_tables(spec.run_key)
        # column → (sequence, the value it was set to) of the sequences this process moved on
        self.sequences_moved: dict[str, tuple[str, int]] = {}

    # The checkpoint row as every database stores it: counters and state as JSON text.
    def _new_checkpoint_row(self, state: dict[str, Any]) -> tuple[str, str, str, str]:
        """run_key, token, counters, state of a run that has written nothing yet."""
        return self.run_key, self.token, json.dumps(Counters().as_dict()), json.dumps(state)

    @staticmethod
    def _stored_checkpoint(
        offset: int, record_no: int, line_no: int, counters: str, state: str
    ) -> Checkpoint:
        return Checkpoint(
            Position(offset, record_no, line_no), Counters.from_dict(json.loads(counters)), json.loads(state)
        )

    def _checkpoint_update(self, checkpoint: Checkpoint) -> tuple[Any, ...]:
        """byte_offset, record_no, line_no, counters, state, then the row's run_key and token."""
        p = checkpoint.position
        return (
            p.offset,
            p.record_no,
            p.line_no,
            json.dumps(checkpoint.counters.as_dict()),
            json.dumps(checkpoint.state),
            self.run_key,
            self.token,
        )

    def _check_token(self) -> None:
        raise NotImplementedError

    def _apply_staged(self) -> ChunkResult:
        raise NotImplementedError

    def _drop_run_tables(self) -> None:
        self.t.drop_run_tables(self.run_key)

    def _final_failure(self, error: BaseException) -> None:
        """Raise the TargetError that says why the final apply failed, if ``error`` is the database's."""
        raise NotImplementedError

    def _stage(self, write: ChunkWrite) -> ChunkResult:
        raise NotImplementedError

    def _add_seen(self, hashes: np.ndarray) -> None:
        raise NotImplementedError

    def _write_checkpoint(self, checkpoint: Checkpoint) -> None:
        raise NotImplementedError

    def read_in_zone(self, columns: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
        """Those of these columns that hold moments, so that the database reads a timestamp without
        an offset in a time zone, and that zone; none by default: it keeps them as they are."""
        return (), ""

    def unmovable_sequences(self, columns: tuple[str, ...]) -> list[tuple[str, str]]:
        """Of these columns, those numbered by a sequence this run may not move on: (column, sequence).
        None by default: a database without sequences (SQLite numbers a rowid past the largest itself)."""
        return []

    def _move_sequences(self, *, final: bool) -> None:
        """Move the table's sequences on past the values the run wrote (``sequences_moved``)."""

    def prepare(self, write: ChunkWrite) -> ChunkWrite:
        """The chunk's rows in the form this database takes them fastest. It needs no connection,
        so the reading thread runs it and the writing thread only writes."""
        return write

    def isolating(self, frame: pl.DataFrame, op: Op, refused: list[Refusal]) -> int:
        raise NotImplementedError

    def insert(self, frame: pl.DataFrame) -> int:
        raise NotImplementedError

    def update(self, frame: pl.DataFrame) -> int:
        raise NotImplementedError

    def _delete(self, keys: pl.DataFrame) -> int:
        raise NotImplementedError

    def upsert(self, frame: pl.DataFrame, tally: Upserted) -> int:
        raise NotImplementedError

    def insert_missing(self, frame: pl.DataFrame) -> int:
        """Insert the rows whose key the table does not have; how many."""
        raise NotImplementedError

    def rewrite(self, frame: pl.DataFrame, tally: Upserted) -> int:
        """Update the rows (``tally.updated``: those changed), and insert those whose key has no row
        when the run inserts (``tally.inserted``); how many rows changed."""
        updated = self.update(frame)
        inserted = self.insert_missing(frame) if self.inserts_missing else 0
        tally.updated += updated
        tally.inserted += inserted
        return updated + inserted

    def apply_chunk(self, write: ChunkWrite, finalize: Finalize) -> Checkpoint:
        """Rows, seen keys and checkpoint in the open transaction (begun here if none is), or
        nothing: on an error the whole open transaction is rolled back."""
        try:
            if not self.pending:
                self.t.begin()
                self.pending = True
                self._check_token()  # holds the checkpoint row (or the database) until the commit
            result = self._stage(write) if self.atomic else self._apply(write)
            if not self.atomic:
                self._move_sequences(final=False)
            if write.seen_hashes is not None and len(write.seen_hashes):
                self._add_seen(write.seen_hashes)
            refused = [r.row for r in result.refused]
            if write.refusable_keys is not None and refused:
                rows, hashes = write.refusable_keys
                self._add_seen(hashes[np.isin(rows, refused)])
            checkpoint = finalize(result)
            self._write_checkpoint(checkpoint)
        except BaseException:
            self._rollback()
            raise
        self.applied = checkpoint
        return checkpoint

    def commit(self) -> Checkpoint:
        """Commit the chunks applied since the last commit; their last checkpoint is now the run's."""
        if self.pending:
            try:
                self.t.commit()
            except BaseException:
                self._rollback()
                raise
            self.pending = False
            self.checkpoint = self.applied
        return self.checkpoint

    def commit_chunk(self, write: ChunkWrite, finalize: Finalize) -> Checkpoint:
        """Rows, seen keys and checkpoint in one transaction, or nothing."""
        self.apply_chunk(write, finalize)
        return self.commit()

    def _rollback(self) -> None:
        self.pending = False
        self.t.rollback()

    def finish(self, finalize: Finalize) -> Checkpoint:
        """Mark the run done; in atomic mode apply the staged rows first, all in one transaction."""
        self.commit()
        self.t.begin()
        try:
            self._check_token()
            result = self._apply_staged() if self.atomic else ChunkResult()
            self._move_sequences(final=True)
            self._drop_run_tables()
            checkpoint = finalize(result)
            self._write_checkpoint(checkpoint)
            self.t.commit()
        except BaseException as error:
            self._rollback()
            self._final_failure(error)
            raise
        self.checkpoint = checkpoint
        return checkpoint

    def drop_run_tables(self) -> None:
        self.t.begin()
        self._drop_run_tables()
        self.t.commit()

    def abandon(self) -> None:
        """Canceled: staged rows are dropped (atomic mode leaves the table untouched)."""
        self._rollback()
        self.drop_run_tables()

    def _apply(self, write: ChunkWrite) -> ChunkResult:
        result = ChunkResult()
        if write.inserts is not None and write.inserts.height:
            result.inserted = self.isolating(write.inserts, self.insert, result.refused)
        if write.updates is not None and write.updates.height:
            self._counted_update(write.updates, result)
        if write.upserts is not None and write.upserts.height:
            refused_before, tally = len(result.refused), Upserted()
            self.isolating(write.upserts, lambda f: self.upsert(f, tally), result.refused)
            result.inserted += tally.inserted
            result.updated += tally.updated
            refused = len(result.refused) - refused_before
            result.unchanged += write.upserts.height - tally.inserted - tally.updated - refused
        if write.rewrites is not None and write.rewrites.height:
            refused_before, tally = len(result.refused), Upserted()
            self.isolating(write.rewrites, lambda f: self.rewrite(f, tally), result.refused)
            refused = len(result.refused) - refused_before
            result.inserted += tally.inserted
            result.updated += tally.updated
            result.unchanged += write.rewrites.height - tally.inserted - tally.updated - refused
            result.revived += tally.inserted
        if write.again is not None and write.again.height:
            last = write.again.filter(pl.struct(list(self.keys)).is_last_distinct())
            refused_before, tally = len(result.refused), Upserted()
            self.isolating(last, lambda f: self.rewrite(f, tally), result.refused)
            # counted as changing their rows: the refused did not; the revived went in
            result.updated -= len(result.refused) - refused_before + tally.inserted
            result.inserted += tally.inserted
            result.revived += tally.inserted
        if write.deletes is not None and write.deletes.height:
            result.deleted = self.isolating(write.deletes, self._delete, result.refused)
        return result

    def _counted_update(self, frame: pl.DataFrame, result: ChunkResult) -> None:
        """Update the rows of ``frame``: those written count as updated, the others as unchanged
        (but for the refused)."""
        refused_before = len(result.refused)
        updated = self.isolating(frame, self.update, result.refused)
        result.updated += updated
        result.unchanged += frame.height - updated - (len(result.refused) - refused_before)


class KeyLookup(Protocol):
    """``RunTarget.existing`` for the reading thread, over a connection of its own (see
    ``RunTarget.key_lookup``)."""

    def existing(self, keys: pl.DataFrame) -> np.ndarray: ...
    def close(self) -> None: ...


class RunTarget(Protocol):
    """One run's view of the target: its checkpoint, its writes, its fencing token."""

    checkpoint: Checkpoint  # the last committed one
    pending: bool  # chunks were applied in a transaction not committed yet
    resumed: bool  # the run had opened this target before (its checkpoint row was there)
    # Takes ChunkWrite.upserts: one statement inserts or updates each row, no lookup of the keys first.
    upserts_keys: bool
    sequences_moved: dict[str, tuple[str, int]]

    def seen_hashes(self) -> np.ndarray: ...
    def table_keys(self) -> pl.DataFrame: ...
    def existing(self, keys: pl.DataFrame) -> np.ndarray: ...
    # A way to ask the table from another thread, which sees committed rows only (the run's own rows
    # not committed yet are in its seen set, which reconciling looks at first); None: not possible.
    def key_lookup(self) -> KeyLookup | None: ...
    def read_in_zone(self, columns: tuple[str, ...]) -> tuple[tuple[str, ...], str]: ...
    def unmovable_sequences(self, columns: tuple[str, ...]) -> list[tuple[str, str]]: ...
    def prepare(self, write: ChunkWrite) -> ChunkWrite: ...
    def apply_chunk(self, write: ChunkWrite, finalize: Finalize) -> Checkpoint: ...
    def commit(self) -> Checkpoint: ...
    def commit_chunk(self, write: ChunkWrite, finalize: Finalize) -> Checkpoint: ...
    def finish(self, finalize: Finalize) -> Checkpoint: ...
    def abandon(self) -> None: ...
    def drop_run_tables(self) -> None: ...


class TargetSession(Protocol):
    holds_nan: bool  # a float column keeps a NaN (SQLite stores NULL in its place)

    def name_key(self, name: str) -> str:
        """What two names of columns must share to be one column in this database."""
        ...

    def table_exists(self, table: str) -> bool: ...
    def is_view(self, table: str) -> bool: ...
    def table_columns(self, table: str) -> list[str]: ...
    def required_columns(self, table: str) -> list[str]: ...
    def computed_columns(self, table: str) -> dict[str, str]:
        """Columns the database fills itself and a run must not write: name → how (its DDL)."""
        ...

    def create_table(self, table: str, columns: list[ColumnDef], keys: tuple[str, ...]) -> None: ...
    def is_empty(self, table: str) -> bool: ...
    def committed_records(self, run_key: str) -> int:
        """How many records of run ``run_key`` the database holds committed (0: none, or no such run)."""
        ...

    def open_run(self, spec: RunSpec, state: dict[str, Any]) -> RunTarget: ...
    def drop_run_tables(self, run_key: str) -> None: ...
    def stream(self, sql: str, params: tuple[Any, ...] = ()) -> Iterator[pa.RecordBatch]: ...
    def close(self) -> None: ...


def lacking_columns(session: TargetSession, table: str, names: list[str]) -> tuple[list[str], list[str]]:
    """Of ``names``, those ``table`` has no column for (compared as the database compares names), and
    the table's columns, sorted (for a message saying what it has)."""
    have = {session.name_key(name): name for name in session.table_columns(table)}
    return [name for name in names if session.name_key(name) not in have], sorted(have.values())
