"""A chunk of records: good ones as a string DataFrame, structural rejects as data, raw bytes on demand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt
import polars as pl

from impex.domain.position import Position
from impex.domain.rejects import Reason, Reject, said
from impex.formats.edges import may_need_trim
from impex.formats.encoding import find_not_text, is_utf8, to_utf8
from impex.formats.frame import escaped_quotes_outside, good_body, parse_frame
from impex.formats.quoted import quoted_fields
from impex.formats.sniff import reads_as_western
from impex.formats.split import (
    I64,
    U8,
    Mask,
    Records,
    Syntax,
    analyse_records,
    field_counts,
    pair_quotes,
    quote_positions,
)
from impex.formats.utf16 import LE, as_text, bad_unit, label, shown, to_file

GOOD, UNTERMINATED, BAD_ENCODING, WRONG_COUNT, STRAY_QUOTE = range(5)


@dataclass
class RecordChunk:
    """Consecutive records of a file, ending on a record boundary.

    ``frame`` holds the structurally good records, every column a string named ``f1..fN``; an empty
    unquoted field is null, an empty quoted field ("") is the empty string; :meth:`quoted` tells
    which other fields were quoted. ``record_nos`` gives each frame row's 1-based record number.
    ``end`` is the position to resume from after this chunk.
    """

    frame: pl.DataFrame
    record_nos: I64
    rejects: list[Reject]
    start: Position
    end: Position
    data: bytes = field(repr=False)  # the chunk's bytes exactly as in the file
    row_starts: I64 = field(repr=False)  # per frame row, offsets into ``data``
    row_ends: I64 = field(repr=False)
    row_line_nos: I64 = field(repr=False)
    quotes: I64 = field(repr=False)  # positions in ``data`` of the quotes that toggle the quote state
    syntax: Syntax = field(repr=False)
    # No field starts or ends with whitespace, none is an empty quoted field: trimming changes nothing.
    plain: bool = False
    # The file's encoding when ``data`` is its content transcoded to UTF-8 (UTF-16): raw records are
    # given back in it.
    transcoded_from: str | None = None

    @property
    def n_records(self) -> int:
        """Records consumed by this chunk, good and rejected (blank lines are not records)."""
        return self.end.record_no - self.start.record_no

    def raw(self, rows: npt.ArrayLike) -> list[bytes]:
        """Raw bytes (without line ending) of the given frame rows, exactly as in the file."""
        index = np.asarray(rows, dtype=np.int64)
        raws = [self.data[s:e] for s, e in zip(self.row_starts[index], self.row_ends[index], strict=True)]
        if self.transcoded_from is not None:
            return [to_file(raw, self.transcoded_from) for raw in raws]
        return raws

    def quoted(self, rows: npt.ArrayLike, fields: npt.ArrayLike) -> Mask:
        """Whether field ``fields[k]`` (0-based) of frame row ``rows[k]`` is quoted in the file."""
        index = np.asarray(rows, dtype=np.int64)
        a: U8 = np.frombuffer(self.data, dtype=np.uint8)
        at = np.asarray(fields, dtype=np.int64)
        return quoted_fields(a, self.row_starts[index], self.row_ends[index], self.quotes, self.syntax, at)

    def parsed(self) -> RecordChunk:
        """This chunk without its string frame, once validation has read it: the rest is kept for
        the rejects, and the strings are the chunk's biggest part."""
        return replace(self, frame=self.frame.clear())

    def line_nos(self, rows: npt.ArrayLike) -> I64:
        """1-based physical line where each of the given frame rows starts."""
        return self.row_line_nos[np.asarray(rows, dtype=np.int64)]


@dataclass(frozen=True)
class Layout:
    """What a chunk needs to know about the file."""

    syntax: Syntax
    encoding: str  # of the bytes read: UTF-8 when transcoded
    n_fields: int
    header: list[str] | None
    transcoded_from: str | None = None  # the file's encoding when it is transcoded (UTF-16)


def build_chunk(data: bytes, recs: Records, start: Position, layout: Layout) -> RecordChunk:
    """Check and parse the records ``recs`` covering all of ``data``."""
    syn = layout.syntax
    a: U8 = np.frombuffer(data, dtype=np.uint8)
    quotes = _within(recs.quotes, len(data))
    is_data = ~recs.blank
    record_nos = start.record_no + np.cumsum(is_data)
    line_nos = start.line_no + recs.first_lines + 1
    reason = np.where(recs.unterminated, UNTERMINATED, GOOD)
    bad_bytes = {i: off for i, off in find_not_text(data, layout.encoding, recs.nexts) if is_data[i]}
    for i in bad_bytes:
        if reason[i] == GOOD:
            reason[i] = BAD_ENCODING
    delimiters = np.flatnonzero(a == syn.delimiter)
    pairs = pair_quotes(recs.starts, quotes, len(data))
    counts, stray = analyse_records(
        a,
        recs.starts,
        recs.unterminated,
        quotes,
        syn,
        newlines=_within(recs.newlines, len(data)),
        delimiters=delimiters,
        pairs=pairs,
    )
    plain = (
        syn.escape is None
        and (is_utf8(layout.encoding) or data.isascii())
        and not may_need_trim(data, a, recs.starts, recs.ends, quotes, delimiters, pairs)
    )
    if syn.escape is not None and data.find(bytes([syn.escape])) >= 0:
        outside = escaped_quotes_outside(a, recs.starts, quotes, syn)
        stray[np.searchsorted(recs.starts, outside, side="right") - 1] = True
    candidate = is_data & (reason == GOOD)
    reason[candidate & (counts != layout.n_fields)] = WRONG_COUNT
    reason[candidate & (counts == layout.n_fields) & stray] = STRAY_QUOTE
    good = np.flatnonzero(is_data & (reason == GOOD))
    body = to_utf8(good_body(data, a, recs.starts[good], recs.nexts[good], quotes, syn), layout.encoding)
    frame = parse_frame(body, syn, layout.n_fields, len(good))
    rejects = [
        _reject(data, recs, i, int(record_nos[i]), int(line_nos[i]), int(reason[i]), bad_bytes, layout)
        for i in np.flatnonzero(is_data & (reason != GOOD)).tolist()
    ]
    end = Position(
        start.offset + recs.consumed,
        start.record_no + int(is_data.sum()),
        start.line_no + recs.lines_consumed,
    )
    return RecordChunk(
        frame=frame,
        record_nos=record_nos[good].astype(np.int64),
        rejects=rejects,
        start=start,
        end=end,
        data=data,
        row_starts=recs.starts[good],
        row_ends=recs.ends[good],
        row_line_nos=line_nos[good].astype(np.int64),
        quotes=quotes,
        syntax=syn,
        plain=plain,
        transcoded_from=layout.transcoded_from,
    )


def _within(positions: I64, size: int) -> I64:
    """The positions (ascending) that fall in the first ``size`` bytes."""
    return positions[: np.searchsorted(positions, size)]


def _reject(
    data: bytes,
    recs: Records,
    i: int,
    record_no: int,
    line_no: int,
    reason: int,
    bad_bytes: dict[int, int],
    layout: Layout,
) -> Reject:
    """The reject of record ``i`` (a Python step per rejected record only)."""
    start, end = int(recs.starts[i]), int(recs.ends[i])
    raw = data[start:end]
    if layout.transcoded_from is not None:
        return _transcoded_reject(raw, bad_bytes.get(i, start) - start, record_no, line_no, reason, layout)
    return _reject_of(raw, bad_bytes.get(i, start) - start, record_no, line_no, reason, layout)


def _transcoded_reject(
    raw: bytes, offset: int, record_no: int, line_no: int, reason: int, layout: Layout
) -> Reject:
    """The reject of a transcoded record, with the file's raw bytes; a bad unit named as in the file,
    at the column that counts characters (the UTF-8 bytes read are none of the file's)."""
    encoding = layout.transcoded_from
    assert encoding is not None
    if reason != BAD_ENCODING:
        found = _reject_of(raw, offset, record_no, line_no, reason, layout)
        return replace(found, raw=to_file(raw, encoding))
    line = line_no + raw.count(b"\n", 0, offset)
    position = len(as_text(raw[raw.rfind(b"\n", 0, offset) + 1 : offset])) + 1
    unit = bad_unit(raw, offset)
    params: dict[str, object] = {"line": line, "position": position, "encoding": label(encoding)}
    if raw[offset] == 0:
        code = "bad_encoding.nul"
    elif len(unit) >= 2:
        code = "bad_encoding.surrogate"
        params["unit"] = f"0x{int.from_bytes(unit[:2], 'little' if encoding == LE else 'big'):04x}"
    else:
        code, params["byte"] = "bad_encoding.odd_byte", f"0x{unit[0]:02x}"
    index, f_start, f_end = field_at(raw, offset, layout.syntax)
    column = _name(index, layout.header)
    value = shown(raw[f_start:f_end]).replace("\x00", "\\x00")
    return said(record_no, line_no, to_file(raw, encoding), Reason.BAD_ENCODING, column, value, code, params)


def _reject_of(raw: bytes, offset: int, record_no: int, line_no: int, reason: int, layout: Layout) -> Reject:
    """The reject of record ``raw``; ``offset``: its first bad byte's, for a bad encoding."""
    syn = layout.syntax
    if reason == UNTERMINATED:
        opened = open_quote(raw, syn)
        last = raw.rfind(bytes([syn.quote]))
        inside = last > 0 and raw[last - 1] not in (syn.delimiter, syn.quote)  # as in 5" pipe
        code = "quote_inside" if inside else "unterminated_quote"
        params: dict[str, object] = {"line": line_no}
        if opened is not None:
            code, params["field"] = f"{code}.in_field", opened + 1
        column = _name(opened, layout.header)
        return said(record_no, line_no, raw, Reason.UNTERMINATED_QUOTE, column, None, code, params)
    if reason == BAD_ENCODING:
        line = line_no + raw.count(b"\n", 0, offset)
        position = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
        label = "UTF-8" if is_utf8(layout.encoding) else layout.encoding
        index, f_start, f_end = field_at(raw, offset, syn)
        if raw[offset] == 0:
            code, params = "bad_encoding.nul", {"line": line, "position": position}
        else:
            code, params = "bad_encoding", {"line": line, "position": position, "encoding": label}
            params["byte"] = f"0x{raw[offset]:02x}"
            field = raw[f_start:f_end]
            # UTF-8 detected from a start of the file that was all ASCII: the file may be cp1252 (0xFF,
            # a rare ÿ there, is more often a stray byte)
            if is_utf8(layout.encoding) and b"\xff" not in field and reads_as_western(field):
                code, params["other"] = "bad_encoding.other_page", "cp1252"
                params["reading"] = field.decode("cp1252")
        # shown as the file's bytes are: a NUL as \x00, which a PostgreSQL store could not keep
        value = raw[f_start:f_end].decode(layout.encoding, errors="backslashreplace").replace("\x00", "\\x00")
        column = _name(index, layout.header)
        return said(record_no, line_no, raw, Reason.BAD_ENCODING, column, value, code, params)
    if reason == WRONG_COUNT:
        found = field_count(raw, syn)
        code, params = "wrong_field_count", {"line": line_no, "expected": layout.n_fields, "found": found}
        return said(record_no, line_no, raw, Reason.WRONG_FIELD_COUNT, None, None, code, params)
    stray = {"line": line_no}
    return said(record_no, line_no, raw, Reason.UNTERMINATED_QUOTE, None, None, "stray_quote", stray)


def field_count(raw: bytes, syn: Syntax) -> int:
    """The fields of one record, as ``field_counts`` counts them: in plain Python when every quote
    toggles (NumPy's set-up costs more than one record's work)."""
    if syn.escape is None:
        return sum(part.count(syn.delimiter) for part in raw.split(bytes([syn.quote]))[0::2]) + 1
    a: U8 = np.frombuffer(raw, dtype=np.uint8)
    delimiters = np.flatnonzero(a == syn.delimiter)
    return int(field_counts(np.array([0]), np.array([len(raw)]), quote_positions(a, syn), delimiters)[0])


def _name(index: int | None, header: Sequence[str] | None) -> str | None:
    if index is None:
        return None
    if header is not None and index < len(header):
        return header[index]
    return f"f{index + 1}"


def _scan(raw: bytes, syn: Syntax, stop: int) -> tuple[int, int, int | None]:
    """Scan ``raw[:stop]`` by quote parity: (field index, field start, field of the last open quote)."""
    index, field_start, in_quotes, opened = 0, 0, False, None
    pos = 0
    while pos < stop:
        byte = raw[pos]
        if syn.escape is not None and byte == syn.escape:
            pos += 2
            continue
        if byte == syn.quote:
            in_quotes = not in_quotes
            opened = index if in_quotes else opened
        elif byte == syn.delimiter and not in_quotes:
            index, field_start = index + 1, pos + 1
        pos += 1
    return index, field_start, opened if in_quotes else None


def field_at(raw: bytes, offset: int, syn: Syntax) -> tuple[int, int, int]:
    """(0-based field index, field start, field end) of the byte at ``offset`` of a record."""
    index, field_start, _ = _scan(raw, syn, offset)
    end = offset
    in_quotes = _scan(raw, syn, offset)[2] is not None
    while end < len(raw) and (in_quotes or raw[end] != syn.delimiter):
        in_quotes = in_quotes != (raw[end] == syn.quote)
        end += 1
    return index, field_start, end


def open_quote(raw: bytes, syn: Syntax) -> int | None:
    """0-based index of the field whose quote is still open at the end of ``raw``."""
    return _scan(raw, syn, len(raw))[2]


def closing_quote(raw: bytes, syn: Syntax) -> bytes:
    """The quote(s) that close a quoted field ``raw`` leaves open at its end: empty when none is open.

    Two quotes when ``raw`` ends with an escape, which takes the first one as text.
    """
    quote = bytes([syn.quote])
    if syn.escape is None or syn.escape not in raw:
        return quote if raw.count(quote) % 2 else b""  # every quote toggles: parity says it all
    if open_quote(raw, syn) is None:
        return b""
    return quote if open_quote(raw + quote, syn) is None else quote * 2


def split_fields(raw: bytes, syn: Syntax) -> list[bytes]:
    """The fields of one record in Python (for a header): quotes removed, doubled quotes and escapes resolved.

    Lenient where the columnar parser is strict: text after a closing quote is kept, an open quote runs
    to the end.
    """
    fields: list[bytes] = []
    current = bytearray()
    in_quotes = False
    pos = 0
    while pos < len(raw):
        byte = raw[pos]
        if syn.escape is not None and byte == syn.escape and pos + 1 < len(raw):
            current.append(raw[pos + 1])
            pos += 2
            continue
        if byte == syn.quote:
            if in_quotes and pos + 1 < len(raw) and raw[pos + 1] == syn.quote:
                current.append(byte)
                pos += 1
            else:
                in_quotes = not in_quotes
        elif byte == syn.delimiter and not in_quotes:
            fields.append(bytes(current))
            current.clear()
        else:
            current.append(byte)
        pos += 1
    fields.append(bytes(current))
    return fields
