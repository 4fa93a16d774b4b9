"""Hostile delimited files through the real import, against an oracle that knows what each record is.

The file is built record by record: each one is good (its typed values known) or has exactly one
defect (its reason known), and the builder counts the lines as it writes them. Good records are read
back with Python's csv module as a check on the builder itself. The import, in small chunks, then
again with a pause at a random chunk and a resume, must give exactly the oracle's table, reject list
and counters. ``FUZZ_EXAMPLES=500`` hunts longer.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from impex.domain.status import A, S
from impex.engine.execution import Progress
from support import define, rejects, run_job, table_rows

COLUMNS = [
    {"name": "id", "type": "integer", "required": True},
    {"name": "name", "required": True, "max_length": 12},
    {"name": "amount", "type": "float"},
    {"name": "day", "type": "date"},
    {"name": "flag", "type": "boolean"},
    {"name": "note"},
]
HEADER = [c["name"] for c in COLUMNS]
PLAIN = "abcxyzABC019"
WIDE = {"latin-1": "éüßÆ", "utf-8": "éü€ж", "utf-16": "éü€ж"}  # letters beyond ASCII each encoding holds
FLAGS = {"true": 1, "yes": 1, "1": 1, "false": 0, "n": 0, "0": 0}
PREAMBLE = ["Export of 2024-01-05", 'note: "quoted, and never closed', "a;b,c|d\tf", ""]
OPEN_QUOTE = '"Open'  # a quoted field that its line never closes
BYTES_AS_THEY_ARE = {"bad_byte", "bad_byte_late", "nul_byte"}  # single bytes: not in a UTF-16 file
BOMS = {"utf-8": b"\xef\xbb\xbf", "utf-16": b"\xff\xfe"}


@dataclass(frozen=True)
class Dialect:
    delimiter: str
    encoding: str
    multiline: bool  # quoted fields may hold line breaks
    quote: str = '"'  # the builder writes '"'; the file has this one in its place (and '"' in this one's)
    detect: bool = False  # the definition leaves the delimiter (and a UTF-8 file's encoding) to detection

    @property
    def codec(self) -> str:
        """What writes the file's text (its byte order mark apart)."""
        return "utf-16-le" if self.encoding == "utf-16" else self.encoding


@dataclass
class Record:
    fields: list[str]  # as written in the file, quoted where they are quoted
    values: tuple[Any, ...] | None  # the row the table holds; None: rejected
    reason: str | None = None
    extra: bytes = b""  # bytes written as they are (not text in the file's encoding)
    extra_in: int = 1  # after this field (0-based), or before a quoted one's closing quote
    raw: bytes = b""  # the rest is filled in when the file is written
    line: int = 0
    offset: int = 0  # of its first character in the file's text
    end: int = 0  # of the character after it


@dataclass
class Hostile:
    dialect: Dialect
    bom: bool
    quoted_header: bool
    preamble: list[str]  # lines before the header, skipped with skip_lines
    records: list[Record]
    endings: list[str]  # line ending after each record ('' for a last one without)
    blanks: list[list[str]]  # blank lines before each record
    data: bytes = b""
    text: str = ""
    expected_rejects: list[tuple[int, int, str, bytes]] = field(default_factory=list)
    expected_rows: list[tuple[Any, ...]] = field(default_factory=list)


def quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def field_text(draw, d: Dialect, max_chars: int) -> tuple[str, str]:
    """A text value (no blank at either end) and how the file writes it: quoted when it must be."""
    specials = [d.delimiter, '"', " ", "\r", *(["\n", "\r\n"] if d.multiline else [])]
    pieces = draw(st.lists(st.sampled_from([*PLAIN, *WIDE[d.encoding], *specials]), max_size=max_chars))
    value = "".join(pieces)[:max_chars].strip() or "A"
    must = any(s in value for s in (d.delimiter, '"', "\n", "\r"))
    written = quote(value) if must or draw(st.booleans()) else value
    return value, written


def good_fields(draw, n: int, d: Dialect) -> tuple[list[str], list[Any]]:
    name, name_written = field_text(draw, d, 12)
    cents = draw(st.integers(-99999, 99999))
    amount_text, amount = draw(st.sampled_from([(f"{cents / 100:.2f}", cents / 100), ("", None)]))
    day = draw(st.one_of(st.none(), st.dates(date(1900, 1, 1), date(2099, 12, 31))))
    flag_text = draw(st.sampled_from([*FLAGS, ""]))
    note_kind = draw(st.sampled_from(["text", "null", "empty"]))
    if note_kind == "text":
        note, note_written = field_text(draw, d, 16)
    else:
        note, note_written = (None, "") if note_kind == "null" else ("", '""')
    fields = [str(n), name_written, amount_text, day.isoformat() if day else "", flag_text, note_written]
    values = [n, name, amount, day.isoformat() if day else None, FLAGS.get(flag_text), note]
    pads = draw(st.lists(st.sampled_from(["", " ", "  "]), min_size=len(fields), max_size=len(fields)))
    # blanks around a bare value are trimmed
    fields = [
        pad + f + pad if f and not f.startswith('"') else f for f, pad in zip(fields, pads, strict=True)
    ]
    return fields, values


REASONS = {
    "bad_integer": "type_error",
    "bad_float": "type_error",
    "bad_date": "type_error",
    "bad_boolean": "type_error",
    "too_long": "too_long",
    "missing_id": "missing_required",
    "missing_name": "missing_required",
    "fewer_fields": "wrong_field_count",
    "more_fields": "wrong_field_count",
    "stray_quote": "unterminated_quote",
    "bad_byte": "bad_encoding",
    "bad_byte_late": "bad_encoding",
    "nul_byte": "bad_encoding",
    "open_quote": "unterminated_quote",
    "inch_mark": "unterminated_quote",
}


def bad_record(draw, n: int, d: Dialect, defect: str) -> Record:
    """A record with exactly one defect."""
    fields, _ = good_fields(draw, n, d)
    extra = b""
    if defect == "bad_integer":
        fields[0] = f"{n}x"
    elif defect == "bad_float":
        fields[2] = "1.2.3"
    elif defect == "bad_date":
        fields[3] = draw(st.sampled_from(["2023-02-29", "2024-13-01", "01/02/2024"]))
    elif defect == "bad_boolean":
        fields[4] = "maybe"
    elif defect == "too_long":
        fields[1] = "N" * draw(st.integers(13, 20))
    elif defect == "missing_id":
        fields[0] = ""
    elif defect == "missing_name":
        fields[1] = ""
    elif defect == "fewer_fields":
        fields = fields[:-1]
    elif defect == "more_fields":
        fields = [*fields, "extra"]
    elif defect == "stray_quote":
        fields[1] = '"Ann"x'  # a quoted field with text after its closing quote
    elif defect in ("bad_byte", "nul_byte"):
        fields[1] = "B"
        extra = b"\xff" if defect == "bad_byte" else b"\x00"
    elif defect == "bad_byte_late":  # on the second line of a quoted field
        fields[5] = '"first\nB"' if d.multiline else '"first B"'
        return Record(fields, None, REASONS[defect], extra=b"\xff", extra_in=5)
    elif defect == "open_quote":
        fields = [fields[0], OPEN_QUOTE]
    elif defect == "inch_mark":
        # A lone quote inside an unquoted field. Not with a quoted field after it in the record: the
        # lone quote would pair with that field's opening quote, as a quote-parity reader sees it.
        fields[1], fields[5] = '5"5 pipe', "plain"
    return Record(fields, None, REASONS[defect], extra=extra)


@st.composite
def hostile_files(draw) -> Hostile:
    encoding = draw(st.sampled_from(["utf-8", "latin-1", "utf-16"]))
    d = Dialect(
        draw(st.sampled_from([",", ";", "\t", "|"])),
        encoding,
        multiline=draw(st.booleans()),
        quote=draw(st.sampled_from(['"', "'"])),
        detect=draw(st.booleans()),
    )
    bom = encoding == "utf-16" or (encoding == "utf-8" and draw(st.booleans()))
    preamble = draw(st.lists(st.sampled_from(PREAMBLE), max_size=2))
    unwritable = {"utf-8": set(), "latin-1": {"bad_byte", "bad_byte_late"}}.get(encoding, BYTES_AS_THEY_ARE)
    defects = [k for k in REASONS if k not in unwritable]
    records: list[Record] = []
    applied: list[int] = []  # ids of the good records so far
    for i in range(1, draw(st.integers(1, 14)) + 1):
        kind = draw(st.sampled_from(["good", "good", "double", *defects]))
        if kind == "nul_byte" and any(r.extra == b"\x00" for r in records):
            kind = "good"  # more than a few NUL bytes in a small file: not text, refused as such
        if kind == "double" and applied:  # the key of a record the file applied before
            fields, _ = good_fields(draw, draw(st.sampled_from(applied)), d)
            records.append(Record(fields, None, "double"))
        elif kind in ("good", "double"):
            fields, values = good_fields(draw, i, d)
            records.append(Record(fields, tuple(values)))
            applied.append(i)
        else:
            records.append(bad_record(draw, i, d, kind))
    endings = [draw(st.sampled_from(["\n", "\r\n"])) for _ in records]
    if draw(st.booleans()):
        endings[-1] = ""
    blanks = [draw(st.lists(st.sampled_from(["\n", "\r\n"]), max_size=2)) for _ in records]
    return Hostile(d, bom, draw(st.booleans()), preamble, records, endings, blanks)


BIG = 100  # ids of the big records: from here on


@st.composite
def big_hostile_files(draw) -> Hostile:
    """A hostile file with big good records among the others, longer in all than the smallest chunk
    (64 KB): records straddle the reader's blocks and chunks."""
    h = draw(hostile_files())
    for k in range(draw(st.integers(2, 4))):
        lines = ["word " * 9 + "word"] * (draw(st.integers(3_000, 6_000)) // 10)
        note = ("\r\n" if h.dialect.multiline else " ").join(lines)
        fields, values = good_fields(draw, BIG + k, h.dialect)
        fields[5], values[5] = quote(note), note
        at = draw(st.integers(0, len(h.records)))
        h.records.insert(at, Record(fields, tuple(values)))
        h.endings.insert(at, "\n")
        h.blanks.insert(at, [])
    h.endings[:-1] = [e or "\n" for e in h.endings[:-1]]  # only the last may go without
    return h


SWAP = str.maketrans("\"'", "'\"")


def swapped(d: Dialect, text: str) -> str:
    """``text`` with the dialect's quote character in place of '"' (and the other way round)."""
    return text if d.quote == '"' else text.translate(SWAP)


def swapped_row(d: Dialect, values: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(swapped(d, v) if isinstance(v, str) else v for v in values)


def build(h: Hostile) -> None:
    """Write the file and fill in each record's line, raw bytes, and the oracle's expectations; the
    file's text (``h.text``, a byte no encoding reads as U+FFFD) keeps each record's ``offset``."""
    d = h.dialect
    out, text = bytearray(BOMS[d.encoding] if h.bom else b""), []

    def put(piece: str, extra: bytes = b"") -> bytes:
        data = piece.encode(d.codec)
        out.extend(data)
        text.append(piece)
        return data

    put("".join(line + "\n" for line in h.preamble))
    put(swapped(d, d.delimiter.join(quote(n) if h.quoted_header else n for n in HEADER)) + "\n")
    lines = zip(h.records, h.endings, h.blanks, strict=True)
    for record_no, (record, ending, blanks) in enumerate(lines, start=1):
        put("".join(blanks))
        written = "".join(text)
        record.line, record.offset = written.count("\n") + 1, len(written)
        fields = [swapped(d, f) for f in record.fields]
        at = record.extra_in
        closing = fields[at][-1:] if fields[at].endswith(d.quote) else ""
        head = d.delimiter.join([*fields[:at], fields[at][: len(fields[at]) - len(closing)]])
        tail = closing + "".join(d.delimiter + f for f in fields[at + 1 :])
        record.raw = put(head) + record.extra
        out.extend(record.extra)
        text.append("\ufffd" * len(record.extra))
        record.raw += put(tail)
        record.end = len("".join(text))
        put(ending)
        if record.values is None:
            h.expected_rejects.append((record_no, record.line, record.reason or "", record.raw))
        else:
            h.expected_rows.append(swapped_row(d, record.values))
    h.data, h.text = bytes(out), "".join(text)


def reads_alone(h: Hostile) -> bool:
    """Whether each quote left open mid-file cannot be closed by the next quote of the file: when
    that one could close a quoted field (a delimiter, a quote or a line end after it), the lines in
    between read as one quoted field and nobody can tell which was meant."""
    if not h.dialect.multiline:
        return True
    quote = h.dialect.quote
    for record in h.records:
        if record.fields[1] == OPEN_QUOTE:
            following = h.text.find(quote, record.end)
            if following >= 0 and h.text[following + 1 : following + 2] in (
                h.dialect.delimiter,
                quote,
                "\n",
                "\r",
                "",
            ):
                return False
    return True


def check_good_records_read_with_csv(h: Hostile) -> None:
    """The builder's good records read as its values with Python's csv module."""
    d = h.dialect
    for record in h.records:
        if record.values is not None:
            text = io.StringIO(record.raw.decode(d.codec), newline="")
            [row] = list(csv.reader(text, delimiter=d.delimiter, quotechar=d.quote, strict=True))
            values = swapped_row(d, record.values)
            assert (row[0].strip(), row[1].strip(), row[5].strip()) == (
                str(values[0]),
                values[1],
                values[5] or "",
            )


_names = itertools.count(1)


def import_into(store, app_settings, source: Path, h: Hostile, pause_at: int | None, **job: Any):
    """Import ``source`` into a new table (pausing after chunk ``pause_at``, then resuming); the
    status, the job's id and the table's name."""
    table = f"t{next(_names)}"
    d = h.dialect
    fmt: dict[str, Any] = {"quote": d.quote, "multiline": d.multiline, "skip_lines": len(h.preamble)}
    if not d.detect:
        fmt.update(delimiter=d.delimiter, encoding=d.encoding)
    elif d.encoding == "latin-1" or any(r.extra for r in h.records):  # too little text to tell
        fmt.update(encoding=d.encoding)
    definition = define(
        source=str(source),
        columns=COLUMNS,
        format=fmt,
        target={"table": table},
        reconciliation={"keys": ["id"], "doubles": "reject"},
        **job,
    )
    seen = itertools.count(1)

    def pause(progress: Progress) -> None:
        if next(seen) == pause_at and store.status_of(progress.job_id) is S.RUNNING:
            store.transition(progress.job_id, A.PAUSE, actor="tester")

    status, job_id = run_job(store, app_settings, definition, on_progress=pause)
    if status is S.PAUSED:
        store.transition(job_id, A.START, actor="tester")
        status, _ = run_job(store, app_settings, job_id)
    return status, job_id, table


def check_import(
    store, app_settings, data_dir: Path, tmp_path: Path, h: Hostile, pause_at: int, gzipped: bool, **job
):
    """Import ``h`` (gzipped or not) straight through, then again with a pause: each time the oracle's
    table, rejects and counters."""
    build(h)
    if not reads_alone(h):
        return
    check_good_records_read_with_csv(h)
    source = tmp_path / f"in{next(_names)}.csv{'.gz' if gzipped else ''}"
    source.write_bytes(gzip.compress(h.data) if gzipped else h.data)
    doubles = sum(r.reason == "double" for r in h.records)
    for pause in (None, pause_at):
        status, job_id, table = import_into(store, app_settings, source, h, pause, **job)
        assert status is S.FINISHED
        c = store.runs_of(job_id)[-1].counters
        expected = (len(h.records), len(h.expected_rows), len(h.expected_rejects), doubles)
        assert (c.read, c.inserted, c.rejected, c.doubles) == expected
        assert rejects(store, job_id) == h.expected_rejects
        assert sorted(table_rows(data_dir, table), key=repr) == sorted(h.expected_rows, key=repr)


FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(h=hostile_files(), chunk_rows=st.integers(1, 4), pause_at=st.integers(1, 6), gzipped=st.booleans())
def test_a_hostile_file_in_small_chunks_imports_as_the_oracle_reads_it(
    store, settings, data_dir, tmp_path, h, chunk_rows, pause_at, gzipped
):
    check_import(store, settings, data_dir, tmp_path, h, pause_at, gzipped, chunk_rows=chunk_rows)


@settings(FUZZ, max_examples=max(1, FUZZ.max_examples // 3))
@given(
    h=big_hostile_files(), chunk_rows=st.integers(1, 40), pause_at=st.integers(1, 3), gzipped=st.booleans()
)
def test_a_hostile_file_with_big_records_in_64k_chunks_imports_as_the_oracle_reads_it(
    store, settings, data_dir, tmp_path, h, chunk_rows, pause_at, gzipped
):
    check_import(
        store, settings, data_dir, tmp_path, h, pause_at, gzipped, chunk_rows=chunk_rows, chunk_bytes=65536
    )
