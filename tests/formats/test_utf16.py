"""UTF-16 files, as Excel's "Save as → Unicode Text" writes them (UTF-16 LE with a byte order mark, tab
delimited, CRLF): read as any other encoding, with physical lines, raw records in the file's own bytes,
a record with an undecodable unit rejected alone, and exact resume from every chunk end."""

from __future__ import annotations

import codecs
import gzip
from pathlib import Path

import pytest
from formats_support import read_all, write
from test_formats_resume import assert_resumes_everywhere

from impex.domain.definitions import CsvFormat
from impex.domain.rejects import Reason
from impex.formats.detect import detect_format
from impex.formats.errors import FormatError
from impex.formats.reader import DelimitedReader

EXCEL = 'id\tname\tcity\r\n1\tZoë\tKöln\r\n2\t"two\r\nlines"\tParis\r\n3\tBob\r\n4\t😀 smile\tΑθήνα\r\n'
SMALL = {"block_size": 64, "max_chunk_bytes": 256}


def unicode_text(tmp_path: Path, text: str = EXCEL, name: str = "data.txt") -> Path:
    """The file Excel's 'Unicode Text' writes: a UTF-16 LE byte order mark, then the text."""
    return write(tmp_path, codecs.BOM_UTF16_LE + text.encode("utf-16-le"), name)


def test_excels_unicode_text_is_read_with_its_encoding_delimiter_line_ending_and_header(
    tmp_path: Path,
) -> None:
    with DelimitedReader(unicode_text(tmp_path), CsvFormat()) as reader:
        assert (reader.encoding, reader.delimiter, reader.line_ending) == ("utf-16-le", "\t", "\r\n")
        assert reader.header == ["id", "name", "city"]
    got = read_all(unicode_text(tmp_path), CsvFormat())
    assert got.rows == [("1", "Zoë", "Köln"), ("2", "two\r\nlines", "Paris"), ("4", "😀 smile", "Αθήνα")]
    assert got.line_nos == [2, 3, 6]


def test_a_rejected_record_keeps_its_physical_line_and_its_raw_bytes_as_in_the_file(tmp_path: Path) -> None:
    got = read_all(unicode_text(tmp_path), CsvFormat())
    [wrong] = got.rejects
    assert (wrong.record_no, wrong.line_no, wrong.reason) == (3, 5, Reason.WRONG_FIELD_COUNT)
    assert wrong.raw == "3\tBob".encode("utf-16-le")
    assert got.raws[1] == '2\t"two\r\nlines"\tParis'.encode("utf-16-le")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("marked", [True, False], ids=["with-bom", "without-bom"])
def test_utf16_is_detected_from_its_byte_order_mark_or_its_nul_pattern(
    tmp_path: Path, codec: str, marked: bool
) -> None:
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}[codec] if marked else b""
    path = write(tmp_path, bom + "id,name\n1,Zoë\n2,Bob\n".encode(codec))
    detected = detect_format(path, CsvFormat())
    assert (detected.encoding, detected.delimiter, detected.header) == (codec, ",", ["id", "name"])
    assert read_all(path, CsvFormat()).rows == [("1", "Zoë"), ("2", "Bob")]


@pytest.mark.parametrize("given", ["utf-16", "UTF-16LE", "utf_16_le"])
def test_a_given_utf16_encoding_reads_the_file_with_or_without_its_mark(tmp_path: Path, given: str) -> None:
    for name, data in [("marked.txt", codecs.BOM_UTF16_LE), ("bare.txt", b"")]:
        path = write(tmp_path, data + "id\tname\n1\t中文\n".encode("utf-16-le"), name)
        with DelimitedReader(path, CsvFormat(encoding=given)) as reader:
            assert reader.encoding == "utf-16-le"
            assert next(reader.chunks(10)).frame.rows() == [("1", "中文")]


def test_a_lone_surrogate_rejects_its_record_naming_line_and_column_and_the_others_are_read(
    tmp_path: Path,
) -> None:
    bad = "2\tA".encode("utf-16-le") + b"\x00\xd8" + "x\tParis".encode("utf-16-le")
    data = codecs.BOM_UTF16_LE + "id\tname\tcity\r\n1\tZoë\tKöln\r\n".encode("utf-16-le")
    data += bad + "\r\n3\tBob\tRom\r\n".encode("utf-16-le")
    got = read_all(write(tmp_path, data), CsvFormat())
    assert got.rows == [("1", "Zoë", "Köln"), ("3", "Bob", "Rom")]
    [reject] = got.rejects
    assert (reject.record_no, reject.line_no, reject.reason) == (2, 3, Reason.BAD_ENCODING)
    assert (reject.column, reject.value, reject.raw) == ("name", "A\\x00\\xd8x", bad)
    assert reject.message == (
        "line 3: a lone surrogate 0xd800 at column 4: half of a character, not UTF-16LE text"
    )
    assert reject.params["encoding"] == "UTF-16LE"


def test_an_odd_byte_count_rejects_the_last_record_only(tmp_path: Path) -> None:
    data = codecs.BOM_UTF16_LE + "id\tname\r\n1\tAnn\r\n2\tBo".encode("utf-16-le") + b"b"
    got = read_all(write(tmp_path, data), CsvFormat())
    assert got.rows == [("1", "Ann")]
    [reject] = got.rejects
    assert (reject.record_no, reject.line_no, reject.reason) == (2, 3, Reason.BAD_ENCODING)
    assert reject.raw == "2\tBo".encode("utf-16-le") + b"b"
    assert reject.message == (
        "line 3: a lone byte 0x62 at column 5: the file ends in half of a UTF-16LE unit "
        "(an odd number of bytes)"
    )


def test_a_nul_character_rejects_its_record_as_a_nul_byte_does_in_other_encodings(tmp_path: Path) -> None:
    path = unicode_text(tmp_path, "id\tname\r\n1\tZoë\x00n\r\n2\tBob\r\n")
    got = read_all(path, CsvFormat())
    assert got.rows == [("2", "Bob")]
    [reject] = got.rejects
    assert (reject.line_no, reject.code, reject.value) == (2, "bad_encoding.nul", "Zoë\\x00n")
    assert reject.message == "line 2: a NUL byte (0x00) at column 6: not text"
    assert reject.raw == "1\tZoë\x00n".encode("utf-16-le")


def test_reading_a_utf16_file_from_each_chunk_end_gives_exactly_the_remaining_records(tmp_path: Path) -> None:
    text = "id\tname\r\n" + "".join(f"{i}\tZoë 😀 {i}\r\n" for i in range(60))
    text += '61\t"a\r\nb"\r\n62\tbroken\tx\r\n63\t"open\r\n64\tend'
    assert_resumes_everywhere(unicode_text(tmp_path, text), CsvFormat(), max_records=7, **SMALL)


def test_a_gzipped_utf16_file_resumes_as_exactly(tmp_path: Path) -> None:
    path = tmp_path / "data.txt.gz"
    with gzip.open(path, "wb") as f:
        text = "a;b\n" + "".join(f"{i};ü{i}\n" for i in range(100))
        f.write(codecs.BOM_UTF16_BE + text.encode("utf-16-be"))
    assert read_all(path, CsvFormat()).rows[99] == ("99", "ü99")
    assert_resumes_everywhere(path, CsvFormat(), max_records=30, **SMALL)


def test_utf32_is_refused_saying_so(tmp_path: Path) -> None:
    path = write(tmp_path, "a,b\n1,2\n".encode("utf-32"))
    with pytest.raises(FormatError, match=r"data\.csv: UTF-32 files are not supported; convert the file"):
        DelimitedReader(path, CsvFormat())
    with pytest.raises(FormatError, match="UTF-32 files are not supported"):
        DelimitedReader(write(tmp_path, b"a,b\n", "b.csv"), CsvFormat(encoding="utf-32"))


def test_another_encoding_given_for_a_file_marked_utf16_is_refused_naming_the_mark(tmp_path: Path) -> None:
    path = unicode_text(tmp_path)
    with pytest.raises(FormatError) as refused:
        DelimitedReader(path, CsvFormat(encoding="cp1252"))
    assert str(refused.value) == (
        f"{path}: the file starts with a UTF-16LE byte order mark (bytes FF FE), but its encoding is given "
        "as cp1252: give encoding utf-16, or leave it out to detect it"
    )


def test_utf16_given_for_a_file_without_a_nul_byte_is_refused_rather_than_read_as_garbage(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "id,name\n1,Zoë\n".encode())
    with pytest.raises(FormatError) as refused:
        DelimitedReader(path, CsvFormat(encoding="utf-16"))
    assert str(refused.value) == (
        f"{path}: its encoding is given as utf-16, but its start holds no NUL byte, which UTF-16 text "
        "holds in every ASCII character (a delimiter, a line end): give its encoding, or leave it out to "
        "detect it"
    )


def test_a_last_line_still_being_written_is_an_error_naming_the_file_and_line_as_in_other_encodings(
    tmp_path: Path,
) -> None:
    path = unicode_text(tmp_path, "id\tname\r\n1\tZoë\r\n2\thalf a li")
    with DelimitedReader(path, CsvFormat(delimiter="\t")) as reader:
        with path.open("ab") as writer:
            writer.write("ne\r\n3\tc\r\n".encode("utf-16-le"))
        with pytest.raises(
            FormatError,
            match=r"data\.txt: the file changed while it was read \(it had 56 bytes, it has 74\), "
            r"and its last line \(line 3\) is cut short",
        ):
            list(reader.chunks(10))
