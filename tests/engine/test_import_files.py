"""Hostile files and every format option, end to end: file → table + reject list, through the engine."""

from __future__ import annotations

import gzip
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import pytest

from impex.domain.status import S
from support import define, rejects, run_job, table_rows, write

PEOPLE = [{"name": "id", "type": "integer", "required": True}, {"name": "name"}]


def load(store, settings, tmp_path: Path, content: str | bytes, name: str = "in.csv", **fields: Any):
    """Write ``content`` and import it; the columns default to (id integer required, name)."""
    source = write(tmp_path / name, content)
    fields.setdefault("columns", PEOPLE)
    return run_job(store, settings, define(source=str(source), **fields))


def counters(store, job_id: int) -> tuple[int, int, int]:
    c = store.runs_of(job_id)[-1].counters
    return c.read, c.inserted, c.rejected


def table_names(data_dir: Path) -> list[str]:
    with sqlite3.connect(data_dir / "data.db") as c:
        rows = c.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_impex%'")
        return [name for (name,) in rows]


def detected(store, job_id: int) -> dict[str, Any]:
    return next(line.params for line in store.journal_lines(job_id) if line.code == "format.detected")


# Hostile files


def test_a_utf8_bom_is_not_part_of_the_first_header_name(store, settings, data_dir, tmp_path):
    status, job_id = load(store, settings, tmp_path, b"\xef\xbb\xbfid,name\n1,Zo\xc3\xab\nx,Bob\n")
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, "Zoë")]
    assert rejects(store, job_id) == [(2, 3, "type_error", b"x,Bob")]
    assert detected(store, job_id)["encoding"] == "utf-8-sig"


def test_crlf_line_endings_stay_out_of_values_and_raw_records(store, settings, data_dir, tmp_path):
    content = "id,name\r\n1,Ann\r\nx,Bob\r\n3,Cy\r\n"
    status, job_id = load(store, settings, tmp_path, content)
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, "Ann"), (3, "Cy")]
    assert rejects(store, job_id) == [(2, 3, "type_error", b"x,Bob")]


def test_a_latin1_file_is_detected_and_its_values_land_decoded(store, settings, data_dir, tmp_path):
    names = ["Zoë Müller", "François Dupré", "José Peña", "Ærøskøbing Ångström", "Renée Çelik"]
    lines = [f"{i},{n}" for i, n in enumerate(names, start=1)]
    content = ("id,name\n" + "\n".join(lines) + "\nx,Søren\n").encode("latin-1")
    status, job_id = load(store, settings, tmp_path, content)
    assert status is S.FINISHED
    assert detected(store, job_id)["encoding"] in ("iso8859-1", "cp1252", "iso8859-15")
    assert table_rows(data_dir) == list(enumerate(names, start=1))
    assert rejects(store, job_id) == [(6, 7, "type_error", "x,Søren".encode("latin-1"))]


def test_invalid_utf8_rejects_only_its_record_and_keeps_its_bytes(store, settings, data_dir, tmp_path):
    content = b"id,name\n1,Zo\xc3\xab\n2,B\xffb \xc3\n3,Ren\xc3\xa9e\n4,Andr\xc3\xa9\n"
    status, job_id = load(store, settings, tmp_path, content)
    assert status is S.FINISHED
    assert detected(store, job_id)["encoding"] == "utf-8"
    assert table_rows(data_dir) == [(1, "Zoë"), (3, "Renée"), (4, "André")]
    assert rejects(store, job_id) == [(2, 3, "bad_encoding", b"2,B\xffb \xc3")]
    reject = store.rejects_of(store.runs_of(job_id)[-1].id)[0]
    assert (reject.column, reject.message) == ("name", "line 3: invalid UTF-8 byte 0xff at column 4")


@pytest.mark.parametrize("at_start", [True, False])
def test_a_stray_nul_byte_rejects_only_its_record_wherever_it_is(
    store, settings, data_dir, tmp_path, at_start
):
    content = b"id,name\n1,Bo\x00b\n2,Eve\n" if at_start else b"id,name\n2,Eve\n1,Bo\x00b\n"
    status, job_id = load(store, settings, tmp_path, content)
    assert status is S.FINISHED
    assert [r[2] for r in rejects(store, job_id)] == ["bad_encoding"]
    assert table_rows(data_dir) == [(2, "Eve")]


def test_a_nul_byte_past_the_sniffed_start_rejects_only_its_record(store, settings, data_dir, tmp_path):
    """A NUL is no text: no database keeps it the same way (PostgreSQL refuses it, SQLite stores a
    string that most tools cut there). Past the sniffed start, it is found chunk by chunk."""
    good = b"".join(b"%d,name %d\n" % (i, i) for i in range(1, 100_001))
    content = b"id,name\n" + good + b"100001,Bo\x00b\n100002,Eve\n"
    assert len(content) - content.index(b"\x00") < len(content) - 1_000_000
    status, job_id = load(store, settings, tmp_path, content)
    assert status is S.FINISHED
    assert counters(store, job_id) == (100_002, 100_001, 1)
    assert rejects(store, job_id) == [(100_001, 100_002, "bad_encoding", b"100001,Bo\x00b")]
    reject = store.rejects_of(store.runs_of(job_id)[-1].id)[0]
    assert (reject.column, reject.value) == ("name", "Bo\\x00b")
    assert reject.message == "line 100002: a NUL byte (0x00) at column 10: not text"
    assert table_rows(data_dir)[-1] == (100_002, "Eve")


def test_ragged_rows_are_rejected_as_wrong_field_count(store, settings, data_dir, tmp_path):
    content = "id,name\n1,Ann\n2\n3,Cy,extra\n4,Dee,,\n5,Eve\n"
    status, job_id = load(store, settings, tmp_path, content)
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, "Ann"), (5, "Eve")]
    assert rejects(store, job_id) == [
        (2, 3, "wrong_field_count", b"2"),
        (3, 4, "wrong_field_count", b"3,Cy,extra"),
        (4, 5, "wrong_field_count", b"4,Dee,,"),
    ]
    messages = [r.message for r in store.rejects_of(store.runs_of(job_id)[-1].id)]
    assert messages == [
        "line 3: expected 2 fields, found 1",
        "line 4: expected 2 fields, found 3",
        "line 5: expected 2 fields, found 4",
    ]


def test_an_unterminated_quote_mid_file_rejects_only_that_record(store, settings, data_dir, tmp_path):
    content = 'id,name\n1,Ann\n2,"Bob\n3,Cy\n4,"Dee"\n'
    status, job_id = load(store, settings, tmp_path, content)
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, "Ann"), (3, "Cy"), (4, "Dee")]
    assert rejects(store, job_id) == [(2, 3, "unterminated_quote", b'2,"Bob')]
    assert counters(store, job_id) == (4, 3, 1)


def test_an_unterminated_quote_in_the_last_record_rejects_only_that_record(
    store, settings, data_dir, tmp_path
):
    content = 'id,name\n1,Ann\n2,Bob\n3,"Cy'
    status, job_id = load(store, settings, tmp_path, content)
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, "Ann"), (2, "Bob")]
    assert rejects(store, job_id) == [(3, 4, "unterminated_quote", b'3,"Cy')]


def test_stray_and_lone_quotes_reject_only_their_record(store, settings, data_dir, tmp_path):
    # A lone quote cannot be told from a quoted field that never closes: its record alone is rejected.
    content = 'id,name\n1,"Ann"x\n2,Bo"b\n3,"Cy"\n4,5"5 pipe"\n'
    status, job_id = load(store, settings, tmp_path, content)
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(3, "Cy"), (4, '5"5 pipe"')]
    assert rejects(store, job_id) == [
        (1, 2, "unterminated_quote", b'1,"Ann"x'),
        (2, 3, "unterminated_quote", b'2,Bo"b'),
    ]
    first, second = store.rejects_of(store.runs_of(job_id)[-1].id)
    assert first.message.startswith("line 2: stray quote: a quoted field must start right after a delimiter")
    assert second.message.startswith("line 3: unterminated quote in field 2")


def test_blank_lines_are_skipped_and_still_counted_as_lines(store, settings, data_dir, tmp_path):
    content = "id,name\n\n1,Ann\n\n\nx,Bob\n\n3,Cy\n\n"
    status, job_id = load(store, settings, tmp_path, content)
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, "Ann"), (3, "Cy")]
    assert rejects(store, job_id) == [(2, 6, "type_error", b"x,Bob")]
    assert counters(store, job_id) == (3, 2, 1)


def test_a_last_record_without_newline_is_loaded_or_rejected_whole(store, settings, data_dir, tmp_path):
    status, job_id = load(store, settings, tmp_path, "id,name\n1,Ann\n2,Bob")
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, "Ann"), (2, "Bob")]
    status, job_id = load(store, settings, tmp_path, "id,name\n3,Cy\nx,Dee", target={"table": "u"})
    assert table_rows(data_dir, "u") == [(3, "Cy")]
    assert rejects(store, job_id) == [(2, 3, "type_error", b"x,Dee")]


@pytest.mark.parametrize("content", [b"", b"\n\r\n\n"], ids=["zero-bytes", "blank-lines"])
@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"columns": [{"name": "id", "type": "integer", "source": 1}], "format": {"header": False}},
        {"columns": []},
    ],
    ids=["named-columns", "positional-columns", "no-columns"],
)
def test_an_empty_file_ends_with_errors_saying_it_is_empty(
    store, settings, data_dir, tmp_path, content, fields
):
    # No header and no record: nothing to check the mapping against nor to name columns after. That is
    # most often a failed or truncated export, so the run says so; a header-only file is "no data".
    status, job_id = load(store, settings, tmp_path, content, **fields)
    assert status is S.FINISHED_WITH_ERRORS
    errors = [line.params["error"] for line in store.journal_lines(job_id) if line.code == "run.error"]
    assert [e.split(": ", 1)[1] for e in errors] == [
        "the file is empty: it has no header line and no record to map the columns to"
    ]
    assert errors[0].startswith(str(tmp_path))  # which file
    assert counters(store, job_id) == (0, 0, 0)
    assert rejects(store, job_id) == []
    assert table_names(data_dir) == []


def test_a_header_only_file_finishes_with_an_empty_table(store, settings, data_dir, tmp_path):
    status, job_id = load(store, settings, tmp_path, "id,name\n")
    assert status is S.FINISHED
    assert counters(store, job_id) == (0, 0, 0)
    assert table_rows(data_dir) == []
    assert rejects(store, job_id) == []


def test_quoted_line_breaks_and_delimiters_shift_the_following_line_numbers(
    store, settings, data_dir, tmp_path
):
    content = 'id,name\n1,"Ann,\nSmith"\nx,Bob\n3,"Cy\n\nJr, ""the"" 3rd"\ny,Dee\n5,Eve\n'
    status, job_id = load(store, settings, tmp_path, content)
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, "Ann,\nSmith"), (3, 'Cy\n\nJr, "the" 3rd'), (5, "Eve")]
    assert rejects(store, job_id) == [(2, 4, "type_error", b"x,Bob"), (4, 8, "type_error", b"y,Dee")]


def test_a_multi_line_record_that_is_rejected_keeps_all_its_lines(store, settings, data_dir, tmp_path):
    content = 'id,name\n1,Ann\nx,"Bob\nBrown"\n3,Cy\n'
    status, job_id = load(store, settings, tmp_path, content)
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, "Ann"), (3, "Cy")]
    assert rejects(store, job_id) == [(2, 3, "type_error", b'x,"Bob\nBrown"')]


@pytest.mark.parametrize("kind", ["gz", "zip"])
def test_compressed_sources_are_read_like_plain_ones(store, settings, data_dir, tmp_path, kind):
    content = b'id,name\n1,Ann\nx,Bob\n3,"Cy\nJr"\n4\n5,Eve\n'
    path = tmp_path / f"in.csv.{kind}"
    if kind == "gz":
        path.write_bytes(gzip.compress(content))
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("people.csv", content)
    status, job_id = run_job(store, settings, define(source=str(path), columns=PEOPLE))
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, "Ann"), (3, "Cy\nJr"), (5, "Eve")]
    assert rejects(store, job_id) == [(2, 3, "type_error", b"x,Bob"), (4, 6, "wrong_field_count", b"4")]


def test_small_chunks_give_the_same_table_and_rejects_as_one_chunk(store, settings, data_dir, tmp_path):
    content = 'id,name\n\n1,"A\nB"\nx,Bob\n3,"Cy\n4\n\n5,Eve\n6,Fay\n'
    for table, chunk_rows in (("one", 1000), ("many", 1)):
        _, job_id = load(store, settings, tmp_path, content, target={"table": table}, chunk_rows=chunk_rows)
        assert rejects(store, job_id) == [
            (2, 5, "type_error", b"x,Bob"),
            (3, 6, "unterminated_quote", b'3,"Cy'),
            (4, 7, "wrong_field_count", b"4"),
        ]
        assert table_rows(data_dir, table) == [(1, "A\nB"), (5, "Eve"), (6, "Fay")]


# Every format option


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
@pytest.mark.parametrize("given", [True, False], ids=["given", "detected"])
def test_delimiters_given_or_detected(store, settings, data_dir, tmp_path, delimiter, given):
    content = f"id{delimiter}name\n1{delimiter}Ann, A.\n2{delimiter}Bob\nx{delimiter}Cy\n3\n"
    fmt = {"delimiter": delimiter} if given else {}
    status, job_id = load(store, settings, tmp_path, content, format=fmt)
    assert status is S.FINISHED
    assert detected(store, job_id)["delimiter"] == delimiter
    assert table_rows(data_dir) == [(1, "Ann, A."), (2, "Bob")]
    assert rejects(store, job_id) == [
        (3, 4, "type_error", f"x{delimiter}Cy".encode()),
        (4, 5, "wrong_field_count", b"3"),
    ]


def test_another_quote_character(store, settings, data_dir, tmp_path):
    content = "id,name\n1,'Ann, \"A\"'\n2,'it''s'\n3,'open\n"
    status, job_id = load(store, settings, tmp_path, content, format={"quote": "'", "delimiter": ","})
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, 'Ann, "A"'), (2, "it's")]
    assert rejects(store, job_id) == [(3, 4, "unterminated_quote", b"3,'open")]


def test_an_escape_character_inside_quoted_fields(store, settings, data_dir, tmp_path):
    content = 'id,name\n1,"say \\"hi\\", Ann"\n2,"back\\\\slash"\n3,Cy\n'
    status, job_id = load(store, settings, tmp_path, content, format={"escape": "\\"})
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, 'say "hi", Ann'), (2, "back\\slash"), (3, "Cy")]
    assert rejects(store, job_id) == []


def test_a_given_encoding_is_used_without_detection(store, settings, data_dir, tmp_path):
    content = "id,name\n1,€uro\n2,naïve\n".encode("cp1252")
    status, job_id = load(store, settings, tmp_path, content, format={"encoding": "cp1252"})
    assert status is S.FINISHED
    assert detected(store, job_id)["encoding"] == "cp1252"
    assert table_rows(data_dir) == [(1, "€uro"), (2, "naïve")]


def test_a_given_utf8_encoding_rejects_latin1_bytes_as_bad_encoding(store, settings, data_dir, tmp_path):
    content = "id,name\n1,Ann\n2,Zoë\n3,Cy\n".encode("latin-1")
    status, job_id = load(store, settings, tmp_path, content, format={"encoding": "utf-8"})
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, "Ann"), (3, "Cy")]
    assert rejects(store, job_id) == [(2, 3, "bad_encoding", b"2,Zo\xeb")]


def test_a_cp1252_record_past_an_ascii_start_read_as_utf8_is_rejected_saying_how_cp1252_reads_it(
    store, settings, data_dir, tmp_path
):
    # detection reads the first megabyte: all ASCII, it says UTF-8; the one name with an umlaut comes later
    good = b"".join(b"%d,Name %d\n" % (i, i) for i in range(1, 100_001))
    content = b"id,name\n" + good + "100001,Jürgen Müller\n100002,Bo\n".encode("cp1252")
    assert content.index(b"\xfc") > 1_000_000
    status, job_id = load(store, settings, tmp_path, content)
    assert status is S.FINISHED and detected(store, job_id)["encoding"] == "utf-8"
    reject = store.rejects_of(store.runs_of(job_id)[-1].id)[0]
    assert (reject.reason, reject.column, reject.raw) == (
        "bad_encoding",
        "name",
        "100001,Jürgen Müller".encode("cp1252"),
    )
    assert reject.message == (
        "line 100002: invalid UTF-8 byte 0xfc at column 9; in cp1252 the field reads 'Jürgen Müller': "
        "if the file is in cp1252, give that encoding"
    )
    # a byte no Western text holds keeps the plain message
    content = "id,name\n1,Ann\n2,Zoë\n".encode() + b"3,B\x81b\n"
    status, job_id = load(store, settings, tmp_path, content, format={"encoding": "utf-8"})
    assert store.rejects_of(store.runs_of(job_id)[-1].id)[0].message == (
        "line 4: invalid UTF-8 byte 0x81 at column 4"
    )


def test_without_header_columns_map_by_position_from_line_one(store, settings, data_dir, tmp_path):
    columns = [
        {"name": "name", "source": 2},
        {"name": "id", "type": "integer", "source": 1},
    ]
    content = "1,Ann\nx,Bob\n3,Cy\n"
    status, job_id = load(store, settings, tmp_path, content, columns=columns, format={"header": False})
    assert status is S.FINISHED
    assert table_rows(data_dir, order="id") == [("Ann", 1), ("Cy", 3)]
    assert rejects(store, job_id) == [(2, 2, "type_error", b"x,Bob")]


def test_skip_lines_skips_a_preamble_and_line_numbers_count_it(store, settings, data_dir, tmp_path):
    content = "Export of 2024-01-01\nsystem: crm; rows, many\nid,name\n1,Ann\nx,Bob\n"
    status, job_id = load(store, settings, tmp_path, content, format={"skip_lines": 2, "delimiter": ","})
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, "Ann")]
    assert rejects(store, job_id) == [(2, 5, "type_error", b"x,Bob")]


def test_without_multiline_a_line_break_in_quotes_ends_the_record(store, settings, data_dir, tmp_path):
    content = 'id,name\n1,"Ann\n2,Bob"\n3,Cy\n'
    status, job_id = load(store, settings, tmp_path, content, format={"multiline": False})
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(3, "Cy")]
    assert rejects(store, job_id) == [
        (1, 2, "unterminated_quote", b'1,"Ann'),
        (2, 3, "unterminated_quote", b'2,Bob"'),
    ]


def test_null_markers_become_null(store, settings, data_dir, tmp_path):
    columns = [*PEOPLE, {"name": "age", "type": "integer"}]
    content = 'id,name,age\n1,NULL,\\N\n2,\\N,NULL\n3,"",7\n4,null,8\n'
    fmt = {"null_values": ["NULL", "\\N"]}
    status, job_id = load(store, settings, tmp_path, content, columns=columns, format=fmt)
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, None, None), (2, None, None), (3, "", 7), (4, "null", 8)]
    assert rejects(store, job_id) == []


QUOTED_MARKERS = (
    "id;name;age;note\n"
    "1;NULL;NULL;0\n"
    '2;"NULL";"0";" NULL "\n'  # quoted: the text NULL, the number 0, the text NULL (trimmed)
    '3;"a;NULL";"NULL";"0"\n'  # NULL is no integer
    "4;0;0;\n"
    '5;"multi\nline";"";""\n'  # an empty quoted field: no integer, a null there as a bare one
)


def test_a_quoted_null_marker_is_that_text_or_value_and_a_bare_one_is_null(
    store, settings, data_dir, tmp_path
):
    columns = [*PEOPLE, {"name": "age", "type": "integer"}, {"name": "note"}]
    fmt = {"null_values": ["", "NULL", "0"]}
    status, job_id = load(
        store, settings, tmp_path, QUOTED_MARKERS, columns=columns, format=fmt, chunk_rows=2
    )
    assert status is S.FINISHED
    assert table_rows(data_dir) == [
        (1, None, None, None),
        (2, "NULL", 0, "NULL"),
        (4, None, None, None),
        (5, "multi\nline", None, ""),
    ]
    run_id = store.runs_of(job_id)[-1].id
    assert [(r.record_no, r.column, r.message) for r in store.rejects_of(run_id)] == [
        (3, "age", "line 4: column age: 'NULL' is not an integer")
    ]


def test_with_quoted_nulls_a_quoted_null_marker_is_null_too(store, settings, data_dir, tmp_path):
    columns = [*PEOPLE, {"name": "age", "type": "integer"}, {"name": "note"}]
    fmt = {"null_values": ["", "NULL", "0"], "quoted_nulls": True}
    status, job_id = load(
        store, settings, tmp_path, QUOTED_MARKERS, columns=columns, format=fmt, chunk_rows=2
    )
    assert status is S.FINISHED
    assert table_rows(data_dir) == [
        (1, None, None, None),
        (2, None, None, None),
        (3, "a;NULL", None, None),
        (4, None, None, None),
        (5, "multi\nline", None, None),
    ]
    assert rejects(store, job_id) == []


def test_decimal_comma_and_thousands_separator(store, settings, data_dir, tmp_path):
    columns = [
        {"name": "id", "type": "integer"},
        {"name": "amount", "type": "decimal", "precision": 10, "scale": 2},
        {"name": "rate", "type": "float"},
        {"name": "count", "type": "integer"},
    ]
    content = (
        "id;amount;rate;count\n"
        "1;1.234,5;0,25;1.000\n"
        "2;-7,05;3;-1.234.567\n"
        "3;1.5;1;1\n"  # a point is no decimal separator here, and groups thousands by three
        "4;1;1;12.34\n"
        "5;1,5.0;1;1\n"
    )
    fmt = {"delimiter": ";", "decimal_separator": ",", "thousands_separator": "."}
    status, job_id = load(store, settings, tmp_path, content, columns=columns, format=fmt)
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, "1234.50", 0.25, 1000), (2, "-7.05", 3.0, -1234567)]
    assert rejects(store, job_id) == [
        (3, 4, "type_error", b"3;1.5;1;1"),
        (4, 5, "type_error", b"4;1;1;12.34"),
        (5, 6, "type_error", b"5;1,5.0;1;1"),
    ]
    messages = [r.message for r in store.rejects_of(store.runs_of(job_id)[-1].id)]
    assert messages[1] == "line 5: column count: '12.34' is not an integer"


def test_date_and_timestamp_formats(store, settings, data_dir, tmp_path):
    columns = [
        {"name": "id", "type": "integer"},
        {"name": "born", "type": "date"},
        {"name": "seen", "type": "timestamp"},
    ]
    content = "id,born,seen\n1,31/12/1999,01.02.2024 13:45\n2,1999-12-31,01.02.2024 13:45\n3,29/02/2023,x\n"
    fmt = {"date_format": "%d/%m/%Y", "timestamp_format": "%d.%m.%Y %H:%M"}
    status, job_id = load(store, settings, tmp_path, content, columns=columns, format=fmt)
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, "1999-12-31", "2024-02-01 13:45:00")]
    assert rejects(store, job_id) == [
        (2, 3, "type_error", b"2,1999-12-31,01.02.2024 13:45"),
        (3, 4, "type_error", b"3,29/02/2023,x"),
    ]


@pytest.mark.parametrize(
    ("thousands", "decimal", "amounts"),
    [
        ("'", ".", ["1'234.50", "-1'234'567", "12.5"]),  # Swiss
        ("\u2019", ".", ["1\u2019234.50", "-1\u2019234\u2019567", "12.5"]),  # Swiss, typographic
        ("\u00a0", ",", ["1\u00a0234,50", "-1\u00a0234\u00a0567", "12,5"]),  # a no-break space
        ("\u202f", ",", ["1\u202f234,50", "-1\u202f234\u202f567", "12,5"]),  # French, narrow
    ],
)
def test_thousands_grouped_by_an_apostrophe_or_a_no_break_space_are_read(
    store, settings, data_dir, tmp_path, thousands, decimal, amounts
):
    columns = [{"name": "id", "type": "integer"}, {"name": "amount", "type": "float"}]
    content = "id;amount\n" + "".join(f"{i};{a}\n" for i, a in enumerate(amounts, 1)) + "4;1'2\n"
    fmt = {"delimiter": ";", "decimal_separator": decimal, "thousands_separator": thousands}
    status, job_id = load(store, settings, tmp_path, content, columns=columns, format=fmt)
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, 1234.5), (2, -1234567.0), (3, 12.5)]
    assert [r[:3] for r in rejects(store, job_id)] == [(4, 5, "type_error")]


def test_timestamps_with_a_utc_offset_are_stored_in_utc(store, settings, data_dir, tmp_path):
    columns = [{"name": "id", "type": "integer"}, {"name": "at", "type": "timestamp"}]
    content = (
        "id,at\n1,2024-01-05T10:30:00Z\n2,2024-01-05T10:30:00.25+02:00\n3,2024-01-05T23:30:00-0130\n"
        "4,2024-01-05T10:30:00+02\n5,2024-01-05T10:30:00\n"
    )
    fmt = {"timestamp_format": "%Y-%m-%dT%H:%M:%S%.f%z"}
    status, job_id = load(store, settings, tmp_path, content, columns=columns, format=fmt)
    assert status is S.FINISHED
    assert table_rows(data_dir) == [
        (1, "2024-01-05 10:30:00"),
        (2, "2024-01-05 08:30:00.250"),
        (3, "2024-01-06 01:00:00"),
        (4, "2024-01-05 08:30:00"),
    ]
    assert rejects(store, job_id) == [(5, 6, "type_error", b"5,2024-01-05T10:30:00")]  # which moment?


def test_boolean_words(store, settings, data_dir, tmp_path):
    columns = [{"name": "id", "type": "integer"}, {"name": "ok", "type": "boolean"}]
    content = "id,ok\n1,Ja\n2,nein\n3,JA\n4,true\n5,\n"
    fmt = {"true_values": ["ja"], "false_values": ["nein"]}
    status, job_id = load(store, settings, tmp_path, content, columns=columns, format=fmt)
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, 1), (2, 0), (3, 1), (5, None)]
    assert rejects(store, job_id) == [(4, 5, "type_error", b"4,true")]


def test_trim_on_strips_fields_and_trim_off_keeps_them(store, settings, data_dir, tmp_path):
    content = 'id,name\n 1 ,  Ann \n2,"  Bob"\n'
    load(store, settings, tmp_path, content)
    assert table_rows(data_dir) == [(1, "Ann"), (2, "Bob")]
    _, job_id = load(store, settings, tmp_path, content, format={"trim": False}, target={"table": "u"})
    assert table_rows(data_dir, "u") == [(2, "  Bob")]
    assert rejects(store, job_id) == [(1, 2, "type_error", b" 1 ,  Ann ")]


def test_a_view_as_the_target_is_refused_before_a_row_is_read(store, settings, data_dir, tmp_path):
    data_dir.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(data_dir / "data.db") as c:
        c.execute("CREATE VIEW people AS SELECT 1 AS id, 'x' AS name")
    status, job_id = load(store, settings, tmp_path, "id,name\n1,Ann\n", target={"table": "people"})
    assert status is S.FINISHED_WITH_ERRORS
    errors = [line.params["error"] for line in store.journal_lines(job_id) if line.code == "run.error"]
    assert errors == ["people is a view, not a table: impex loads tables"]


def test_a_stray_quote_in_a_multi_line_record_rejects_the_whole_record_once(
    store, settings, data_dir, tmp_path
):
    """The quotes of line 2 pair up ("Ann" then "a..."), so the record goes on to line 3 to close its
    quoted note: a stray quote on its first line is no quote left open. The user expects that one
    record rejected with both its lines, not a bogus record made of the note's last line."""
    content = 'id,name,note\n1,"Ann"x,"a\na"\n2,Bob,b\n'
    columns = [*PEOPLE, {"name": "note"}]
    status, job_id = load(store, settings, tmp_path, content, columns=columns, format={"delimiter": ","})
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(2, "Bob", "b")]
    assert rejects(store, job_id) == [(1, 2, "unterminated_quote", b'1,"Ann"x,"a\na"')]
    assert counters(store, job_id) == (2, 1, 1)


def test_a_detected_delimiter_is_found_below_the_lines_skip_lines_skips(store, settings, data_dir, tmp_path):
    """A preamble without the delimiter is not data: the lines skip_lines skips must not outvote the
    header and the records when the delimiter is detected."""
    content = "Export of 2024-01-05\nsystem: crm\nrows: 2\nid;name\n1;Ann\nx;Bob\n"
    status, job_id = load(store, settings, tmp_path, content, format={"skip_lines": 3})
    assert status is S.FINISHED
    assert detected(store, job_id)["delimiter"] == ";"
    assert table_rows(data_dir) == [(1, "Ann")]
    assert rejects(store, job_id) == [(2, 6, "type_error", b"x;Bob")]


def test_a_quote_left_open_does_not_throw_off_delimiter_detection(store, settings, data_dir, tmp_path):
    """Detection splits the records as the import does: the quote left open on line 3 is that line's
    alone, and the lines of the quoted note below it do not read as records of one field each."""
    content = 'id;name;note\n1;Ann;a\n2;"Open\n3;Bob;"x\ny\nz\nw\nu\nv"\n4;Cy;c\n'
    columns = [*PEOPLE, {"name": "note"}]
    status, job_id = load(store, settings, tmp_path, content, columns=columns)
    assert status is S.FINISHED
    assert detected(store, job_id)["delimiter"] == ";"
    assert table_rows(data_dir) == [(1, "Ann", "a"), (3, "Bob", "x\ny\nz\nw\nu\nv"), (4, "Cy", "c")]
    assert rejects(store, job_id) == [(2, 3, "unterminated_quote", b'2;"Open')]
