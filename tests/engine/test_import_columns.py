"""Column mapping, types and every reject reason, end to end: what lands in SQLite and what is rejected."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from impex.domain.status import S
from support import codes, define, rejects, run_job, table_rows, write


def load(store, settings, tmp_path: Path, content: str | bytes, columns: list[dict[str, Any]], **fields: Any):
    source = write(tmp_path / "in.csv", content)
    return run_job(store, settings, define(source=str(source), columns=columns, **fields))


def reject_details(store, job_id: int) -> list[tuple[int, str, str | None, str | None, str]]:
    """(record_no, reason, column, value, message) of each reject of the job's last run."""
    run = store.runs_of(job_id)[-1]
    return [(r.record_no, r.reason, r.column, r.value, r.message) for r in store.rejects_of(run.id)]


def declared_types(data_dir: Path, table: str = "t") -> dict[str, str]:
    with sqlite3.connect(data_dir / "data.db") as c:
        return {row[1]: row[2] for row in c.execute(f"PRAGMA table_info({table})")}


def sql(data_dir: Path, statement: str) -> None:
    with sqlite3.connect(data_dir / "data.db") as c:
        c.executescript(statement)


# Mapping


def test_columns_map_by_header_name_whatever_their_order_and_case(store, settings, data_dir, tmp_path):
    columns = [
        {"name": "id", "type": "integer", "source": "ID"},
        {"name": "email", "source": "E-Mail"},
        {"name": "name"},
    ]
    content = "Name,E-Mail,ID,unused\nAnn,ann@x.org,1,z\nBob,bob@x.org,2,z\n"
    status, _ = load(store, settings, tmp_path, content, columns)
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, "ann@x.org", "Ann"), (2, "bob@x.org", "Bob")]


def test_columns_map_by_position_even_with_a_header(store, settings, data_dir, tmp_path):
    columns = [{"name": "id", "type": "integer", "source": 3}, {"name": "name", "source": 1}]
    status, _ = load(store, settings, tmp_path, "a,b,c\nAnn,x,1\nBob,y,2\n", columns)
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, "Ann"), (2, "Bob")]


def test_without_declared_columns_every_header_field_lands_as_text(store, settings, data_dir, tmp_path):
    source = write(tmp_path / "in.csv", "Id,Prénom Nom,id\n1,Ann,01\n")
    status, _ = run_job(store, settings, define(source=str(source)))
    assert status is S.FINISHED
    assert declared_types(data_dir) == {"id": "TEXT", "prenom_nom": "TEXT", "id_2": "TEXT"}
    assert table_rows(data_dir) == [("1", "Ann", "01")]


def test_constants_fill_every_row_in_their_type(store, settings, data_dir, tmp_path):
    columns = [
        {"name": "id", "type": "integer"},
        {"name": "origin", "constant": "crm"},
        {"name": "batch", "type": "integer", "constant": 7},
        {"name": "day", "type": "date", "constant": "2024-01-31"},
        {"name": "vip", "type": "boolean", "constant": "yes"},
    ]
    status, _ = load(store, settings, tmp_path, "id\n1\n2\n", columns)
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, "crm", 7, "2024-01-31", 1), (2, "crm", 7, "2024-01-31", 1)]


def test_a_column_reads_its_dates_with_its_own_format_where_it_has_one(store, settings, data_dir, tmp_path):
    columns = [
        {"name": "id", "type": "integer"},
        {"name": "born", "type": "date", "date_format": "%d.%m.%Y", "default": "01.01.1900"},
        {"name": "due", "type": "date"},  # the format's: ISO
        {"name": "seen", "type": "timestamp", "timestamp_format": "%Y-%m-%dT%H:%M:%S%:z"},
        {"name": "sent", "type": "timestamp"},
    ]
    content = (
        "id,born,due,seen,sent\n"
        "1,05.01.1980,2024-02-29,2024-01-05T10:30:00+02:00,2024-01-05 10:30:00\n"
        "2,,2024-03-01,2024-07-05T05:30:00+00:00,2024-07-05 05:30:00\n"
        "3,1980-01-05,2024-03-02,2024-01-05T10:30:00+02:00,2024-01-05 10:30:00\n"
    )
    status, job_id = load(store, settings, tmp_path, content, columns)
    assert status is S.FINISHED
    assert table_rows(data_dir) == [
        (1, "1980-01-05", "2024-02-29", "2024-01-05 08:30:00", "2024-01-05 10:30:00"),
        (2, "1900-01-01", "2024-03-01", "2024-07-05 05:30:00", "2024-07-05 05:30:00"),
    ]
    assert reject_details(store, job_id) == [
        (
            3,
            "type_error",
            "born",
            "1980-01-05",
            "line 4: column born: '1980-01-05' is not a date in format %d.%m.%Y",
        )
    ]


def test_a_column_format_for_another_type_or_that_reads_nothing_is_refused_when_defined():
    from impex.definitions_io import DefinitionError, parse_definition

    for column, said in [
        (
            {"name": "c", "date_format": "%d.%m.%Y"},
            "columns[0].date_format: only a date column has a date_format; this one is string",
        ),
        (
            {"name": "c", "type": "date", "timestamp_format": "%d.%m.%Y %H:%M"},
            "columns[0].timestamp_format: only a timestamp column has a timestamp_format; this one is date",
        ),
        (
            {"name": "c", "type": "date", "date_format": "DD.MM.YYYY"},
            "columns[0].date_format: 'DD.MM.YYYY' has no directive, so it would read no value: a format is "
            "written with strftime directives (%d.%m.%Y reads 31.12.2024); write '%d.%m.%Y' for 'DD.MM.YYYY'",
        ),
        (
            {"name": "c", "type": "date", "date_format": "%d.%m.%Y", "default": "2024-01-31"},
            "columns[0].default: the default '2024-01-31' does not fit type date: "
            "'2024-01-31' is not a date in format %d.%m.%Y",
        ),
    ]:
        with pytest.raises(DefinitionError) as refused:
            parse_definition(define(source="in.csv") | {"columns": [column]})
        assert str(refused.value) == f"definition: {said}"


def test_defaults_replace_empty_and_null_fields_only(store, settings, data_dir, tmp_path):
    columns = [
        {"name": "id", "type": "integer"},
        {"name": "country", "default": "FR"},
        {"name": "qty", "type": "integer", "default": 1},
        {"name": "due", "type": "date", "default": "2024-12-31"},
    ]
    content = 'id,country,qty,due\n1,,,\n2,DE,5,2024-01-02\n3, ,NULL,\n4,"",0,""\n'
    fmt = {"null_values": ["", "NULL"]}
    status, job_id = load(store, settings, tmp_path, content, columns, format=fmt)
    assert status is S.FINISHED
    assert table_rows(data_dir) == [
        (1, "FR", 1, "2024-12-31"),
        (2, "DE", 5, "2024-01-02"),
        (3, "FR", 1, "2024-12-31"),
        (4, "", 0, "2024-12-31"),  # "" is an empty text; a date is never one: null there, as a bare field
    ]
    assert rejects(store, job_id) == []


@pytest.mark.parametrize("quoted_nulls", [False, True])
def test_a_quoted_empty_or_blank_field_is_an_empty_text_unless_quoted_nulls_makes_it_null(
    store, settings, data_dir, tmp_path, quoted_nulls
):
    columns = [{"name": "id", "type": "integer"}, {"name": "note", "default": "none"}]
    content = 'id,note\n1,""\n2," "\n3,\n4, \n'
    fmt = {"quoted_nulls": quoted_nulls}
    assert load(store, settings, tmp_path, content, columns, format=fmt)[0] is S.FINISHED
    quoted = "none" if quoted_nulls else ""
    assert table_rows(data_dir) == [(1, quoted), (2, quoted), (3, "none"), (4, "none")]


def test_transforms_then_remap(store, settings, data_dir, tmp_path):
    columns = [
        {"name": "id", "type": "integer"},
        {"name": "a", "transforms": ["lower"]},
        {"name": "b", "transforms": ["upper"]},
        {"name": "c", "transforms": ["capitalize"]},
        {"name": "d", "transforms": ["trim", "lower"], "remap": {"de": "Germany", "fr": "France"}},
    ]
    content = 'id,a,b,c,d\n1,ÄbC,straße,éLODIE mARTIN,"  DE "\n2,x,y,z, It\n'
    status, _ = load(store, settings, tmp_path, content, columns, format={"trim": False})
    assert status is S.FINISHED
    assert table_rows(data_dir) == [
        (1, "äbc", "STRASSE", "Élodie martin", "Germany"),
        (2, "x", "Y", "Z", "it"),
    ]


def test_a_remap_can_turn_source_codes_into_typed_values(store, settings, data_dir, tmp_path):
    columns = [{"name": "id", "type": "integer"}, {"name": "active", "type": "boolean", "remap": {"A": "1"}}]
    status, job_id = load(store, settings, tmp_path, "id,active\n1,A\n2,0\n3,B\n", columns)
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, 1), (2, 0)]
    assert rejects(store, job_id) == [(3, 4, "type_error", b"3,B")]


EMPTY_CODE = "column code: a value is required (the field was empty)"


def test_required_and_max_length(store, settings, data_dir, tmp_path):
    columns = [{"name": "id", "type": "integer"}, {"name": "code", "required": True, "max_length": 3}]
    content = 'id,code\n1,abc\n2,Zoë\n3,abcd\n4,\n5, \n6,  ab  \n7,""\n8,"  "\n'  # quoted: empty text
    status, job_id = load(store, settings, tmp_path, content, columns)
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, "abc"), (2, "Zoë"), (6, "ab")]
    assert reject_details(store, job_id) == [
        (3, "too_long", "code", "abcd", "line 4: column code: 'abcd' is 4 characters, at most 3 allowed"),
        (
            4,
            "missing_required",
            "code",
            None,
            "line 5: column code: a value is required (the field was empty)",
        ),
        (
            5,
            "missing_required",
            "code",
            " ",
            "line 6: column code: a value is required (the field was empty)",
        ),
        (7, "missing_required", "code", "", f"line 8: {EMPTY_CODE}"),
        (8, "missing_required", "code", "  ", f"line 9: {EMPTY_CODE}"),
    ]


# Types, as stored in SQLite


def test_every_type_lands_in_its_sqlite_form(store, settings, data_dir, tmp_path):
    columns = [
        {"name": "s"},
        {"name": "i", "type": "integer"},
        {"name": "f", "type": "float"},
        {"name": "d", "type": "decimal", "precision": 6, "scale": 2},
        {"name": "b", "type": "boolean"},
        {"name": "day", "type": "date"},
        {"name": "ts", "type": "timestamp"},
    ]
    content = (
        "s,i,f,d,b,day,ts\n"
        "007,-0042,1.5e3,1234.5,Yes,2024-02-29,2024-02-29 23:59:58\n"
        "x,+9223372036854775807,-.25,-0.01,F,1999-01-01,2024-02-29T01:02:03.250\n"
        ",,,,,,\n"
    )
    status, job_id = load(store, settings, tmp_path, content, columns)
    assert status is S.FINISHED
    assert declared_types(data_dir) == {
        "s": "TEXT",
        "i": "INTEGER",
        "f": "REAL",
        "d": "TEXT",
        "b": "INTEGER",
        "day": "DATE",  # ISO text, as "2024-02-29" below
        "ts": "TIMESTAMP",
    }
    assert table_rows(data_dir, order="rowid") == [
        ("007", -42, 1500.0, "1234.50", 1, "2024-02-29", "2024-02-29 23:59:58"),
        ("x", 9223372036854775807, -0.25, "-0.01", 0, "1999-01-01", "2024-02-29 01:02:03.250"),
        (None, None, None, None, None, None, None),
    ]
    assert rejects(store, job_id) == []


NOT_DECIMAL_4_2 = "is not a decimal number with at most 4 digits, 2 of them after the decimal separator '.'"


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ({"type": "integer"}, "1.0", "'1.0' is not an integer"),
        (
            {"type": "integer"},
            "9223372036854775808",
            "'9223372036854775808' is out of the 64-bit integer range",
        ),
        ({"type": "float"}, "1.2.3", "'1.2.3' is not a number (decimal separator '.')"),
        (
            {"type": "decimal", "precision": 4, "scale": 2},
            "123.4",
            "'123.4' " + NOT_DECIMAL_4_2,
        ),
        (
            {"type": "decimal", "precision": 4, "scale": 2},
            "1.234",
            "'1.234' " + NOT_DECIMAL_4_2,
        ),
        (
            {"type": "decimal"},
            "NaN",
            "'NaN' is no exact number, and a decimal column holds only those: "
            "declare the column float for NaN and infinities",
        ),
        (
            {"type": "boolean"},
            "maybe",
            "'maybe' is not a boolean (expected true/t/yes/y/1 or false/f/no/n/0)",
        ),
        ({"type": "date"}, "2023-02-29", "'2023-02-29' is not a date in format %Y-%m-%d"),
        (
            {"type": "timestamp"},
            "2024-01-01 25:00:00",
            "'2024-01-01 25:00:00' is not a timestamp in format %Y-%m-%d %H:%M:%S"
            " or ISO 8601 without a time zone",
        ),
    ],
)
def test_a_value_not_of_its_type_is_a_type_error(store, settings, data_dir, tmp_path, column, value, message):
    columns = [{"name": "id", "type": "integer"}, {"name": "v", **column}]
    status, job_id = load(store, settings, tmp_path, f"id,v\n1,\n2,{value}\n", columns)
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, None)]
    assert rejects(store, job_id) == [(2, 3, "type_error", f"2,{value}".encode())]
    assert reject_details(store, job_id) == [(2, "type_error", "v", value, f"line 3: column v: {message}")]


def test_infinities_go_into_sqlite_but_nan_and_an_overflow_are_type_errors_not_silent_values(
    store, settings, data_dir, tmp_path
):
    columns = [{"name": "id", "type": "integer"}, {"name": "v", "type": "float", "required": True}]
    data = "id,v\n1,NaN\n2,inf\n3,nan\n4,-1E-3\n5,1e400\n6,-Infinity\n7,+INFINITY\n8,-inf\n"
    status, job_id = load(store, settings, tmp_path, data, columns)
    assert status is S.FINISHED
    inf = float("inf")
    assert table_rows(data_dir) == [(2, inf), (4, -0.001), (6, -inf), (7, inf), (8, -inf)]
    cannot = "is NaN (not a number), which a SQLite column cannot hold: SQLite would store NULL in its place"
    assert reject_details(store, job_id) == [
        (1, "type_error", "v", "NaN", f"line 2: column v: 'NaN' {cannot}"),
        (3, "type_error", "v", "nan", f"line 4: column v: 'nan' {cannot}"),
        (5, "type_error", "v", "1e400", "line 6: column v: '1e400' is out of the 64-bit float range"),
    ]


def test_decimals_keep_their_exact_digits(store, settings, data_dir, tmp_path):
    columns = [
        {"name": "id", "type": "integer"},
        {"name": "big", "type": "decimal", "precision": 38, "scale": 10},
        {"name": "whole", "type": "decimal", "precision": 5},
    ]
    content = "id,big,whole\n1,1234567890123456789012345678.0123456789,12345\n2,0.1000000000,-7\n"
    status, _ = load(store, settings, tmp_path, content, columns)
    assert status is S.FINISHED
    assert table_rows(data_dir) == [
        (1, "1234567890123456789012345678.0123456789", "12345"),
        (2, "0.1000000000", "-7"),
    ]


# Every reject reason, with its line number and raw record


def test_every_validation_reason_in_one_file(store, settings, data_dir, tmp_path):
    columns = [
        {"name": "id", "type": "integer", "required": True},
        {"name": "name", "required": True, "max_length": 5},
    ]
    content = 'id,name\n1,Ann\n\nx,Bob\n3,\n4,"Long\nName"\n5,Eve,\n6,"Fay\n7,Gus\n8,G\xffs\n9,Hal\n'
    status, job_id = load(
        store, settings, tmp_path, content.encode("latin-1"), columns, format={"encoding": "utf-8"}
    )
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, "Ann"), (7, "Gus"), (9, "Hal")]
    assert rejects(store, job_id) == [
        (2, 4, "type_error", b"x,Bob"),
        (3, 5, "missing_required", b"3,"),
        (4, 6, "too_long", b'4,"Long\nName"'),
        (5, 8, "wrong_field_count", b"5,Eve,"),
        (6, 9, "unterminated_quote", b'6,"Fay'),
        (8, 11, "bad_encoding", b"8,G\xffs"),
    ]
    counters = store.runs_of(job_id)[-1].counters
    assert (counters.read, counters.inserted, counters.rejected) == (9, 3, 6)


def test_doubles_are_rejected_with_the_later_record(store, settings, data_dir, tmp_path):
    columns = [{"name": "id", "type": "integer"}, {"name": "name"}]
    content = "id,name\n1,Ann\n2,Bob\n1,Again\n3,Cy\n2,Bob\n"
    status, job_id = load(
        store,
        settings,
        tmp_path,
        content,
        columns,
        reconciliation={"keys": ["id"], "doubles": "reject"},
        chunk_rows=2,
    )
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, "Ann"), (2, "Bob"), (3, "Cy")]
    assert reject_details(store, job_id) == [
        (3, "double", "id", "1", "line 4: key id = 1 appears earlier in the file"),
        (5, "double", "id", "2", "line 6: key id = 2 appears earlier in the file"),
    ]
    assert rejects(store, job_id) == [(3, 4, "double", b"1,Again"), (5, 6, "double", b"2,Bob")]


def test_a_key_already_in_the_table_is_a_duplicate_key(store, settings, data_dir, tmp_path):
    sql(data_dir, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO t VALUES (2, 'Old');")
    columns = [{"name": "id", "type": "integer"}, {"name": "name"}]
    status, job_id = load(
        store, settings, tmp_path, "id,name\n1,Ann\n2,Bob\n3,Cy\n", columns, reconciliation={"keys": ["id"]}
    )
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, "Ann"), (2, "Old"), (3, "Cy")]
    assert reject_details(store, job_id) == [
        (2, "duplicate_key", "id", "2", "line 3: key id = 2 is already in the table"),
    ]
    assert rejects(store, job_id) == [(2, 3, "duplicate_key", b"2,Bob")]


@pytest.mark.parametrize("operation", ["update", "delete"])
def test_updating_or_deleting_a_key_not_in_the_table_is_key_not_found(
    store, settings, data_dir, tmp_path, operation
):
    sql(data_dir, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO t VALUES (1, 'Old');")
    columns = [{"name": "id", "type": "integer"}, {"name": "name"}]
    rules = {"keys": ["id"], "operation": operation}
    status, job_id = load(
        store, settings, tmp_path, "id,name\n9,Nobody\n1,New\n", columns, reconciliation=rules
    )
    assert status is S.FINISHED
    assert table_rows(data_dir) == ([(1, "New")] if operation == "update" else [])
    assert reject_details(store, job_id) == [
        (1, "key_not_found", "id", "9", "line 2: key id = 9 is not in the table"),
    ]
    assert rejects(store, job_id) == [(1, 2, "key_not_found", b"9,Nobody")]


def test_an_empty_key_is_missing_key(store, settings, data_dir, tmp_path):
    columns = [{"name": "code"}, {"name": "part", "type": "integer"}, {"name": "name"}]
    content = "code,part,name\nA,1,Ann\n,2,Bob\nB,,Cy\nC,3,Dee\n"
    rules = {"keys": ["code", "part"]}
    status, job_id = load(store, settings, tmp_path, content, columns, reconciliation=rules)
    assert status is S.FINISHED
    assert table_rows(data_dir) == [("A", 1, "Ann"), ("C", 3, "Dee")]
    assert rejects(store, job_id) == [(2, 3, "missing_key", b",2,Bob"), (3, 4, "missing_key", b"B,,Cy")]
    assert [r[4] for r in reject_details(store, job_id)] == [
        "line 3: key code and part: a value is required",
        "line 4: key code and part: a value is required",
    ]


def test_rows_the_database_refuses_are_rejected_and_the_rest_of_the_chunk_loads(
    store, settings, data_dir, tmp_path
):
    sql(data_dir, "CREATE TABLE t (id INTEGER, age INTEGER CHECK (age >= 0), name TEXT)")
    columns = [{"name": "id", "type": "integer"}, {"name": "age", "type": "integer"}, {"name": "name"}]
    content = "id,age,name\n1,30,Ann\n2,-1,Bob\n3,40,Cy\n4,50,Dee\n5,-5,Eve\n6,60,Fay\n"
    status, job_id = load(store, settings, tmp_path, content, columns)
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, 30, "Ann"), (3, 40, "Cy"), (4, 50, "Dee"), (6, 60, "Fay")]
    assert rejects(store, job_id) == [(2, 3, "constraint", b"2,-1,Bob"), (5, 6, "constraint", b"5,-5,Eve")]
    assert [r[4] for r in reject_details(store, job_id)] == [
        "line 3: refused by the database: column age = '-1': CHECK constraint failed: age >= 0",
        "line 6: refused by the database: column age = '-5': CHECK constraint failed: age >= 0",
    ]
    counters = store.runs_of(job_id)[-1].counters
    assert (counters.read, counters.inserted, counters.rejected) == (6, 4, 2)


@pytest.mark.parametrize("commit", ["incremental", "atomic"])
def test_a_sqlite_table_and_columns_named_in_another_case_are_the_ones_the_job_names(
    store, settings, data_dir, tmp_path, commit
):
    sql(data_dir, "CREATE TABLE T (Id INTEGER PRIMARY KEY, Name TEXT NOT NULL)")  # SQLite: case-blind
    columns = [{"name": "id", "type": "integer"}, {"name": "name"}]
    status, job_id = load(store, settings, tmp_path, "id,name\n1,Ann\n2,Bob\n", columns, commit=commit)
    assert status is S.FINISHED
    assert "table.created" not in codes(store, job_id)
    assert table_rows(data_dir) == [(1, "Ann"), (2, "Bob")]


def test_a_job_writing_a_generated_column_is_refused_naming_it_and_the_others_fill_it(
    store, settings, data_dir, tmp_path
):
    sql(
        data_dir,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT, domain TEXT AS (substr(email, 3)) STORED)",
    )
    columns = [{"name": "email"}, {"name": "domain"}]
    status, job_id = load(store, settings, tmp_path, "email,domain\na@x.org,zzz\n", columns)
    assert status is S.FINISHED_WITH_ERRORS
    error = next(line for line in store.journal_lines(job_id) if line.code == "run.error").params["error"]
    assert error == (
        "table t fills column(s) domain (GENERATED ALWAYS AS (…) STORED) itself: "
        "take them out of the job's columns"
    )
    status, _ = load(store, settings, tmp_path, "email,domain\na@x.org,zzz\n", columns[:1])
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, "a@x.org", "x.org")]


@pytest.mark.parametrize("commit", ["incremental", "atomic"])
def test_a_constraint_reject_names_the_column_the_database_names_and_its_value(
    store, settings, data_dir, tmp_path, commit
):
    sql(data_dir, "CREATE TABLE t (id INTEGER, age INTEGER, name TEXT NOT NULL)")
    columns = [{"name": "id", "type": "integer"}, {"name": "age", "type": "integer"}, {"name": "name"}]
    content = "id,age,name\n1,30,Ann\n2,40,\n"
    status, job_id = load(store, settings, tmp_path, content, columns, commit=commit)
    assert status is S.FINISHED
    assert reject_details(store, job_id) == [
        (
            2,
            "constraint",
            "name",
            None,
            "line 3: refused by the database: column name = null: NOT NULL constraint failed: t.name",
        )
    ]


@pytest.mark.parametrize("commit", ["incremental", "atomic"])
def test_a_refusal_by_a_named_check_names_its_columns_their_values_and_the_line(
    store, settings, data_dir, tmp_path, commit
):
    sql(
        data_dir,
        "CREATE TABLE t (id INTEGER, lo INTEGER, hi INTEGER, note TEXT, CONSTRAINT ordered CHECK (lo <= hi))",
    )
    columns = [
        {"name": "id", "type": "integer"},
        {"name": "lo", "type": "integer"},
        {"name": "hi", "type": "integer"},
        {"name": "note"},
    ]
    content = 'id,lo,hi,note\n1,1,2,"two\nlines"\n2,5,3,x\n'
    status, job_id = load(store, settings, tmp_path, content, columns, commit=commit)
    assert status is S.FINISHED
    message = "line 4: refused by the database: columns lo = '5', hi = '3': CHECK constraint failed: ordered"
    assert reject_details(store, job_id) == [(2, "constraint", "lo", "5", message)]


def test_a_value_a_strict_table_refuses_for_its_type_is_rejected_and_the_rest_loads(
    store, settings, data_dir, tmp_path
):
    sql(data_dir, "CREATE TABLE t (id INTEGER, age INTEGER) STRICT")
    content = "id,age\n1,30\n2,old\n3,40\n"
    status, job_id = load(
        store, settings, tmp_path, content, [{"name": "id", "type": "integer"}, {"name": "age"}]
    )
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, 30), (3, 40)]
    message = (
        "line 3: refused by the database: column age = 'old': cannot store TEXT value in INTEGER column t.age"
    )
    assert reject_details(store, job_id) == [(2, "constraint", "age", "old", message)]


CHECKED = "CREATE TABLE t (id INTEGER PRIMARY KEY, age INTEGER CHECK (age >= 0), name TEXT)"
AGES = [{"name": "id", "type": "integer"}, {"name": "age", "type": "integer"}, {"name": "name"}]


def test_in_atomic_mode_refused_rows_are_rejected_like_in_incremental_mode(
    store, settings, data_dir, tmp_path
):
    sql(data_dir, CHECKED)
    content = "id,age,name\n1,30,Ann\n2,-1,Bob\n3,40,Cy\n"
    status, job_id = load(store, settings, tmp_path, content, AGES, commit="atomic")
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, 30, "Ann"), (3, 40, "Cy")]
    assert rejects(store, job_id) == [(2, 3, "constraint", b"2,-1,Bob")]


def test_a_refused_update_names_the_column_its_check_is_about(store, settings, data_dir, tmp_path):
    sql(data_dir, CHECKED + "; INSERT INTO t VALUES (2, 5, 'Old');")
    rules = {"keys": ["id"], "operation": "insert_or_update"}
    content = "id,age,name\n1,30,Ann\n2,-1,Bob\n"
    status, job_id = load(store, settings, tmp_path, content, AGES, reconciliation=rules)
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, 30, "Ann"), (2, 5, "Old")]
    assert reject_details(store, job_id) == [
        (
            2,
            "constraint",
            "age",
            "-1",
            "line 3: refused by the database: column age = '-1': CHECK constraint failed: age >= 0",
        )
    ]


def test_stop_at_first_error_also_stops_at_a_row_the_database_refuses(store, settings, data_dir, tmp_path):
    sql(data_dir, CHECKED)
    content = "id,age,name\n1,30,Ann\n2,-1,Bob\n3,40,Cy\n4,50,Dee\n"
    status, job_id = load(
        store, settings, tmp_path, content, AGES, errors={"stop_at_first_error": True}, chunk_rows=2
    )
    assert status is S.FINISHED_WITH_ERRORS
    assert "run.first_error" in codes(store, job_id)
    assert rejects(store, job_id) == [(2, 3, "constraint", b"2,-1,Bob")]
    assert table_rows(data_dir) == [(1, 30, "Ann")]


# Mapping errors


def test_a_source_not_in_the_header_ends_the_run_naming_the_column_and_the_header(
    store, settings, data_dir, tmp_path
):
    columns = [{"name": "id", "type": "integer"}, {"name": "mail", "source": "email"}]
    status, job_id = load(store, settings, tmp_path, "id,name,e_mail\n1,Ann,a@x.org\n", columns)
    assert status is S.FINISHED_WITH_ERRORS
    errors = [line for line in store.journal_lines(job_id) if line.code == "run.error"]
    assert [e.params["error"] for e in errors] == [
        f"{tmp_path / 'in.csv'}: column mail: source 'email' is not in the header "
        "(available: 'id', 'name', 'e_mail')"
    ]
    assert store.runs_of(job_id)[-1].counters.read == 0


def test_a_key_not_among_the_header_columns_of_a_job_without_columns_ends_the_run_naming_them(
    store, settings, data_dir, tmp_path
):
    """Without declared columns, the columns are the header's names made into column names: a key
    written as the header spells it (ID) is said to be missing, with the columns there are."""
    reconciliation = {"keys": ["ID"], "operation": "insert_or_update"}
    status, job_id = load(store, settings, tmp_path, "ID,Name\n1,Ann\n", [], reconciliation=reconciliation)
    assert status is S.FINISHED_WITH_ERRORS
    errors = [line.params["error"] for line in store.journal_lines(job_id) if line.code == "run.error"]
    assert errors == [f"{tmp_path / 'in.csv'}: reconciliation.keys: 'ID' not among the columns (id, name)"]
    with sqlite3.connect(data_dir / "data.db") as c:
        assert c.execute("SELECT name FROM sqlite_master WHERE name = 't'").fetchall() == []
