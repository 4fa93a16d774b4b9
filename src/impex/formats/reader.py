"""Streaming reader of delimited files: blocks of bytes in, record chunks out, resumable at any chunk end."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import numpy as np

from impex.domain.definitions import CsvFormat
from impex.domain.position import Position
from impex.formats.chunk import Layout, RecordChunk, build_chunk, split_fields
from impex.formats.errors import FormatError
from impex.formats.sniff import UTF8_BOM, excel_separator, guess_delimiter, resolve_encoding
from impex.formats.source import open_source, read_head, skip_to
from impex.formats.split import Records, Syntax, field_counts, quote_positions, split_records
from impex.formats.utf16 import to_file

if TYPE_CHECKING:
    from impex.formats.detect import DetectedFormat

__all__ = ["DelimitedReader", "RecordChunk"]

MiB = 1024 * 1024
BLOCK_SIZE = 8 * MiB
MAX_CHUNK_BYTES = 32 * MiB
PROBE_SIZE = 1 * MiB


def _size(n: int) -> str:
    return f"{n / MiB:g} MB ({n:,} bytes)" if n >= MiB else f"{n:,} bytes"


FIELD_COUNT_SAMPLE = 200  # records whose usual field count a file without a header is read with


class DelimitedReader:
    """Reads a delimited file (plain, .gz or .zip) as chunks of records.

    ``start`` is a chunk's ``end`` from an earlier read: reading continues at the next record.
    Encoding and delimiter left ``None`` in ``fmt`` are detected (or taken from ``detected``).
    ``header`` is None when ``fmt.header`` is False, and ``[]`` when a header is expected but the file
    has none. ``n_fields`` is the header's field count, else the first record's (0 for an empty file).
    ``line_ending`` is the first record's: ``"\r\n"`` or ``"\n"`` (also when it cannot tell).
    """

    def __init__(
        self,
        path: str | Path,
        fmt: CsvFormat,
        start: Position | None = None,
        *,
        detected: DetectedFormat | None = None,
        block_size: int = BLOCK_SIZE,
        max_chunk_bytes: int = MAX_CHUNK_BYTES,
    ) -> None:
        self.path = Path(path)
        self.fmt = fmt
        self.block_size = block_size
        self.max_chunk_bytes = max(max_chunk_bytes, block_size)
        # Given, or detected before: read as it says (a UTF-16 file is transcoded to UTF-8 below).
        self._requested = fmt.encoding or (detected.encoding if detected is not None else None)
        source = open_source(self.path, self._requested)
        self._source = source
        try:
            self._open(fmt, detected, start)
        except BaseException:
            source.close()
            raise
        self._buf = b""
        self._eof = False
        self._average = 0.0  # bytes per record seen so far, to size the next read

    def _open(self, fmt: CsvFormat, detected: DetectedFormat | None, start: Position | None) -> None:
        head, complete = read_head(self.path, PROBE_SIZE, self._requested)
        self.transcoded_from = self._source.transcoded_from
        if self.transcoded_from is not None:  # the file's encoding; its content comes as UTF-8
            self.encoding, bom = self.transcoded_from, 0
        elif detected is not None and fmt.encoding is None:
            self.encoding = detected.encoding
            bom = len(UTF8_BOM) if head.startswith(UTF8_BOM) and "utf" in self.encoding else 0
        else:
            self.encoding, bom = resolve_encoding(head, fmt.encoding, self.path)
        # Excel's first line 'sep=;': a directive, skipped like a line skip_lines skips (unless the
        # definition skips lines itself: then it counts that line).
        directive = excel_separator(head[bom:]) if fmt.skip_lines == 0 else None
        self._directive = directive[1] if directive else 0
        if fmt.delimiter is not None:
            self.delimiter = fmt.delimiter
        elif directive is not None:
            self.delimiter = directive[0]
        elif detected is not None:
            self.delimiter = detected.delimiter
        else:
            self.delimiter = guess_delimiter(head[bom:], fmt, complete)
        self._syntax = Syntax.of(fmt, self.delimiter)
        self.header: list[str] | None = None
        self.n_fields = 0
        self.preamble = b""
        self.line_ending = "\n"
        data_start = self._probe(head, complete, bom)
        self._position = start if start is not None and start.offset > 0 else data_start
        self.total_bytes = self._source.total_bytes
        skip_to(self._source, self._position.offset)

    @property
    def position(self) -> Position:
        """Where the next chunk starts."""
        return self._position

    @property
    def _stream_encoding(self) -> str:
        """The encoding of the bytes read: UTF-8 for a transcoded file."""
        return "utf-8" if self.transcoded_from is not None else self.encoding

    def _layout(self) -> Layout:
        return Layout(self._syntax, self._stream_encoding, self.n_fields, self.header, self.transcoded_from)

    def _probe(self, head: bytes, complete: bool, bom: int) -> Position:
        """Skip ``skip_lines`` and read the header (or count the first record's fields)."""
        while True:
            found = self._probe_in(head, complete, bom)
            if found is not None:
                return found
            if len(head) >= self.max_chunk_bytes:
                raise FormatError(f"{self.path}: no complete first record in {len(head)} bytes")
            head, complete = read_head(self.path, len(head) * 4, self._requested)

    def _probe_in(self, head: bytes, complete: bool, bom: int) -> Position | None:
        pos, line = bom + self._directive, int(self._directive > 0)
        for _ in range(self.fmt.skip_lines):
            newline = head.find(b"\n", pos)
            if newline < 0:
                if not complete:
                    return None
                line += pos < len(head)
                pos = len(head)
                break
            pos, line = newline + 1, line + 1
        self.preamble = head[bom:pos]  # the lines skip_lines skips, as they are in the file
        if self.transcoded_from is not None:
            self.preamble = to_file(self.preamble, self.transcoded_from)
        a = np.frombuffer(head, dtype=np.uint8)[pos:]
        recs = split_records(a, self._syntax, final=complete)
        first = np.flatnonzero(~recs.blank)
        if len(first) == 0:
            if not complete:
                return None
            self.header = [] if self.fmt.header else None
            return Position(len(head), 0, line + recs.lines_consumed)
        k = int(first[0])
        if a[recs.ends[k] : recs.ends[k] + 1].tobytes() == b"\r":
            self.line_ending = "\r\n"
        quotes = quote_positions(a, self._syntax)
        delims = np.flatnonzero(a == self._syntax.delimiter)
        if not self.fmt.header:
            # No header to count: the field count most of the first records have (the first record
            # alone could be the odd one out, and every good record would be rejected for it).
            sample = first[~recs.unterminated[first]][:FIELD_COUNT_SAMPLE]
            counts = field_counts(recs.starts[sample], recs.ends[sample], quotes, delims).tolist()
            # most_common: of counts as common, the one that comes first
            self.n_fields = Counter(counts).most_common(1)[0][0] if counts else 0
            return Position(pos, 0, line)
        self.n_fields = int(field_counts(recs.starts[k : k + 1], recs.ends[k : k + 1], quotes, delims)[0])
        self._check_header(a[: recs.nexts[k]].tobytes(), recs.head(k + 1), Position(pos, 0, line))
        self.header = self._parse_header(a[recs.starts[k] : recs.ends[k]].tobytes())
        lines = int(recs.first_lines[k + 1]) if k + 1 < len(recs) else recs.lines_consumed
        return Position(pos + int(recs.nexts[k]), 0, line + lines)

    def _check_header(self, data: bytes, recs: Records, start: Position) -> None:
        """The header line read as a record must be good: a quote never closed would take the records
        below it for one name, a bad byte would change a name."""
        rejects = build_chunk(data, recs, start, self._layout()).rejects
        if rejects:
            raise FormatError(f"{self.path}: the header cannot be read: {rejects[0].message}")

    def _parse_header(self, raw: bytes) -> list[str]:
        return [
            name.decode(self._stream_encoding, errors="replace") for name in split_fields(raw, self._syntax)
        ]

    def chunks(self, max_records: int, *, first: int | None = None) -> Iterator[RecordChunk]:
        """Chunks of at most ``max_records`` records (and about ``max_chunk_bytes``) up to the end;
        the first of at most ``first`` records when given."""
        if max_records < 1 or (first is not None and first < 1):
            raise ValueError("max_records and first must be at least 1")
        size = first or max_records
        while True:
            chunk = self._next_chunk(size)
            if chunk is None:
                return
            yield chunk
            size = max_records

    def _next_chunk(self, max_records: int) -> RecordChunk | None:
        force = False
        if not self._eof and self._average:
            # Read what the chunk will need before splitting, so that most chunks are split once.
            wanted = min(self.max_chunk_bytes, int(self._average * max_records * 1.1) + 64 * 1024)
            if len(self._buf) < wanted:
                self._fill(wanted)
        while True:
            a = np.frombuffer(self._buf, dtype=np.uint8)
            at_cap = len(self._buf) >= self.max_chunk_bytes
            n_fields = self.n_fields or None
            recs = split_records(a, self._syntax, final=self._eof, n_fields=n_fields, force_tail=force)
            data = np.flatnonzero(~recs.blank)
            if len(data) >= max_records:
                return self._emit(recs.head(int(data[max_records - 1]) + 1))
            if (self._eof or at_cap) and len(data) > 0:
                return self._emit(recs)
            if len(data) == 0 and recs.consumed > 0:  # only blank lines: step over them
                self._advance(recs, 0)
                continue
            if self._eof:
                return None
            if at_cap:
                if force:
                    line = self._position.line_no + 1
                    raise FormatError(
                        f"{self.path}: line {line} is longer than {_size(self.max_chunk_bytes)}, the most "
                        "a chunk holds (the job's chunk_bytes): raise chunk_bytes to read it"
                    )
                force = True
                continue
            self._fill(self._target(recs, len(data), max_records))

    def _target(self, recs: Records, n_data: int, max_records: int) -> int:
        """How many bytes to buffer for ``max_records`` records, from the average seen so far."""
        average = recs.consumed / n_data if n_data else self._average
        wanted = int(average * max_records * 1.1) + 64 * 1024 if average else len(self._buf) * 2
        return min(self.max_chunk_bytes, max(wanted, len(self._buf) + self.block_size))

    def _fill(self, target: int) -> None:
        blocks = [self._buf]
        size = len(self._buf)
        while size < target:
            block = self._source.stream.read(min(self.block_size, target - size))
            if not block:
                self._eof = True
                break
            blocks.append(block)
            size += len(block)
        self._buf = b"".join(blocks)
        if self._eof and self._buf and not self._buf.endswith(b"\n"):
            self._check_last_line()

    def _check_last_line(self) -> None:
        """A last line without a line end in a file that something writes is cut short: not a record."""
        resized = self._source.resized()
        if resized is None:
            return
        line = self._position.line_no + self._buf.count(b"\n") + 1
        raise FormatError(
            f"{self.path}: the file changed while it was read (it had {resized[0]:,} bytes, it has "
            f"{resized[1]:,}), and its last line (line {line}) is cut short: import it once nothing writes it"
        )

    def _emit(self, recs: Records) -> RecordChunk:
        chunk = build_chunk(self._buf[: recs.consumed], recs, self._position, self._layout())
        self._buf = self._buf[recs.consumed :]
        self._position = chunk.end
        self._average = recs.consumed / max(len(recs), 1)
        return chunk

    def _advance(self, recs: Records, n_records: int) -> None:
        p = self._position
        self._position = Position(
            p.offset + recs.consumed, p.record_no + n_records, p.line_no + recs.lines_consumed
        )
        self._buf = self._buf[recs.consumed :]

    def close(self) -> None:
        """Release the file."""
        self._source.close()

    def __enter__(self) -> DelimitedReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
