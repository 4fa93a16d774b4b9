"""What the runner needs from a target database, whatever its kind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

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
    seen_hashes: np.ndarray | None = None  # key hashes this chunk adds to the run's seen set


@dataclass
class ChunkResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)  # (_row, database message)
    # Atomic mode's final apply: the staged rows carry their record (_rec, _line, _raw).
    refused_records: list[tuple[int, int, bytes, str]] = field(default_factory=list)


# Given what the database did with a chunk, the checkpoint to commit with it (same transaction).
Finalize = Callable[[ChunkResult], Checkpoint]


class RunTarget(Protocol):
    """One run's view of the target: its checkpoint, its writes, its fencing token."""

    checkpoint: Checkpoint  # the last committed one
    pending: bool  # chunks were applied in a transaction not committed yet
    resumed: bool  # the run had opened this target before (its checkpoint row was there)

    def seen_hashes(self) -> np.ndarray: ...
    def table_keys(self) -> pl.DataFrame: ...
    def existing(self, keys: pl.DataFrame) -> np.ndarray: ...
    def apply_chunk(self, write: ChunkWrite, finalize: Finalize) -> Checkpoint: ...
    def commit(self) -> Checkpoint: ...
    def commit_chunk(self, write: ChunkWrite, finalize: Finalize) -> Checkpoint: ...
    def finish(self, finalize: Finalize) -> Checkpoint: ...
    def abandon(self) -> None: ...


class TargetSession(Protocol):
    def table_exists(self, table: str) -> bool: ...
    def table_columns(self, table: str) -> list[str]: ...
    def create_table(self, table: str, columns: list[ColumnDef], keys: tuple[str, ...]) -> None: ...
    def is_empty(self, table: str) -> bool: ...
    def open_run(
        self,
        run_key: str,
        token: str,
        table: str,
        keys: tuple[str, ...],
        *,
        atomic: bool,
        state: dict[str, Any],
    ) -> RunTarget: ...
    def stream(self, sql: str, params: tuple[Any, ...] = ()) -> Iterator[pa.RecordBatch]: ...
    def close(self) -> None: ...
