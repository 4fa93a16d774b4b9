"""Resuming from a chunk's end continues exactly at the next record; properties over random files."""

from __future__ import annotations

import gzip
import io
import tempfile
from pathlib import Path

import pytest
from formats_support import Read, read_all, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from impex.domain.definitions import CsvFormat
from impex.domain.position import Position
from impex.formats.errors import FormatError

CSV = CsvFormat(delimiter=",", encoding="utf-8")
SMALL = {"block_size": 64, "max_chunk_bytes": 256}


def records_of(got: Read) -> list[tuple[object, ...]]:
    good = [
        ("ok", n, line, raw, row)
        for n, line, raw, row in zip(got.record_nos, got.line_nos, got.raws, got.rows, strict=True)
    ]
    bad = [("reject", r.record_no, r.line_no, r.raw, (r.reason, r.message)) for r in got.rejects]
    return sorted(good + bad, key=lambda item: int(item[1]))  # type: ignore[call-overload]


def assert_resumes_everywhere(path: Path, fmt: CsvFormat, max_records: int, **kw: int) -> None:
    whole = read_all(path, fmt, max_records=max_records, **kw)
    everything = records_of(whole)
    assert len(everything) == (whole.end.record_no if whole.end else 0)
    for chunk in whole.chunks:
        rest = read_all(path, fmt, max_records=max_records, start=chunk.end, **kw)
        expected = [r for r in everything if r[1] > chunk.end.record_no]  # type: ignore[operator]
        assert records_of(rest) == expected
        if rest.end is not None:
            assert rest.end == whole.end


def test_reading_from_each_chunk_end_gives_exactly_the_remaining_records(tmp_path: Path) -> None:
    data = b'id,text\n\n1,"a\nb"\n2,bad,x\n\n3,"open\n4,d\r\n5,"e ""q"""\n6,f'
    assert_resumes_everywhere(write(tmp_path, data), CSV, max_records=2)


def test_resume_on_a_gzip_source_skips_to_the_uncompressed_offset(tmp_path: Path) -> None:
    path = tmp_path / "data.csv.gz"
    with gzip.open(path, "wb") as f:
        f.write(b"a,b\n" + b"".join(b"%d,x\n" % i for i in range(100)))
    assert_resumes_everywhere(path, CSV, max_records=30)


def test_resume_after_the_last_chunk_gives_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, b"a\n1\n2\n")
    end = read_all(path, CSV).end
    assert end == Position(offset=6, record_no=2, line_no=3)
    assert read_all(path, CSV, start=end).rows == []


def _with_temp(data: bytes) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="impex-formats-"))
    return write(folder, data)


def rfc_field(value: str) -> str:
    """RFC 4180 quoting (the csv module leaves a lone CR unquoted when the line terminator is LF)."""
    if any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


FIELD = st.text(alphabet=st.sampled_from(list('ab ,"\n\r;é')), max_size=6)
ROW = st.lists(FIELD, min_size=3, max_size=3)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(ROW, max_size=25),
    crlf=st.booleans(),
    blank_every=st.integers(0, 5),
    max_records=st.integers(1, 9),
    tiny_buffers=st.booleans(),
)
def test_well_formed_csv_reads_back_and_resumes_at_any_chunk_end(
    rows: list[list[str]], crlf: bool, blank_every: int, max_records: int, tiny_buffers: bool
) -> None:
    end = "\r\n" if crlf else "\n"
    out = io.StringIO()
    out.write("x,y,z" + end)
    for i, row in enumerate(rows):
        out.write(",".join(rfc_field(field) for field in row) + end)
        if blank_every and i % blank_every == 0:
            out.write(end)
    path = _with_temp(out.getvalue().encode("utf-8"))
    kw = SMALL if tiny_buffers else {}
    got = read_all(path, CSV, max_records=max_records, **kw)
    assert got.rejects == []
    assert [tuple(v or "" for v in row) for row in got.rows] == [tuple(r) for r in rows]
    assert_resumes_everywhere(path, CSV, max_records=max_records, **kw)


SPECIAL = b'ab,"\n\r\\\xe9'  # only bytes that matter to the splitter
HOSTILE = st.binary(max_size=200).map(lambda b: bytes(SPECIAL[x % len(SPECIAL)] for x in b))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=HOSTILE,
    header=st.booleans(),
    multiline=st.booleans(),
    escape=st.booleans(),
    max_records=st.integers(1, 7),
    tiny_buffers=st.booleans(),
)
def test_hostile_bytes_never_crash_and_every_record_is_good_or_rejected_once_or_the_header_refused(
    data: bytes, header: bool, multiline: bool, escape: bool, max_records: int, tiny_buffers: bool
) -> None:
    fmt = CsvFormat(
        delimiter=",", encoding="utf-8", header=header, multiline=multiline, escape="\\" if escape else None
    )
    path = _with_temp(data)
    kw = SMALL if tiny_buffers else {}
    if b"\n" not in data and b"\r" in data.rstrip(b"\r"):  # lines ending in CR alone: refused up front
        with pytest.raises(FormatError, match="carriage return alone"):
            read_all(path, fmt, max_records=max_records, **kw)
        return
    try:
        got = read_all(path, fmt, max_records=max_records, **kw)
    except FormatError as error:  # a header line that is no good record gives no names
        assert header and "the header cannot be read: line " in str(error)
        return
    numbers = sorted(got.record_nos + [r.record_no for r in got.rejects])
    assert numbers == list(range(1, len(numbers) + 1))
    for raw in got.raws + [r.raw for r in got.rejects]:
        assert raw in data
    assert_resumes_everywhere(path, fmt, max_records=max_records, **kw)
