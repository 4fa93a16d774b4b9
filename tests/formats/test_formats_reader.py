"""DelimitedReader: records, line numbers, raw bytes and structural rejects of real files."""

from __future__ import annotations

import gzip
import re
import zipfile
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from formats_support import read_all, write

from impex.domain.definitions import CsvFormat
from impex.domain.rejects import Reason
from impex.formats.errors import FormatError, NotText
from impex.formats.reader import DelimitedReader

CSV = CsvFormat(delimiter=",", encoding="utf-8")


def test_a_plain_file_gives_string_columns_named_by_position_with_record_and_line_numbers(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, b"id,name,amount\n1,Ann,10.5\n2,Bob,7\n")
    got = read_all(path, CSV)
    assert got.header == ["id", "name", "amount"]
    assert got.n_fields == 3
    frame = got.chunks[0].frame
    assert frame.columns == ["f1", "f2", "f3"]
    assert all(dtype == pl.String for dtype in frame.dtypes)
    assert got.rows == [("1", "Ann", "10.5"), ("2", "Bob", "7")]
    assert got.record_nos == [1, 2]
    assert got.line_nos == [2, 3]
    assert got.raws == [b"1,Ann,10.5", b"2,Bob,7"]
    assert got.rejects == []


def test_empty_unquoted_field_is_null_and_empty_quoted_field_is_empty_string(tmp_path: Path) -> None:
    got = read_all(write(tmp_path, b'a,b,c\n,"",x\n'), CSV)
    assert got.rows == [(None, "", "x")]


def test_fields_are_kept_exactly_without_trimming(tmp_path: Path) -> None:
    got = read_all(write(tmp_path, b"a,b\n  x , y\t\n"), CSV)
    assert got.rows == [("  x ", " y\t")]


def test_quoted_fields_hold_delimiters_doubled_quotes_and_line_breaks(tmp_path: Path) -> None:
    data = b'id,text,n\n1,"a, b",x\n2,"say ""hi""",y\n3,"two\nlines\r\nthree",z\n4,end,w\n'
    got = read_all(write(tmp_path, data), CSV)
    assert got.rows == [
        ("1", "a, b", "x"),
        ("2", 'say "hi"', "y"),
        ("3", "two\nlines\r\nthree", "z"),
        ("4", "end", "w"),
    ]
    assert got.line_nos == [2, 3, 4, 7]
    assert got.raws[2] == b'3,"two\nlines\r\nthree",z'
    assert got.end is not None and got.end.line_no == 7


@pytest.mark.parametrize("escape", [None, "\\"])
def test_a_chunk_tells_which_fields_were_quoted_whatever_the_quoted_delimiters_and_lines_before(
    tmp_path: Path, escape: str | None
) -> None:
    data = b'a;b;c\n"x;y";NULL;"NULL"\n"two\nlines";"";\nbad;"\n"p ""q"" r";"s;t";u\n'
    fmt = CsvFormat(delimiter=";", encoding="utf-8", escape=escape)
    [chunk] = read_all(write(tmp_path, data), fmt).chunks
    assert [r.record_no for r in chunk.rejects] == [3]  # an unterminated quote: not a row of the frame
    rows = np.repeat(np.arange(3), 3)
    fields = np.tile(np.arange(3), 3)
    assert chunk.quoted(rows, fields).reshape(3, 3).tolist() == [
        [True, False, True],
        [True, True, False],
        [True, True, False],
    ]
    assert chunk.quoted([2, 0], [1, 1]).tolist() == [True, False]


def test_crlf_line_endings_are_not_part_of_fields_nor_raw_bytes(tmp_path: Path) -> None:
    got = read_all(write(tmp_path, b"a,b\r\n1,2\r\n3,4\r\n"), CSV)
    assert got.rows == [("1", "2"), ("3", "4")]
    assert got.raws == [b"1,2", b"3,4"]


def test_a_utf8_bom_is_skipped_and_offsets_count_it(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xef\xbb\xbfid,name\n1,\xc3\xa9t\xc3\xa9\n")
    with DelimitedReader(path, CsvFormat(delimiter=",")) as reader:
        assert reader.header == ["id", "name"]
        assert reader.encoding == "utf-8-sig"
        chunk = next(reader.chunks(10))
    assert chunk.frame.rows() == [("1", "été")]
    assert chunk.end.offset == path.stat().st_size


@pytest.mark.parametrize("given", ["latin-1", "cp1252", "iso8859-15"])
def test_a_utf8_bom_under_another_given_encoding_is_an_error_not_text_read_as_mojibake(
    tmp_path: Path, given: str
) -> None:
    path = write(tmp_path, b"\xef\xbb\xbfid,name\n1,\xc3\xa9t\xc3\xa9\n")
    with pytest.raises(
        FormatError,
        match=rf"data\.csv: the file starts with a UTF-8 byte order mark .* given as {given}: give",
    ):
        DelimitedReader(path, CsvFormat(delimiter=",", encoding=given))


@pytest.mark.parametrize("given", ["latin-1", "cp1252", "cp1250"])
def test_utf8_text_under_another_given_encoding_is_an_error_showing_a_word_as_it_would_be_misread(
    tmp_path: Path, given: str
) -> None:
    path = write(tmp_path, "id,city\n1,Berlin\n2,Köln\n".encode())
    with pytest.raises(FormatError) as raised:
        DelimitedReader(path, CsvFormat(delimiter=",", encoding=given))
    misread = "Köln".encode().decode(given)
    assert str(raised.value) == (
        f"{path}: its encoding is given as {given}, but the text is UTF-8: line 3 holds 'Köln', which "
        f"{given} reads as {misread!r}. Give encoding utf-8, or leave it out to detect it"
    )


def test_last_record_without_trailing_newline_is_read(tmp_path: Path) -> None:
    got = read_all(write(tmp_path, b"a,b\n1,2\n3,4"), CSV)
    assert got.rows == [("1", "2"), ("3", "4")]
    assert got.raws[-1] == b"3,4"
    assert got.end is not None and got.end.line_no == 3 and got.end.offset == 11


def test_blank_lines_are_not_records_but_count_as_lines(tmp_path: Path) -> None:
    got = read_all(write(tmp_path, b"a,b\n\n1,2\n\r\n\n3,4\n\n"), CSV)
    assert got.rows == [("1", "2"), ("3", "4")]
    assert got.record_nos == [1, 2]
    assert got.line_nos == [3, 6]
    assert got.end is not None and (got.end.record_no, got.end.line_no) == (2, 7)


def test_an_empty_file_gives_no_records_and_an_empty_header(tmp_path: Path) -> None:
    path = write(tmp_path, b"")
    got = read_all(path, CSV)
    assert (got.header, got.n_fields, got.rows, got.rejects) == ([], 0, [], [])
    got = read_all(path, CsvFormat(delimiter=",", encoding="utf-8", header=False))
    assert (got.header, got.n_fields, got.rows) == (None, 0, [])


def test_a_header_only_file_gives_the_names_and_no_records(tmp_path: Path) -> None:
    got = read_all(write(tmp_path, b"id,name\n"), CSV)
    assert (got.header, got.n_fields, got.rows, got.chunks) == (["id", "name"], 2, [], [])


def test_without_header_the_first_record_sets_the_field_count(tmp_path: Path) -> None:
    fmt = CsvFormat(delimiter=";", encoding="utf-8", header=False)
    got = read_all(write(tmp_path, b"1;a\n2;b;c\n3;d\n"), fmt)
    assert got.header is None and got.n_fields == 2
    assert got.rows == [("1", "a"), ("3", "d")]
    assert [r.record_no for r in got.rejects] == [2]


def test_skip_lines_skips_physical_lines_before_the_header(tmp_path: Path) -> None:
    data = b'report of "today\nexported by x\nid,name\n1,Ann\n'
    got = read_all(write(tmp_path, data), CsvFormat(delimiter=",", encoding="utf-8", skip_lines=2))
    assert got.header == ["id", "name"]
    assert got.rows == [("1", "Ann")]
    assert got.line_nos == [4]


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b'id,"name\n1,Ann\n2,Bob\n', "line 1: unterminated quote in field 2"),
        (b'id,"name\n1,Ann\n2,"Bob\n3,Cy\n', "line 1: stray quote"),  # the quote closes lines below
        (b"id,n\xe4me\n1,Ann\n", "line 1: invalid UTF-8 byte 0xe4 at column 5"),
        (b"id,na\x00me\n1,Ann\n", "line 1: a NUL byte (0x00) at column 6"),
        (b'# export\nid,"na"me\n1,Ann\n', "line 2: stray quote"),
    ],
)
def test_a_header_line_that_is_no_good_record_is_an_error_naming_the_file_line_and_why(
    tmp_path: Path, data: bytes, said: str
) -> None:
    path = write(tmp_path, data)
    skip = 1 if data.startswith(b"#") else 0
    with pytest.raises(FormatError, match=rf"data\.csv: the header cannot be read: {re.escape(said)}"):
        DelimitedReader(path, CsvFormat(delimiter=",", encoding="utf-8", skip_lines=skip))


@pytest.mark.parametrize("directive", [b"sep=;\r\n", b"SEP=;\n", b'"sep=;"\n', b"\xef\xbb\xbfsep=;\n"])
def test_excel_s_sep_line_names_the_delimiter_and_is_no_header_nor_record(
    tmp_path: Path, directive: bytes
) -> None:
    path = write(tmp_path, directive + b"id;name\n1;Ann\n2;Bob\n")
    got = read_all(path, CsvFormat())
    assert got.header == ["id", "name"] and got.rows == [("1", "Ann"), ("2", "Bob")]
    assert got.line_nos == [3, 4] and got.rejects == []
    first = read_all(path, CsvFormat(), max_records=1).chunks[0]
    rest = read_all(path, CsvFormat(), max_records=1, start=first.end)
    assert rest.rows == [("2", "Bob")] and rest.line_nos == [4]


def test_a_sep_line_is_one_of_the_lines_skip_lines_skips_when_it_is_set(tmp_path: Path) -> None:
    path = write(tmp_path, b"sep=;\nid;name\n1;Ann\n")
    got = read_all(path, CsvFormat(delimiter=";", skip_lines=1))
    assert got.header == ["id", "name"] and got.rows == [("1", "Ann")] and got.line_nos == [3]


def test_a_quoted_header_is_unquoted(tmp_path: Path) -> None:
    got = read_all(write(tmp_path, b'"id","full, name"\n1,x\n'), CSV)
    assert got.header == ["id", "full, name"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter_is_honoured(tmp_path: Path, delimiter: str) -> None:
    d = delimiter.encode()
    data = b"a" + d + b"b\n" + b'"x' + d + b'y"' + d + b"z\n"
    got = read_all(write(tmp_path, data), CsvFormat(delimiter=delimiter, encoding="utf-8"))
    assert got.rows == [("x" + delimiter + "y", "z")]


def test_another_quote_character_is_honoured(tmp_path: Path) -> None:
    got = read_all(write(tmp_path, b"a,b\n'x,y',z\n"), CsvFormat(delimiter=",", quote="'", encoding="utf-8"))
    assert got.rows == [("x,y", "z")]


def test_an_escape_character_keeps_escaped_quotes_inside_the_field_and_is_resolved(tmp_path: Path) -> None:
    data = b'a,b\n"say \\"hi\\", ok",1\n"back\\\\slash",2\n"x\\\\",3\n'
    fmt = CsvFormat(delimiter=",", escape="\\", encoding="utf-8")
    got = read_all(write(tmp_path, data), fmt)
    assert got.rows == [('say "hi", ok', "1"), ("back\\slash", "2"), ("x\\", "3")]
    assert got.raws[0] == b'"say \\"hi\\", ok",1'
    assert got.rejects == []


def test_without_multiline_every_line_end_ends_a_record(tmp_path: Path) -> None:
    fmt = CsvFormat(delimiter=",", encoding="utf-8", multiline=False)
    got = read_all(write(tmp_path, b'a,b\n"x\ny",1\n2,3\n'), fmt)
    assert got.rows == [("2", "3")]
    assert [(r.reason, r.line_no, r.raw) for r in got.rejects] == [
        (Reason.UNTERMINATED_QUOTE, 2, b'"x'),
        (Reason.UNTERMINATED_QUOTE, 3, b'y",1'),
    ]


def test_wrong_field_count_is_rejected_with_line_raw_bytes_and_message(tmp_path: Path) -> None:
    data = b"a,b,c\n1,2,3\n4,5\n\n6,7,8,9\n10,11,12\n"
    got = read_all(write(tmp_path, data), CSV)
    assert got.rows == [("1", "2", "3"), ("10", "11", "12")]
    assert got.record_nos == [1, 4]
    assert [(r.reason, r.record_no, r.line_no, r.raw, r.message) for r in got.rejects] == [
        (Reason.WRONG_FIELD_COUNT, 2, 3, b"4,5", "line 3: expected 3 fields, found 2"),
        (Reason.WRONG_FIELD_COUNT, 3, 5, b"6,7,8,9", "line 5: expected 3 fields, found 4"),
    ]


def test_invalid_utf8_in_one_record_rejects_only_that_record(tmp_path: Path) -> None:
    data = b"id,name,city\n1,Jos\xc3\xa9,Lyon\n2,Ren\xe9,Paris\n3,Zo\xc3\xa9,Nice\n"
    got = read_all(write(tmp_path, data), CSV)
    assert got.rows == [("1", "José", "Lyon"), ("3", "Zoé", "Nice")]
    [reject] = got.rejects
    assert (reject.reason, reject.record_no, reject.line_no, reject.raw) == (
        Reason.BAD_ENCODING,
        2,
        3,
        b"2,Ren\xe9,Paris",
    )
    assert reject.column == "name"
    assert reject.value == "Ren\\xe9"
    assert reject.message == (
        "line 3: invalid UTF-8 byte 0xe9 at column 6; in cp1252 the field reads 'René': "
        "if the file is in cp1252, give that encoding"
    )


def test_latin1_records_are_transcoded_and_raw_bytes_stay_latin1(tmp_path: Path) -> None:
    path = write(tmp_path, "id,name\n1,Jérôme\n2,Zoë\n".encode("latin-1"))
    got = read_all(path, CsvFormat(delimiter=",", encoding="latin-1"))
    assert got.rows == [("1", "Jérôme"), ("2", "Zoë")]
    assert got.raws[0] == "1,Jérôme".encode("latin-1")


def test_a_latin1_file_is_detected_when_no_encoding_is_given(tmp_path: Path) -> None:
    text = "id,name,city\n" + "".join(f"{i},Jérôme Lefèvre,Besançon\n" for i in range(50))
    path = write(tmp_path, text.encode("cp1252"))
    with DelimitedReader(path, CsvFormat()) as reader:
        assert reader.encoding in ("cp1252", "iso8859-1")
        assert reader.delimiter == ","
        rows = next(reader.chunks(100)).frame.rows()
    assert rows[0] == ("0", "Jérôme Lefèvre", "Besançon")


@pytest.mark.parametrize(("encoding", "name"), [("utf-16-le", "UTF-16LE"), ("utf-16-be", "UTF-16BE")])
def test_another_encoding_given_for_utf16_without_a_byte_order_mark_is_refused_saying_what_it_looks_like(
    tmp_path: Path, encoding: str, name: str
) -> None:
    path = write(tmp_path, "id,name\n1,Zoë\n2,Bob\n".encode(encoding))
    with pytest.raises(FormatError) as refused:
        DelimitedReader(path, CsvFormat(encoding="cp1252"))
    assert str(refused.value) == (
        f"{path}: the file looks like {name} without a byte order mark (every other byte is NUL), but its "
        "encoding is given as cp1252: give encoding utf-16, or leave it out to detect it"
    )


def test_lines_ending_in_cr_alone_are_refused_naming_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, b"id;name\r1;a\r2;b\r")
    with pytest.raises(FormatError) as refused:
        DelimitedReader(path, CsvFormat())
    assert str(refused.value) == (
        f"{path}: its lines end in a carriage return alone (CR, as on classic Mac OS: the first at "
        "offset 7), not in LF or CRLF: convert the file, e.g. with tr '\\r' '\\n'"
    )


def test_unterminated_quote_in_the_middle_rejects_only_its_first_line(tmp_path: Path) -> None:
    data = b'id,text,n\n1,ok,a\n2,"broken,b\n3,"fine",c\n4,x,d\n'
    got = read_all(write(tmp_path, data), CSV)
    assert got.rows == [("1", "ok", "a"), ("3", "fine", "c"), ("4", "x", "d")]
    assert got.record_nos == [1, 3, 4]
    assert got.line_nos == [2, 4, 5]
    [reject] = got.rejects
    assert (reject.reason, reject.record_no, reject.line_no, reject.raw, reject.column) == (
        Reason.UNTERMINATED_QUOTE,
        2,
        3,
        b'2,"broken,b',
        "text",
    )
    assert reject.message.startswith("line 3: unterminated quote in field 2")


def test_unterminated_quote_at_the_end_of_the_file_is_rejected(tmp_path: Path) -> None:
    got = read_all(write(tmp_path, b'id,text\n1,a\n2,"open\n3,b\n4,c'), CSV)
    assert got.rows == [("1", "a"), ("3", "b"), ("4", "c")]
    assert [(r.reason, r.line_no, r.raw) for r in got.rejects] == [(Reason.UNTERMINATED_QUOTE, 3, b'2,"open')]


def test_text_after_a_closing_quote_is_rejected_not_misparsed(tmp_path: Path) -> None:
    got = read_all(write(tmp_path, b'a,b\n"say "hi" now",1\n2,3\n'), CSV)
    assert got.rows == [("2", "3")]
    assert [(r.reason, r.line_no) for r in got.rejects] == [(Reason.UNTERMINATED_QUOTE, 2)]
    assert "stray quote" in got.rejects[0].message


def test_a_quote_inside_an_unquoted_field_is_literal(tmp_path: Path) -> None:
    got = read_all(write(tmp_path, b'a,b\n5"5 pipe",1\n'), CSV)
    assert got.rows == [('5"5 pipe"', "1")]


def test_a_well_quoted_record_over_several_lines_with_a_field_too_many_is_rejected_whole(
    tmp_path: Path,
) -> None:
    data = b'id,name,note\n1,a,"first line\n2,b,c\nend of note",EXTRA\n3,d,e\n'
    got = read_all(write(tmp_path, data), CSV)
    assert got.rows == [("3", "d", "e")]  # not the quoted note's "2,b,c" as a row of its own
    assert [(r.reason, r.record_no, r.line_no, r.raw) for r in got.rejects] == [
        (Reason.WRONG_FIELD_COUNT, 1, 2, b'1,a,"first line\n2,b,c\nend of note",EXTRA')
    ]


def test_lone_quotes_inside_fields_never_join_records(tmp_path: Path) -> None:
    data = b'id,desc,qty\n1,5" pipe,2\n2,3" pipe,4\n3,x,5\n4,1/2" nut,6\n'
    got = read_all(write(tmp_path, data), CSV)
    assert got.rows == [("3", "x", "5")] and got.record_nos == [3] and got.line_nos == [4]
    assert [(r.record_no, r.line_no, r.raw) for r in got.rejects] == [
        (1, 2, b'1,5" pipe,2'),
        (2, 3, b'2,3" pipe,4'),
        (4, 5, b'4,1/2" nut,6'),
    ]
    assert got.rejects[0].message == (
        'line 2: unterminated quote in field 2: a quote inside the field (as in 5" pipe) opens no quoted '
        "field and is never closed: quote the whole field and double that quote"
    )


def test_without_a_header_the_usual_field_count_is_expected_not_the_first_records(tmp_path: Path) -> None:
    got = read_all(write(tmp_path, b"1,a\n2,b,x\n3,c,y\n4,d,z\n"), CsvFormat(delimiter=",", header=False))
    assert got.n_fields == 3
    assert got.rows == [("2", "b", "x"), ("3", "c", "y"), ("4", "d", "z")]
    assert [(r.reason, r.line_no) for r in got.rejects] == [(Reason.WRONG_FIELD_COUNT, 1)]


def test_chunks_hold_at_most_max_records_and_end_on_record_boundaries(tmp_path: Path) -> None:
    lines = b"".join(b'%d,"x\ny"\n' % i for i in range(25))
    got = read_all(write(tmp_path, b"a,b\n" + lines), CSV, max_records=7)
    assert [c.n_records for c in got.chunks] == [7, 7, 7, 4]
    assert got.record_nos == list(range(1, 26))
    assert got.line_nos == list(range(2, 52, 2))
    assert [c.end.line_no for c in got.chunks] == [15, 29, 43, 51]


def test_a_first_chunk_can_be_smaller_and_the_records_are_the_same(tmp_path: Path) -> None:
    path = write(tmp_path, b"a,b\n" + b"".join(b"%d,x\n" % i for i in range(25)))
    with DelimitedReader(path, CSV) as reader:
        chunks = list(reader.chunks(10, first=3))
    assert [c.n_records for c in chunks] == [3, 10, 10, 2]
    assert [n for c in chunks for n in c.record_nos.tolist()] == list(range(1, 26))


def test_each_column_of_a_chunk_comes_in_one_piece(tmp_path: Path) -> None:
    """The parser splits a big chunk's columns into pieces, which every later expression
    would pay for; the chunk hands them over whole."""
    rows = b"".join(b"%d,name %d,%d.5\n" % (i, i, i) for i in range(200_000))
    got = read_all(write(tmp_path, b"a,b,c\n" + rows), CSV, max_records=200_000)
    frame = got.chunks[0].frame
    assert frame.height == 200_000
    assert frame.n_chunks("all") == [1, 1, 1]


def test_small_blocks_and_byte_cap_give_the_same_records(tmp_path: Path) -> None:
    rows = b"".join(b'%d,"text %d, with\nbreak",end\n' % (i, i) for i in range(3000))
    path = write(tmp_path, b"a,b,c\n" + rows)
    whole = read_all(path, CSV, max_records=100_000)
    small = read_all(path, CSV, max_records=1000, block_size=1024, max_chunk_bytes=4096)
    assert small.rows == whole.rows and small.line_nos == whole.line_nos
    assert len(whole.rows) == 3000


def test_an_unterminated_quote_cannot_swallow_more_than_the_byte_cap(tmp_path: Path) -> None:
    rows = b"".join(b"%d,plain\n" % i for i in range(2000))
    path = write(tmp_path, b'a,b\n0,"never closed\n' + rows)
    got = read_all(path, CSV, block_size=1024, max_chunk_bytes=4096)
    assert len(got.rows) == 2000
    assert [(r.reason, r.line_no) for r in got.rejects] == [(Reason.UNTERMINATED_QUOTE, 2)]


def test_raw_and_line_nos_address_frame_rows(tmp_path: Path) -> None:
    path = write(tmp_path, b"a\nx\n\ny\nz\n")
    with DelimitedReader(path, CSV) as reader:
        chunk = next(reader.chunks(10))
    assert chunk.raw(np.array([2, 0])) == [b"z", b"x"]
    assert chunk.line_nos(np.array([1, 2])).tolist() == [4, 5]


def test_gzip_sources_are_read_transparently(tmp_path: Path) -> None:
    path = tmp_path / "data.csv.gz"
    with gzip.open(path, "wb") as f:
        f.write(b"a,b\n1,2\n3,4\n")
    with DelimitedReader(path, CSV) as reader:
        assert reader.total_bytes is None
        assert [c.frame.rows() for c in reader.chunks(10)] == [[("1", "2"), ("3", "4")]]


def test_zip_sources_read_their_only_member(tmp_path: Path) -> None:
    path = tmp_path / "data.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export/data.csv", "a,b\n1,2\n")
    with DelimitedReader(path, CSV) as reader:
        assert reader.total_bytes == 8
        assert next(reader.chunks(10)).frame.rows() == [("1", "2")]


def test_a_zip_with_several_data_files_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.csv", "a\n1\n")
        archive.writestr("b.csv", "a\n2\n")
    with pytest.raises(FormatError, match=r"several files \(a\.csv, b\.csv\)"):
        DelimitedReader(path, CSV)


def _office_zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


@pytest.mark.parametrize(
    ("name", "members", "said"),
    [
        (
            "book.xlsx",
            {
                "[Content_Types].xml": "<Types/>",
                "xl/workbook.xml": "<w/>",
                "xl/worksheets/sheet1.xml": "<s/>",
            },
            "book.xlsx: an Excel workbook, not a data file: impex imports delimited text (CSV): save the "
            "sheet as CSV (Excel: File → Save As → CSV UTF-8) and import that",
        ),
        (
            "book.ods",
            {"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<c/>"},
            "book.ods: an OpenDocument spreadsheet, not a data file: impex imports delimited text (CSV): "
            "save the sheet as CSV (LibreOffice Calc: File → Save As → Text CSV) and import that",
        ),
    ],
)
def test_a_spreadsheet_is_refused_saying_how_to_save_it_as_csv(tmp_path: Path, name, members, said) -> None:
    with pytest.raises(FormatError) as refused:
        DelimitedReader(_office_zip(tmp_path / name, members), CSV)
    assert str(refused.value) == f"{tmp_path / said}"


def test_an_old_excel_workbook_is_refused_saying_how_to_save_it_as_csv(tmp_path: Path) -> None:
    path = tmp_path / "book.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    with pytest.raises(FormatError, match=r"book\.xls: an Excel 97-2003 workbook .*: save the sheet as CSV"):
        DelimitedReader(path, CSV)


def test_a_missing_file_raises_file_not_found_with_its_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nowhere\.csv"):
        DelimitedReader(tmp_path / "nowhere.csv", CSV)


def test_a_binary_file_is_refused_naming_its_first_binary_byte(tmp_path: Path) -> None:
    path = write(tmp_path, b"id,name\n1,Ann\n\x7fELF\x02\x01\x01\x00\x00" + bytes(range(256)))
    with pytest.raises(
        NotText, match=r"data\.csv: not a text file: byte 0x00 at line 3, column 8 \(offset 21\)"
    ):
        DelimitedReader(path, CsvFormat())


def test_a_gzip_file_holding_binary_bytes_is_refused_too(tmp_path: Path) -> None:
    path = tmp_path / "data.csv.gz"
    path.write_bytes(gzip.compress(b"a,b\n" + b"\x01\x02\x03" * 100))
    with pytest.raises(NotText, match=r"byte 0x01 at line 2, column 1"):
        DelimitedReader(path, CSV)


def test_a_few_control_bytes_in_text_are_data_not_a_binary_file(tmp_path: Path) -> None:
    """Below one byte in a hundred they are taken as part of the values (an import keeps them)."""
    path = write(tmp_path, b"a,b\n" + b"1,text\n" * 30 + b"2,x\x1by\n")
    assert read_all(path, CSV).chunks[0].frame.rows()[-1] == ("2", "x\x1by")


def test_a_folder_is_refused_as_a_folder(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError, match="the source is a folder, not a data file"):
        DelimitedReader(tmp_path, CSV)


def test_total_bytes_of_a_plain_file_is_its_size(tmp_path: Path) -> None:
    path = write(tmp_path, b"a\n1\n")
    with DelimitedReader(path, CSV) as reader:
        assert reader.total_bytes == 4


def test_bytes_undefined_in_cp1252_reject_their_record(tmp_path: Path) -> None:
    path = write(tmp_path, b"a,b\n1,caf\xe9\n2,x\x81y\n")
    got = read_all(path, CsvFormat(delimiter=",", encoding="cp1252"))
    assert got.rows == [("1", "café")]
    [reject] = got.rejects
    assert (reject.reason, reject.line_no, reject.raw) == (Reason.BAD_ENCODING, 3, b"2,x\x81y")
    assert reject.message == "line 3: invalid cp1252 byte 0x81 at column 4"


def test_a_bad_byte_on_the_second_line_of_a_record_names_that_line(tmp_path: Path) -> None:
    got = read_all(write(tmp_path, b'a,b\n1,"x\ny\xff"\n'), CSV)
    [reject] = got.rejects
    assert (reject.line_no, reject.message) == (2, "line 3: invalid UTF-8 byte 0xff at column 2")


def test_a_line_longer_than_a_chunk_may_be_names_its_line_and_the_setting_to_raise(tmp_path: Path) -> None:
    path = write(tmp_path, b"id,name\n1,a\n2," + b"x" * 300_000 + b"\n3,c\n")
    with (
        DelimitedReader(path, CSV, max_chunk_bytes=128 * 1024, block_size=64 * 1024) as reader,
        pytest.raises(FormatError, match=r"line 3 is longer than 131,072 bytes, .* raise chunk_bytes"),
    ):
        list(reader.chunks(10))


def test_a_long_line_within_the_chunk_size_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, b"id,name\n1,a\n2," + b"x" * 300_000 + b"\n3,c\n")
    with DelimitedReader(path, CSV, max_chunk_bytes=512 * 1024, block_size=64 * 1024) as reader:
        rows = [row for chunk in reader.chunks(10) for row in chunk.frame.rows()]
    assert [(i, len(v)) for i, v in rows] == [("1", 1), ("2", 300_000), ("3", 1)]


def test_a_gzip_file_cut_short_is_an_error_naming_it_after_the_records_before_the_cut(tmp_path: Path) -> None:
    whole = gzip.compress(b"a,b\n" + b"".join(b"%d,x\n" % i for i in range(500_000)))
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    read = []
    with (
        DelimitedReader(path, CSV, max_chunk_bytes=64 * 1024, block_size=64 * 1024) as reader,
        pytest.raises(FormatError, match=r"cut\.csv\.gz: the gzip data is cut short or damaged"),
    ):
        for chunk in reader.chunks(1000):
            read.append(chunk.frame.height)
    assert sum(read) > 100_000  # the records before the cut were read


def test_a_damaged_zip_archive_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "data.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.csv", "a,b\n" + "1,2\n" * 1000)
    whole = path.read_bytes()
    path.write_bytes(whole[:60] + whole[200:])
    with pytest.raises(FormatError, match=r"data\.zip: not a readable zip archive"):
        DelimitedReader(path, CSV)


def _encrypted(path: Path) -> Path:
    """A zip whose one member is marked as encrypted (general purpose flag bit 0), as `zip -P` makes."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data.csv", "a,b\n1,2\n")
    data = bytearray(path.read_bytes())
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature) + flags_at
        data[at] |= 0x01
    path.write_bytes(bytes(data))
    return path


def test_a_password_protected_zip_is_refused_naming_the_file_and_its_member(tmp_path: Path) -> None:
    path = _encrypted(tmp_path / "secret.zip")
    with pytest.raises(FormatError, match=r"secret\.zip: data\.csv in the zip archive is encrypted"):
        DelimitedReader(path, CSV)


def test_an_empty_zip_archive_is_refused_as_one_holding_no_data_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.zip"
    zipfile.ZipFile(path, "w").close()
    with pytest.raises(FormatError, match=r"empty\.zip: the zip archive holds no data file"):
        DelimitedReader(path, CsvFormat())


def test_lines_appended_while_a_file_is_read_are_not_read(tmp_path: Path) -> None:
    path = write(tmp_path, b"id,name\n1,a\n2,b\n")
    with DelimitedReader(path, CSV) as reader:
        with path.open("ab") as writer:
            writer.write(b"3,c\n4,half a li")
        records = [row for chunk in reader.chunks(10) for row in chunk.frame.rows()]
    assert records == [("1", "a"), ("2", "b")]


def test_a_last_line_still_being_written_is_an_error_naming_the_file_and_line_not_a_record(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, b"id,name\n1,a\n2,half a li")
    with DelimitedReader(path, CSV) as reader:
        with path.open("ab") as writer:
            writer.write(b"ne\n3,c\n")
        with pytest.raises(
            FormatError,
            match=r"data\.csv: the file changed while it was read \(it had 23 bytes, it has 30\), "
            r"and its last line \(line 3\) is cut short",
        ):
            list(reader.chunks(10))


def test_a_file_cut_short_while_it_is_read_is_an_error_not_a_shorter_last_record(tmp_path: Path) -> None:
    path = write(tmp_path, b"id,name\n1,a\n2,a long name\n")
    with DelimitedReader(path, CSV) as reader:
        with path.open("r+b") as writer:
            writer.truncate(15)
        with pytest.raises(FormatError, match=r"data\.csv: the file changed while it was read .* \(line 3\)"):
            list(reader.chunks(10))
