"""Helpers for the formats specs: read a whole file and gather what the chunks say."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from impex.domain.definitions import CsvFormat
from impex.domain.position import Position
from impex.domain.rejects import Reject
from impex.formats.chunk import RecordChunk
from impex.formats.reader import DelimitedReader


@dataclass
class Read:
    rows: list[tuple[str | None, ...]] = field(default_factory=list)
    record_nos: list[int] = field(default_factory=list)
    line_nos: list[int] = field(default_factory=list)
    raws: list[bytes] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    chunks: list[RecordChunk] = field(default_factory=list)
    header: list[str] | None = None
    n_fields: int = 0

    @property
    def end(self) -> Position | None:
        return self.chunks[-1].end if self.chunks else None


def read_all(
    path: Path,
    fmt: CsvFormat | None = None,
    max_records: int = 1000,
    start: Position | None = None,
    **kw: int,
) -> Read:
    out = Read()
    with DelimitedReader(path, fmt or CsvFormat(delimiter=","), start, **kw) as reader:
        out.header, out.n_fields = reader.header, reader.n_fields
        for chunk in reader.chunks(max_records):
            rows = range(chunk.frame.height)
            out.rows.extend(chunk.frame.rows())
            out.record_nos.extend(chunk.record_nos.tolist())
            out.line_nos.extend(chunk.line_nos(rows).tolist())
            out.raws.extend(chunk.raw(rows))
            out.rejects.extend(chunk.rejects)
            out.chunks.append(chunk)
    return out


def write(tmp_path: Path, data: bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path
