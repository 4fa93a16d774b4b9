"""A run's rejects exported in the source's format read back record by record: each keeps its reason
in a last field of its own, even one whose quote the source never closed, and the export imports
again as the source did. Real files and a real store, through the engine."""

from __future__ import annotations

import codecs
import csv
from pathlib import Path
from typing import Any

from impex.domain.status import S
from impex.engine.reject_export import export_rejects
from support import define, run_job, table_rows, write

COLUMNS = [
    {"name": "id", "type": "integer", "required": True},
    {"name": "name"},
    {"name": "email"},
    {"name": "age", "type": "integer"},
]
SOURCE = (
    "id,name,email,age\n"
    "1,Ann,a@x.org,30\n"
    "2,Bob,b@x.org,x\n"
    '7,"Smith,smith@x.org,40\n'  # the name's quote is never closed
    "8,Cy,c@x.org,y\n"
    '9,5" pipe,p@x.org,50\n'  # a quote inside a field, never closed either
    '10,Eve,"e@x\r\norg",z\r\n'  # a multi-line record with CRLF endings
    "11,Al,al@x.org,w\r\n"
)
ADDED = "; the export added a closing quote at the end of this record so that the file reads"


def import_and_export(store, settings, tmp_path: Path, source: str, **fields: Any) -> tuple[int, Path]:
    fields.setdefault("columns", COLUMNS)
    definition = define(source=str(write(tmp_path / "in.csv", source)), **fields)
    _, job_id = run_job(store, settings, definition)
    out = tmp_path / "fix.csv"
    export_rejects(store, store.job(job_id), store.runs_of(job_id)[-1].id, out)
    return job_id, out


def read_back(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_an_unterminated_quote_is_closed_at_its_records_end_and_the_records_after_it_read_back(
    store, settings, tmp_path
):
    _, out = import_and_export(store, settings, tmp_path, SOURCE)
    rows = read_back(out)
    assert rows[0] == ["id", "name", "email", "age", "reason"]
    assert [row[:-1] for row in rows[1:]] == [
        ["2", "Bob", "b@x.org", "x"],
        ["7", "Smith,smith@x.org,40"],
        ["8", "Cy", "c@x.org", "y"],
        ["9", '5" pipe', "p@x.org", '50"'],
        ["10", "Eve", "e@x\r\norg", "z"],
        ["11", "Al", "al@x.org", "w"],
    ]
    reasons = [row[-1] for row in rows[1:]]
    assert [reason.split(":")[0] for reason in reasons] == [
        "type_error",
        "unterminated_quote",
        "type_error",
        "unterminated_quote",
        "type_error",
        "type_error",
    ]
    assert [ADDED in reason for reason in reasons] == [False, True, False, True, False, False]
    lines = out.read_bytes().split(b"\n")
    assert lines[2].startswith(b'7,"Smith,smith@x.org,40","unterminated_quote: line 4: ')
    assert lines[2].endswith(b'so that the file reads: remove it when you fix the record"')


def test_the_export_imports_again_as_the_source_did_and_the_closed_record_until_fixed_is_rejected(
    store, settings, tmp_path
):
    job_id, out = import_and_export(store, settings, tmp_path, SOURCE)
    _, again = run_job(store, settings, define(source=str(out), columns=COLUMNS))

    def found(job: int) -> list[tuple[str, str | None, str | None]]:
        run_id = store.runs_of(job)[-1].id
        return [(r.reason, r.column, r.value) for r in store.rejects_of(run_id, limit=100)]

    first, second = found(job_id), found(again)
    assert [first[i] for i in (0, 2, 4, 5)] == [second[i] for i in (0, 2, 4, 5)]
    assert [reason for reason, _, _ in second] == [
        "type_error",
        "wrong_field_count",  # its 3 fields (id, the name up to the added quote, reason): to be fixed
        "type_error",
        "wrong_field_count",
        "type_error",
        "type_error",
    ]


def test_a_record_that_ends_on_an_escape_gets_one_more_quote_as_the_escape_takes_the_first(
    store, settings, tmp_path
):
    source = 'id,name\n1,"a\\"b"\n3,"abc\\\n4,x\n'
    columns = [{"name": "id", "type": "integer"}, {"name": "name"}]
    _, out = import_and_export(store, settings, tmp_path, source, columns=columns, format={"escape": "\\"})
    assert out.read_bytes().split(b"\n")[1].startswith(b'3,"abc\\"","unterminated_quote: line 3: ')
    _, again = run_job(store, settings, define(source=str(out), columns=columns, format={"escape": "\\"}))
    # its three fields (id, name, reason) read as the header's: the reason did not join the name
    assert store.rejects_of(store.runs_of(again)[-1].id) == []


def test_a_fixed_rejects_file_imports_a_quoted_null_marker_as_the_text_and_a_bare_one_as_null(
    store, settings, data_dir, tmp_path
):
    source = 'id,name,email,age\n1,"NULL",NULL,x\n2,NULL,"NULL",5\n'
    fmt = {"null_values": ["NULL"]}
    _, out = import_and_export(store, settings, tmp_path, source, format=fmt)
    assert out.read_bytes().startswith(b'id,name,email,age,reason\n1,"NULL",NULL,x,"type_error: ')
    fixed = write(tmp_path / "fixed.csv", out.read_bytes().replace(b",x,", b",7,"))
    status, again = run_job(store, settings, define(source=str(fixed), columns=COLUMNS, format=fmt))
    assert status is S.FINISHED and store.rejects_of(store.runs_of(again)[-1].id) == []
    assert table_rows(data_dir) == [(1, "NULL", None, 7), (2, None, "NULL", 5)]


EXCEL_COLUMNS = [{"name": "id", "type": "integer"}, {"name": "name"}, {"name": "betrag", "type": "float"}]
EXCEL_FORMAT = {"delimiter": ";", "decimal_separator": ","}


def test_rejects_of_an_excel_utf8_file_keep_its_byte_order_mark_its_crlf_and_their_bytes(
    store, settings, data_dir, tmp_path
):
    # Excel's "CSV UTF-8": a byte order mark, ';', CRLF, a quoted field holding a line break
    source = (
        codecs.BOM_UTF8
        + 'id;name;betrag\r\n1;Jürgen;1,5\r\n2a;Müller;2,5\r\n3;"Weiß\r\nStraße";x\r\n'.encode()
        + b"4;K\xfcln;3,5\r\n"  # a cp1252 byte: bad_encoding
    )
    _, out = import_and_export(store, settings, tmp_path, source, columns=EXCEL_COLUMNS, format=EXCEL_FORMAT)
    data = out.read_bytes()
    # without the mark Excel opens the file as cp1252 and shows 'MÃ¼ller' to the user who fixes it
    assert data.startswith(codecs.BOM_UTF8 + b"id;name;betrag;reason\r\n")
    lines = data[len(codecs.BOM_UTF8) :].split(b"\r\n")
    assert b"\n" not in b"".join(lines)  # every line ends as the source's lines do
    assert lines[1].startswith("2a;Müller;2,5;\"type_error: line 3: column id: '2a'".encode())
    assert lines[2] == '3;"Weiß'.encode() and lines[3].startswith('Straße";x;"type_error: '.encode())
    assert lines[4].startswith(b'4;K\xfcln;3,5;"bad_encoding: ')
    fixed = data.replace(b"2a;", b"2;").replace(b";x;", b";4,5;").replace(b"K\xfcln", "Köln".encode())
    fixed_file = write(tmp_path / "fixed.csv", fixed)
    definition = define(source=str(fixed_file), columns=EXCEL_COLUMNS, format=EXCEL_FORMAT)
    status, again = run_job(store, settings, definition)
    assert status is S.FINISHED and store.rejects_of(store.runs_of(again)[-1].id) == []
    assert sorted(table_rows(data_dir)) == [
        (1, "Jürgen", 1.5),
        (2, "Müller", 2.5),
        (3, "Weiß\r\nStraße", 4.5),
        (4, "Köln", 3.5),
    ]


def test_rejects_of_a_windows_latin1_file_are_its_own_lines_byte_for_byte_with_a_reason_field(
    store, settings, tmp_path
):
    lines = [b"sep=;", b"id;name;betrag;", b"1;J\xfcrgen;1,5;", b"2a;M\xfcller;2,5;", b"3;\xd6l\x00;3,5;"]
    source = b"\r\n".join(lines) + b"\r\n"
    _, out = import_and_export(store, settings, tmp_path, source, columns=EXCEL_COLUMNS, format=EXCEL_FORMAT)
    written = out.read_bytes().split(b"\r\n")
    assert written[:2] == [b"sep=;", b'id;name;betrag;"";reason']
    assert written[2].startswith(lines[3] + b';"type_error: ')
    assert written[3].startswith(lines[4] + b';"bad_encoding: ')
    assert written[4:] == [b""]


def test_rejects_export_to_a_name_as_long_as_the_file_system_takes_and_leave_nothing_else(
    store, settings, tmp_path
):
    """Its temporary file was the name plus '.part' and a dot: past 255 bytes, the export failed."""
    _, job_id = run_job(
        store, settings, define(source=str(write(tmp_path / "in.csv", SOURCE)), columns=COLUMNS)
    )
    out = tmp_path / "out" / ("é" * 125 + ".csv")  # 254 bytes in UTF-8
    out.parent.mkdir()
    assert export_rejects(store, store.job(job_id), store.runs_of(job_id)[-1].id, out) == 6
    assert [p.name for p in out.parent.iterdir()] == [out.name]
    assert out.read_text().startswith("id,name,email,age,reason\n")
