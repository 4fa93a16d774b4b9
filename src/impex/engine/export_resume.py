"""Whether a resumed export may go on where it stopped, when its source has no total order.

A table is read in a total order (its key, its rowid, or its whole row), so a resume skips the rows
already written and goes on. A query (or a view, or a table without a key in SQLite) may give its rows
in another order on another read: a new plan, an index made meanwhile, rows an UPDATE moved, a
parallel or a synchronized scan. Skipping rows by their number would then repeat some and lose others.
So such a resume reads its rows from the first one again, renders those the file holds already, and
compares them with the file's bytes: the same bytes, and the file goes on with the rows that follow
in that same read; other bytes (or fewer rows), and the file is written again from its first row.
A source read without a stop pays nothing; a resume reads again the rows an OFFSET would have made
the database produce and skip anyway, and renders them once more.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Protocol

import polars as pl

from impex.domain.definitions import OutputFormat
from impex.domain.status import Action
from impex.engine.export_readers import ResumeKey, Source
from impex.engine.export_render import write_chunk
from impex.formats.writer import CsvWriter

Chunks = Iterator[tuple[pl.DataFrame, ResumeKey | None]]


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class SameBytes:
    """A binary sink that compares what it is given with the bytes of ``expected``, in order."""

    def __init__(self, expected: Readable) -> None:
        self.expected = expected
        self.same = True

    def write(self, data: bytes, /) -> int:
        if self.same and self._read(len(data)) != data:
            self.same = False
        return len(data)

    def all_read(self) -> bool:
        return self.same and self._read(1) == b""

    def _read(self, size: int) -> bytes | None:
        try:
            return self.expected.read(size)
        except (OSError, EOFError, zlib.error):  # a damaged gzip file: not the rows, written again
            return None


class StoppedWhileComparing(Exception):
    """The run was told to stop (pause, cancel, shutdown) while it read again the rows its file holds."""

    def __init__(self, action: Action) -> None:
        super().__init__(action.value)
        self.action = action


def same_rows_then_rest(
    source: Source,
    part: Path,
    fmt: OutputFormat,
    rows: int,
    chunk_rows: int,
    requested_stop: Callable[[], Action | None],
) -> Chunks | None:
    """The source's chunks after its first ``rows`` rows, read from its first row on, when those
    render as the bytes of the partial file ``part`` (which holds them); None when they do not.
    ``requested_stop`` is asked at each chunk boundary, as the copy asks it: reading millions of rows
    again takes as long as writing them, and a pause, a cancel or a shutdown waits for no more than
    a chunk (StoppedWhileComparing; the file is as it was)."""
    chunks = source.chunks(0, chunk_rows)
    with gzip.open(part, "rb") if fmt.gzip else open(part, "rb") as expected:
        sink = SameBytes(expected)
        writer = CsvWriter(sink, fmt)  # as the file was begun: its header first
        left = rows
        for frame, key in chunks:
            take = min(left, frame.height)
            write_chunk(writer, frame.head(take), source, fmt)
            left -= take
            if not sink.same or (left == 0 and not sink.all_read()):
                break
            if left == 0:
                return _rest(frame.slice(take), key, chunks)
            stop = requested_stop()
            if stop is not None:
                _close(chunks)
                raise StoppedWhileComparing(stop)
    _close(chunks)
    return None


def _rest(first: pl.DataFrame, key: ResumeKey | None, chunks: Chunks) -> Chunks:
    if first.height:
        yield first, key
    yield from chunks


def _close(chunks: Chunks) -> None:
    """Let a reader that reads ahead stop."""
    if isinstance(chunks, Generator):
        chunks.close()
