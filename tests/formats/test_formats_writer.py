"""CsvWriter and write_raw_records: every output option, and files that read back."""

from __future__ import annotations

import gzip
import io
import re
from datetime import date, datetime, time
from pathlib import Path

import polars as pl
import pytest
from formats_support import read_all

from impex.domain.definitions import CsvFormat, OutputFormat
from impex.formats.errors import FormatError
from impex.formats.writer import CsvWriter, write_raw_records

FRAME = pl.DataFrame(
    {
        "id": [1, 2],
        "name": ['Ann "A", Jr', None],
        "amount": [1.5, -2.25],
        "day": [date(2024, 1, 31), None],
        "at": [datetime(2024, 1, 31, 8, 5, 9), None],
    }
)


def written(fmt: OutputFormat, *frames: pl.DataFrame) -> bytes:
    out = io.BytesIO()
    writer = CsvWriter(out, fmt)
    for frame in frames:
        writer.write(frame)
    return out.getvalue()


def test_default_output_is_minimal_quoting_lf_iso_dates_and_a_header_once() -> None:
    assert written(OutputFormat(), FRAME, FRAME.head(1)) == (
        b"id,name,amount,day,at\n"
        b'1,"Ann ""A"", Jr",1.5,2024-01-31,2024-01-31 08:05:09\n'
        b"2,,-2.25,,\n"
        b'1,"Ann ""A"", Jr",1.5,2024-01-31,2024-01-31 08:05:09\n'
    )


def test_delimiter_decimal_comma_date_formats_null_value_and_crlf() -> None:
    fmt = OutputFormat(
        delimiter=";",
        decimal_separator=",",
        date_format="%d/%m/%Y",
        timestamp_format="%d/%m/%Y %H:%M",
        null_value="NULL",
        line_ending="crlf",
        header=False,
    )
    assert written(fmt, FRAME) == (
        b'1;"Ann ""A"", Jr";1,5;31/01/2024;31/01/2024 08:05\r\n2;NULL;-2,25;NULL;NULL\r\n'
    )


def test_quoting_all_and_none_and_another_quote_character() -> None:
    frame = pl.DataFrame({"a": ["x"], "b": ["y z"]})
    assert written(OutputFormat(quoting="all"), frame) == b'"a","b"\n"x","y z"\n'
    assert written(OutputFormat(quoting="none", header=False), frame) == b"x,y z\n"
    assert written(OutputFormat(quote="'", header=False), pl.DataFrame({"a": ["1,2"]})) == b"'1,2'\n"


def test_non_utf8_output_is_transcoded_and_unencodable_text_is_a_clear_error() -> None:
    frame = pl.DataFrame({"name": ["Zoë"]})
    assert written(OutputFormat(encoding="latin-1", header=False), frame) == "Zoë\n".encode("latin-1")
    with pytest.raises(
        FormatError, match=r"row 1, column name: 'Žižek' holds 'Ž' \(U\+017D\), which iso8859-1 cannot encode"
    ):
        written(OutputFormat(encoding="latin-1"), pl.DataFrame({"name": ["Žižek"]}))


def test_a_column_name_the_encoding_cannot_hold_is_a_clear_error_naming_the_header() -> None:
    with pytest.raises(
        FormatError,
        match=r"the header: column name '日本' holds '日' \(U\+65E5\), which iso8859-1 cannot encode",
    ):
        written(OutputFormat(encoding="latin-1"), pl.DataFrame({"日本": ["a"], "ok": ["b"]}))
    with pytest.raises(FormatError, match=r"the header: column name '日本'"):  # no row: the header only
        written(OutputFormat(encoding="latin-1"), pl.DataFrame(schema={"日本": pl.String}))
    assert written(OutputFormat(encoding="latin-1", header=False), pl.DataFrame({"日本": ["a"]})) == b"a\n"


def test_writing_into_a_gzip_file_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "out.csv.gz"
    with gzip.open(path, "wb") as f:
        writer = CsvWriter(f, OutputFormat())
        writer.write(FRAME)
        writer.write(FRAME)
    assert writer.rows_written == 4
    got = read_all(path, CsvFormat(delimiter=",", encoding="utf-8"))
    assert got.header == FRAME.columns
    assert got.rows[0] == ("1", 'Ann "A", Jr', "1.5", "2024-01-31", "2024-01-31 08:05:09")
    assert len(got.rows) == 4


def test_a_written_file_round_trips_through_the_reader(tmp_path: Path) -> None:
    frame = pl.DataFrame({"text": ["multi\nline", "a;b", ' "q" ', ""], "n": ["1", "2", "3", "4"]})
    path = tmp_path / "round.csv"
    path.write_bytes(written(OutputFormat(delimiter=";", line_ending="crlf"), frame))
    got = read_all(path, CsvFormat(delimiter=";", encoding="utf-8"))
    assert got.rejects == []
    assert [(t or "", n) for t, n in got.rows] == list(zip(frame["text"], frame["n"], strict=True))


def test_raw_records_are_written_back_as_they_were_with_a_quoted_reason(tmp_path: Path) -> None:
    out = io.BytesIO()
    records = [b"4,5", "Ren\xe9,x,y".encode("latin-1")]
    write_raw_records(
        out,
        records,
        ['line 3: expected 3 fields, found 2 ("a")', "bad"],
        delimiter=",",
        encoding="latin-1",
        header=["a", "b", "c"],
        line_ending="\r\n",
    )
    assert out.getvalue() == (
        b'a,b,c,reason\r\n4,5,"line 3: expected 3 fields, found 2 (""a"")"\r\nRen\xe9,x,y,"bad"\r\n'
    )
    path = tmp_path / "rejects.csv"
    path.write_bytes(out.getvalue())
    got = read_all(path, CsvFormat(delimiter=",", encoding="latin-1"))
    assert got.header == ["a", "b", "c", "reason"]
    assert got.rows == [("Ren\xe9", "x", "y", "bad")]


def test_a_missing_float_stays_empty_when_the_decimal_comma_is_also_the_delimiter() -> None:
    out = io.BytesIO()
    CsvWriter(out, OutputFormat(decimal_separator=",")).write(pl.DataFrame({"id": [1, 2], "f": [1.5, None]}))
    assert out.getvalue() == b'id,f\n1,"1,5"\n2,\n'  # not "" (an empty text to most readers)


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        (OutputFormat(), b'1,""\n2,\n'),
        (OutputFormat(null_value="NULL"), b'1,"NULL"\n2,NULL\n'),
        (OutputFormat(null_value="\\N", quote="'"), b"1,'\\N'\n2,\\N\n"),
        (OutputFormat(quoting="all"), b'"1",""\n"2",\n'),
        (OutputFormat(quoting="all", null_value="NULL"), b'"1","NULL"\n"2",NULL\n'),
        (OutputFormat(null_value="NULL", encoding="latin-1"), b'1,"NULL"\n2,NULL\n'),
    ],
)
def test_a_text_equal_to_the_null_value_is_quoted_and_a_null_is_written_as_the_bare_null_value(
    fmt: OutputFormat, expected: bytes
) -> None:
    frame = pl.DataFrame({"id": [1, 2], "note": [fmt.null_value, None]})
    assert written(fmt.model_copy(update={"header": False}), frame) == expected


def test_quoting_all_writes_every_null_bare_whatever_the_column_type() -> None:
    assert written(OutputFormat(quoting="all"), FRAME.tail(1)) == (
        b'"id","name","amount","day","at"\n"2",,"-2.25",,\n'
    )


def test_a_text_that_looks_like_the_stand_in_for_a_null_is_written_as_it_is() -> None:
    frame = pl.DataFrame({"note": ["\x00impex-null-0\x00", "NULL", None]})
    assert written(OutputFormat(null_value="NULL", header=False), frame) == (
        b'\x00impex-null-0\x00\n"NULL"\nNULL\n'
    )


def test_quoting_none_writes_an_empty_text_as_an_empty_field_and_keeps_the_first_ones_row() -> None:
    out = io.BytesIO()
    writer = CsvWriter(out, OutputFormat(quoting="none", header=False), rows_before=10)
    writer.write(pl.DataFrame({"id": [1, 2, 3], "note": ["x", None, ""]}))
    writer.write(pl.DataFrame({"id": [4], "note": [""]}))
    assert out.getvalue() == b"1,x\n2,\n3,\n4,\n"
    assert writer.first_empty_text == 13


@pytest.mark.parametrize("null_value", ["NULL", "\\N"])
def test_quoting_none_refuses_a_text_equal_to_the_null_value(null_value: str) -> None:
    fmt = OutputFormat(quoting="none", null_value=null_value, header=False)
    writer = CsvWriter(io.BytesIO(), fmt, rows_before=10)
    with pytest.raises(
        FormatError,
        match=(
            rf"^row 12, column note: {re.escape(repr(null_value))} is the null value, which quoting 'none' "
            r"would write as a null \(the file would not read back\): use quoting 'minimal'$"
        ),
    ):
        writer.write(pl.DataFrame({"id": [1, 2], "note": ["x", null_value]}))


@pytest.mark.parametrize(
    ("null_value", "delimiter", "expected"),
    [
        ("0", ",", b'"0","0,5",false,31.01.2024,0\n1,"0,0",true,0,0\n'),
        ("0,0", ";", b'0;0,5;false;31.01.2024;0,0\n1;"0,0";true;0,0;0,0\n'),
        ("false", ",", b'0,"0,5","false",31.01.2024,false\n1,"0,0",true,false,false\n'),
        ("31.01.2024", ",", b'0,"0,5",false,"31.01.2024",31.01.2024\n1,"0,0",true,31.01.2024,31.01.2024\n'),
        ("9" * 23, ",", b'0,"0,5",false,31.01.2024,%b\n1,"0,0",true,%b,%b\n' % ((b"9" * 23,) * 3)),
    ],
    ids=["integer", "float", "boolean", "date", "beyond any integer"],
)
def test_a_number_date_or_boolean_written_as_the_null_value_is_quoted_and_a_null_is_bare(
    null_value: str, delimiter: str, expected: bytes
) -> None:
    day = [date(2024, 1, 31), None]
    frame = pl.DataFrame({"n": [0, 1], "r": [0.5, 0.0], "ok": [False, True], "day": day, "x": [None, None]})
    fmt = OutputFormat(
        null_value=null_value,
        delimiter=delimiter,
        decimal_separator=",",
        date_format="%d.%m.%Y",
        header=False,
    )
    assert written(fmt, frame) == expected


@pytest.mark.parametrize(
    ("null_value", "timestamp_format", "expected"),
    [
        ("2024-01-02T03:04:05", "%Y-%m-%dT%H:%M:%S", b'"2024-01-02T03:04:05",12:00:00.000000000\n'),
        # the default format writes a fraction of a second, when there is one
        ("2024-01-02 03:04:05.600", "%Y-%m-%d %H:%M:%S", b'"2024-01-02 03:04:05.600",12:00:00.000000000\n'),
        ("Jan", "%b", b'"Jan",12:00:00.000000000\n'),
        ("12:00:00.000000000", "%Y", b'2024,"12:00:00.000000000"\n'),
    ],
    ids=["written without its fraction", "the default, with its fraction", "a month's name", "a time"],
)
def test_a_timestamp_or_time_written_as_the_null_value_is_quoted(
    null_value: str, timestamp_format: str, expected: bytes
) -> None:
    frame = pl.DataFrame({"at": [datetime(2024, 1, 2, 3, 4, 5, 600000)], "time": [time(12)]})
    fmt = OutputFormat(null_value=null_value, timestamp_format=timestamp_format, header=False)
    assert written(fmt, frame) == expected


def test_quoting_none_refuses_a_number_written_as_the_null_value() -> None:
    writer = CsvWriter(
        io.BytesIO(), OutputFormat(quoting="none", null_value="0", header=False), rows_before=4
    )
    with pytest.raises(FormatError, match=r"^row 6, column n: '0' is the null value, which quoting 'none'"):
        writer.write(pl.DataFrame({"n": [1, 0], "note": ["x", "y"]}))


@pytest.mark.parametrize("null_value", [",", 'say "hi"', "a\nb"])
def test_a_null_value_holding_the_delimiter_the_quote_or_a_line_break_is_refused(null_value: str) -> None:
    with pytest.raises(ValueError, match=r"null_value .* holds the delimiter, the quote or a line break"):
        OutputFormat(null_value=null_value)
