"""An export run end to end, against real SQLite files: in this process, and (for kill -9 and SIGTERM)
through the real `impex worker` in subprocesses."""

import gzip
import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import impex.engine.export_readers as export_readers
import impex.engine.exporter as exporter
from impex.definitions_io import parse_definition
from impex.domain.status import A, S
from impex.store.store import Store
from support import IMPEX, codes, define, run_job, submit, table_rows, write


def fill(data_dir: Path, ddl: str, rows: list[tuple[Any, ...]], table: str = "t") -> None:
    with sqlite3.connect(data_dir / "data.db") as c:
        c.execute(f"CREATE TABLE {table} {ddl}")
        marks = ", ".join("?" * len(rows[0])) if rows else ""
        c.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)


def export(out: Path, source: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "kind": "export",
        "name": "test export",
        "source": source or {"table": "t"},
        "output": str(out),
        **fields,
    }


def journal_error(store, job_id: int) -> str:
    return next(line for line in store.journal_lines(job_id) if line.code == "run.error").params["error"]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


PEOPLE = [(1, "Ann", 30, 1.5), (2, 'Bob "B", Jr', None, -2.25), (3, "Cy", 40, None)]


@pytest.fixture
def people(data_dir: Path) -> Path:
    fill(data_dir, "(id INTEGER PRIMARY KEY, name TEXT, age INTEGER, score REAL)", PEOPLE)
    return data_dir


def many(data_dir: Path, rows: int, table: str = "t") -> None:
    fill(
        data_dir,
        "(id INTEGER PRIMARY KEY, name TEXT, email TEXT, score REAL, note TEXT)",
        [
            (i, f"Name {i}", f"n{i}@example.com", i / 4, None if i % 7 else f"note, {i}")
            for i in range(1, rows + 1)
        ],
        table,
    )


def test_a_table_is_written_with_a_header_and_the_journal_tells_the_story(store, settings, people, tmp_path):
    out = tmp_path / "out.csv"
    status, job_id = run_job(store, settings, export(out))
    assert status is S.FINISHED
    assert out.read_text() == 'id,name,age,score\n1,Ann,30,1.5\n2,"Bob ""B"", Jr",,-2.25\n3,Cy,40,\n'
    run = store.runs_of(job_id)[-1]
    assert (run.counters.read, run.counters.written, run.output_path) == (3, 3, str(out))
    assert [c for c in codes(store, job_id) if c != "export.progress"][-4:] == [
        "run.started",
        "export.file",
        "export.summary",
        "job.transition",
    ]
    [summary] = [line.text for line in store.journal_lines(job_id) if line.code == "export.summary"]
    assert summary.startswith("Summary: read 3, written 3, duration ")
    assert not list(tmp_path.glob("*.part*"))


def test_a_long_export_logs_its_progress(store, settings, data_dir, tmp_path):
    many(data_dir, 1000)
    _, job_id = run_job(store, settings, export(tmp_path / "out.csv", chunk_rows=100))
    progress = [line for line in store.journal_lines(job_id) if line.code == "export.progress"]
    assert progress and progress[-1].params["rows"] == 1000  # progress_seconds is 0 in tests
    assert progress[-1].text.startswith("1000 rows written, ")


def test_columns_filter_order_by_and_limit_choose_the_rows(store, settings, people, tmp_path):
    out = tmp_path / "out.csv"
    source = {
        "table": "t",
        "columns": ["name", "id"],
        "filter": "age IS NOT NULL",
        "order_by": ["age"],
        "limit": 1,
    }
    run_job(store, settings, export(out, {**source, "limit": None}))
    assert out.read_text() == "name,id\nAnn,1\nCy,3\n"
    run_job(store, settings, export(out, source))
    assert out.read_text() == "name,id\nAnn,1\n"


@pytest.mark.parametrize(
    "query", ["SELECT id FROM t -- the ids", "SELECT id FROM t; \n", "SELECT id\nFROM t --"]
)
def test_a_query_ending_in_a_comment_or_a_semicolon_is_exported(store, settings, people, tmp_path, query):
    out = tmp_path / "out.csv"
    status, job_id = run_job(store, settings, export(out, {"query": query}))
    assert status is S.FINISHED, journal_error(store, job_id)
    assert out.read_text() == "id\n1\n2\n3\n"


def test_a_filter_ending_in_a_comment_is_applied(store, settings, people, tmp_path):
    out = tmp_path / "out.csv"
    for source in ({"table": "t"}, {"table": "t", "order_by": ["age"]}):
        status, job_id = run_job(store, settings, export(out, {**source, "filter": "id > 1 -- not Ann"}))
        assert status is S.FINISHED, journal_error(store, job_id)
        assert out.read_text().splitlines()[1:] == ['2,"Bob ""B"", Jr",,-2.25', "3,Cy,40,"]


def test_sqlite_columns_are_found_whatever_the_case_they_are_named_in_and_written_as_the_table_names_them(
    store, settings, people, tmp_path
):
    out = tmp_path / "out.csv"
    source = {"table": "T", "columns": ["NAME", "Id"], "filter": "age > 35", "order_by": ["AGE"]}
    status, job_id = run_job(store, settings, export(out, source))
    assert status is S.FINISHED, journal_error(store, job_id)
    assert out.read_text() == "name,id\nCy,3\n"


def test_a_column_named_twice_is_refused_when_the_job_is_defined():
    with pytest.raises(ValueError, match=r"source.columns: id named more than once"):
        parse_definition(export(Path("x.csv"), {"table": "t", "columns": ["id", "name", "id"]}))


def test_a_query_is_exported_in_its_own_order(store, settings, people, tmp_path):
    out = tmp_path / "out.csv"
    query = "WITH a AS (SELECT id, upper(name) AS n FROM t) SELECT n, id * 10 AS x FROM a ORDER BY id DESC;"
    status, _ = run_job(store, settings, export(out, {"query": query}))
    assert status is S.FINISHED
    assert out.read_text() == 'n,x\nCY,30\n"BOB ""B"", JR",20\nANN,10\n'


@pytest.mark.parametrize(
    "query", ["SELECT id, name, id FROM t", "SELECT id, age AS id FROM t WHERE id < 0", "SELECT *, * FROM t"]
)
def test_a_query_giving_two_columns_one_name_is_refused_as_on_postgresql(
    store, settings, people, tmp_path, query
):
    out = tmp_path / "out.csv"
    status, job_id = run_job(store, settings, export(out, {"query": query}))
    assert status is S.FINISHED_WITH_ERRORS
    assert journal_error(store, job_id).startswith("the export query gives more than one column named ")
    assert "id" in journal_error(store, job_id).split(":")[0]
    assert journal_error(store, job_id).endswith("give each its own name (… AS another_name)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["impex-data"]


def test_an_empty_result_still_writes_the_header(store, settings, people, tmp_path):
    out = tmp_path / "out.csv"
    run_job(store, settings, export(out, {"table": "t", "filter": "id > 99"}))
    assert out.read_text() == "id,name,age,score\n"
    run_job(store, settings, export(out, {"query": "SELECT name AS who FROM t WHERE 0"}))
    assert out.read_text() == "who\n"


def test_delimiter_quoting_header_line_ending_null_value_and_decimal_comma(store, settings, people, tmp_path):
    out = tmp_path / "out.csv"
    fmt = {
        "delimiter": ";",
        "header": False,
        "line_ending": "crlf",
        "null_value": "NULL",
        "decimal_separator": ",",
    }
    run_job(store, settings, export(out, format=fmt))
    assert out.read_bytes() == b'1;Ann;30;1,5\r\n2;"Bob ""B"", Jr";NULL;-2,25\r\n3;Cy;40;NULL\r\n'
    run_job(
        store, settings, export(out, {"table": "t", "columns": ["id", "name"]}, format={"quoting": "all"})
    )
    assert out.read_text().splitlines()[:2] == ['"id","name"', '"1","Ann"']
    done = run_job(
        store, settings, export(out, {"table": "t", "columns": ["id", "age"]}, format={"quoting": "none"})
    )
    assert done[0] is S.FINISHED
    assert out.read_text().splitlines() == ["id,age", "1,30", "2,", "3,40"]


def test_infinities_are_written_as_postgresql_writes_them_and_read_back_by_an_import(
    store, settings, data_dir, tmp_path
):
    # SQLite keeps a NaN as NULL; an infinity it keeps as a REAL, among integers or text too
    inf = float("inf")
    rows = [(1, inf, inf, inf), (2, -inf, -inf, -inf), (3, 1.5, 7, "seven"), (4, None, None, None)]
    fill(data_dir, "(id INTEGER PRIMARY KEY, f REAL, m NUMERIC, a)", rows)
    out = tmp_path / "out.csv"
    status, job_id = run_job(store, settings, export(out))
    assert status is S.FINISHED, journal_error(store, job_id)
    assert out.read_text() == (
        "id,f,m,a\n1,Infinity,Infinity,Infinity\n2,-Infinity,-Infinity,-Infinity\n3,1.5,7,seven\n4,,,\n"
    )
    back = define(
        source=str(out),
        target={"table": "back"},
        columns=[{"name": "id", "type": "integer"}, {"name": "f", "type": "float"}],
    )
    status, job_id = run_job(store, settings, back)
    assert status is S.FINISHED, journal_error(store, job_id)
    assert table_rows(data_dir, "back") == [
        (1, inf),
        (2, -inf),
        (3, 1.5),
        (4, None),
    ]


def test_another_encoding_and_a_character_it_cannot_hold(store, settings, data_dir, tmp_path):
    fill(data_dir, "(name TEXT)", [("Zoë",)])
    out = tmp_path / "out.csv"
    assert run_job(store, settings, export(out, format={"encoding": "latin-1"}))[0] is S.FINISHED
    assert out.read_bytes() == "name\nZoë\n".encode("latin-1")
    with sqlite3.connect(data_dir / "data.db") as c:
        c.execute("INSERT INTO t VALUES ('Žižek')")
    status, job_id = run_job(store, settings, export(out, format={"encoding": "latin-1"}, chunk_rows=1))
    assert status is S.FINISHED_WITH_ERRORS
    assert (
        journal_error(store, job_id)
        == "row 2, column name: 'Žižek' holds 'Ž' (U+017D), which iso8859-1 cannot encode"
    )
    assert out.read_bytes() == "name\nZoë\n".encode("latin-1")  # the earlier run's file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["impex-data", "out.csv"]  # no partial file left


@pytest.mark.parametrize("value", ["a,b", 'say "hi"', "two\nlines", "cr\rhere"])
def test_quoting_none_refuses_a_value_that_would_not_read_back(store, settings, data_dir, tmp_path, value):
    fill(data_dir, "(id INTEGER, name TEXT)", [(1, "plain"), (2, value)])
    out = tmp_path / "out.csv"
    status, job_id = run_job(store, settings, export(out, format={"quoting": "none"}))
    assert status is S.FINISHED_WITH_ERRORS
    assert journal_error(store, job_id).startswith(
        f"row 2, column name: {value!r} holds the delimiter, the quote"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["impex-data"]


@pytest.mark.parametrize("name", ["a,b", 'say "hi"', "two\nlines", "cr\rhere"])
@pytest.mark.parametrize("source", [{"table": "t"}, {"table": "t", "filter": "id < 0"}], ids=["rows", "none"])
def test_quoting_none_refuses_a_column_name_that_would_not_read_back_in_the_header(
    store, settings, data_dir, tmp_path, name, source
):
    quoted = name.replace('"', '""')
    fill(data_dir, f'(id INTEGER, "{quoted}" TEXT)', [(1, "x")])
    out = tmp_path / "out.csv"
    status, job_id = run_job(store, settings, export(out, source, format={"quoting": "none"}))
    assert status is S.FINISHED_WITH_ERRORS
    assert journal_error(store, job_id) == (
        f"the header: column name {name!r} holds the delimiter, the quote or a line break, which "
        "quoting 'none' would write as they are (the file would not read back): use quoting 'minimal', "
        "or no header"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["impex-data"]


def test_quoting_none_without_a_header_writes_any_column_name(store, settings, data_dir, tmp_path):
    fill(data_dir, '(id INTEGER, "a,b" TEXT)', [(1, "x")])
    out = tmp_path / "out.csv"
    assert run_job(store, settings, export(out, format={"quoting": "none", "header": False}))[0] is S.FINISHED
    assert out.read_text() == "1,x\n"


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ({}, 'id,note\n1,""\n2,\n3,x\n'),
        ({"null_value": "NULL"}, 'id,note\n1,"NULL"\n2,NULL\n3,x\n'),
        ({"null_value": "\\N", "quoting": "all"}, '"id","note"\n"1","\\N"\n"2",\\N\n"3","x"\n'),
    ],
)
def test_a_text_equal_to_the_null_value_is_quoted_and_a_null_is_written_bare(
    store, settings, data_dir, tmp_path, fmt, expected
):
    fill(data_dir, "(id INTEGER, note TEXT)", [(1, fmt.get("null_value", "")), (2, None), (3, "x")])
    out = tmp_path / "out.csv"
    assert run_job(store, settings, export(out, format=fmt))[0] is S.FINISHED
    assert out.read_text() == expected


@pytest.mark.parametrize("quoting", ["minimal", "all"])
def test_an_empty_text_and_a_null_stay_apart_through_an_export_and_an_import_without_null_markers(
    store, settings, data_dir, tmp_path, quoting
):
    fill(data_dir, "(id INTEGER, note TEXT)", [(1, ""), (2, None)])
    out = tmp_path / "out.csv"
    run_job(store, settings, export(out, format={"quoting": quoting}))
    columns = [{"name": "id", "type": "integer"}, {"name": "note"}]
    back = define(source=str(out), target={"table": "back"}, columns=columns, format={"null_values": []})
    assert run_job(store, settings, back)[0] is S.FINISHED
    assert table_rows(data_dir, "back") == [(1, ""), (2, None)]


def test_quoting_none_refuses_a_text_equal_to_the_null_value(store, settings, data_dir, tmp_path):
    fill(data_dir, "(id INTEGER, note TEXT)", [(1, "x"), (2, None), (3, "NULL")])
    out = tmp_path / "out.csv"
    fmt = {"quoting": "none", "null_value": "NULL"}
    status, job_id = run_job(store, settings, export(out, format=fmt, chunk_rows=2))
    assert status is S.FINISHED_WITH_ERRORS
    assert journal_error(store, job_id) == (
        "row 3, column note: 'NULL' is the null value, which quoting 'none' would write as a "
        "null (the file would not read back): use quoting 'minimal'"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["impex-data"]


def test_quoting_none_writes_an_empty_text_as_an_empty_field_and_the_journal_warns_once(
    store, settings, data_dir, tmp_path
):
    fill(data_dir, "(id INTEGER, note TEXT)", [(1, "x"), (2, None), (3, ""), (4, ""), (5, "")])
    out = tmp_path / "out.csv"
    status, job_id = run_job(store, settings, export(out, format={"quoting": "none"}, chunk_rows=2))
    assert status is S.FINISHED
    assert out.read_text() == "id,note\n1,x\n2,\n3,\n4,\n5,\n"
    [warning] = [line for line in store.journal_lines(job_id) if line.code == "export.empty_texts"]
    assert warning.level == "warning"
    assert warning.text.startswith("Row 3 holds an empty text: quoting 'none' writes it as an empty field")


def test_date_and_timestamp_columns_follow_the_formats_and_other_text_stays_as_stored(
    store, settings, data_dir, tmp_path
):
    fill(
        data_dir,
        "(d DATE, ts TIMESTAMP, t TEXT)",
        [("2024-01-31", "2024-01-31 08:05:09", "2024-01-31"), ("not a date", "2024-02-01T10:00:00.5", None)],
    )
    out = tmp_path / "out.csv"
    fmt = {"date_format": "%d/%m/%Y", "timestamp_format": "%d/%m/%Y %H:%M"}
    run_job(store, settings, export(out, format=fmt))
    assert out.read_text() == "d,ts,t\n31/01/2024,31/01/2024 08:05,2024-01-31\nnot a date,01/02/2024 10:00,\n"


def test_imported_dates_come_out_in_the_date_format_and_booleans_as_stored_0_1(store, settings, tmp_path):
    """impex's SQLite target keeps a date as ISO text in a column it declares DATE, and a boolean as 0/1
    in an INTEGER column; an export writes the dates in its date_format, the booleans as stored."""
    source = write(tmp_path / "in.csv", "id,born,ok\n1,2001-02-03,true\n2,,false\n")
    columns = [
        {"name": "id", "type": "integer"},
        {"name": "born", "type": "date"},
        {"name": "ok", "type": "boolean"},
    ]
    assert run_job(store, settings, define(source=str(source), columns=columns))[0] is S.FINISHED
    out = tmp_path / "out.csv"
    run_job(store, settings, export(out, format={"date_format": "%d.%m.%Y"}))
    assert out.read_text() == "id,born,ok\n1,03.02.2001,1\n2,,0\n"


def test_a_stored_export_to_a_gz_name_with_gzip_false_still_runs_as_it_did_before_the_gz_rule(
    store, settings, data_dir, tmp_path
):
    """An impex before the rule stored every definition with gzip spelled out: false for a quick
    export to out.csv.gz. Such a job (queued, paused, a schedule's) still loads and runs as it was
    defined; a paused one's partial file is plain text, which gzip members must not follow."""
    fill(data_dir, "(id INTEGER, note TEXT)", [(1, "a"), (2, "b")])
    out = tmp_path / "out-{date}.csv.gz"
    stored = parse_definition(export(tmp_path / "out.csv")).model_dump(mode="json") | {"output": str(out)}
    assert stored["format"]["gzip"] is False
    job_id = store.create_job(stored, actor="tester")
    store.transition(job_id, A.START, actor="tester")
    assert run_job(store, settings, job_id)[0] is S.FINISHED
    [written] = tmp_path.glob("out-*.csv.gz")
    assert written.read_text() == "id,note\n1,a\n2,b\n"


@pytest.mark.parametrize("header", [False, True])
def test_a_gzip_export_of_no_rows_is_a_gzip_file_that_tools_read(store, settings, people, tmp_path, header):
    out = tmp_path / "out.csv.gz"
    source = {"table": "t", "filter": "id < 0"}
    assert run_job(store, settings, export(out, source, format={"header": header}))[0] is S.FINISHED
    assert out.read_bytes()[:2] == b"\x1f\x8b"  # gzip's magic: an empty file is no gzip file
    assert gzip.decompress(out.read_bytes()) == (b"id,name,age,score\n" if header else b"")


def test_gzip_output_reads_back_as_the_plain_file_with_one_member_per_chunk(
    store, settings, data_dir, tmp_path
):
    many(data_dir, 500)
    plain, packed = tmp_path / "out.csv", tmp_path / "out.csv.gz"
    run_job(store, settings, export(plain, chunk_rows=100))
    run_job(store, settings, export(packed, chunk_rows=100, format={"gzip": True}))
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()
    assert packed.read_bytes().count(b"\x1f\x8b\x08") >= 5


def test_the_file_name_template_takes_job_run_date_and_time(store, settings, people, tmp_path):
    template = str(tmp_path / "{job}-{run}-{date}-{time}.csv")
    _, job_id = run_job(store, settings, export(Path(template), name="daily people"))
    store.transition(job_id, A.START, actor="tester")
    run_job(store, settings, job_id)
    names = sorted(p.name for p in tmp_path.glob("daily_people-*.csv"))
    assert [n.split("-")[1] for n in names] == ["1", "2"]
    day = date.today().strftime("%Y%m%d")
    assert all(n.split("-")[2] == day and len(n.split("-")[3]) == len("HHMMSS.csv") for n in names)
    assert [r.output_path for r in store.runs_of(job_id)] == [str(tmp_path / n) for n in names]


LONGEST = 255  # bytes of a file name on ext4, XFS, Btrfs, APFS


@pytest.mark.parametrize("name", ["x" * (LONGEST - 4), "é" * ((LONGEST - 4) // 2)], ids=["ascii", "accents"])
def test_a_file_name_as_long_as_the_file_system_takes_is_written_through_pauses(
    store, settings, data_dir, tmp_path, name
):
    many(data_dir, 300)
    folder, reference = tmp_path / "out", tmp_path / "reference.csv"
    out = folder / f"{name}.csv"
    run_job(store, settings, export(reference, chunk_rows=97))

    def pause(progress):
        if store.status_of(progress.job_id) is S.RUNNING:
            store.transition(progress.job_id, A.PAUSE, actor="tester")

    status, job_id = run_job(store, settings, export(out, chunk_rows=97), on_progress=pause)
    while status is S.PAUSED:
        assert not out.exists()
        store.transition(job_id, A.START, actor="tester")
        status, _ = run_job(store, settings, job_id, on_progress=pause)
    assert status is S.FINISHED, journal_error(store, job_id)
    assert "run.resumed" in codes(store, job_id)
    assert list(folder.iterdir()) == [out]  # no partial file, no resume keys left
    assert out.read_bytes() == reference.read_bytes()


def test_a_file_name_longer_than_the_file_system_takes_is_refused_before_any_row_is_read(
    store, settings, people, tmp_path
):
    out = tmp_path / f"{'é' * 126}.csv"
    status, job_id = run_job(store, settings, export(out))
    assert status is S.FINISHED_WITH_ERRORS
    assert journal_error(store, job_id) == (
        f"cannot write the export file {out}: its name is 256 bytes long (in UTF-8), and a file name "
        "may have at most 255"
    )
    assert list(tmp_path.iterdir()) == [tmp_path / "impex-data"]


def test_a_missing_source_table_finishes_with_errors_naming_it(store, settings, people, tmp_path):
    status, job_id = run_job(store, settings, export(tmp_path / "out.csv", {"table": "nope"}))
    assert status is S.FINISHED_WITH_ERRORS
    assert "source table nope does not exist" in journal_error(store, job_id)
    _, job_id = run_job(
        store, settings, export(tmp_path / "out.csv", {"table": "t", "columns": ["id", "wat"]})
    )
    assert "source table t has no column(s) wat" in journal_error(store, job_id)
    assert not (tmp_path / "out.csv").exists()


def test_an_output_folder_that_is_a_file_is_a_clear_error(store, settings, people, tmp_path):
    (tmp_path / "reports").write_text("not a folder")
    status, job_id = run_job(store, settings, export(tmp_path / "reports" / "out.csv"))
    assert status is S.FINISHED_WITH_ERRORS
    said = journal_error(store, job_id)
    assert f"cannot write the export file {tmp_path / 'reports' / 'out.csv'}: " in said
    assert f"{tmp_path / 'reports'} is a file, not a folder" in said


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda p: p.mkdir(), "a folder"),
        (lambda p: os.mkfifo(p), "a named pipe (FIFO)"),
        (lambda p: p.symlink_to("/dev/null"), "a device"),
    ],
    ids=["folder", "fifo", "link to a device"],
)
def test_a_path_that_is_not_a_file_is_refused_and_left_as_it_was(
    store, settings, people, tmp_path, make, kind
):
    """The file is written under a temporary name, then renamed over the path: over a pipe or a
    device that would put a plain file in its place."""
    out = tmp_path / "out"
    make(out)
    before = os.lstat(out)
    status, job_id = run_job(store, settings, export(out))
    assert status is S.FINISHED_WITH_ERRORS
    assert f"cannot write the export file {out}: it is {kind}, not a file" in journal_error(store, job_id)
    after = os.lstat(out)
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("out")) == ["out"]


@pytest.mark.parametrize("database", ["data.db", "impex.db"], ids=["source", "store"])
def test_an_export_onto_a_sqlite_database_is_refused_and_leaves_it_whole(
    store, settings, people, tmp_path, database
):
    target = people / database
    before = digest(target)
    status, job_id = run_job(store, settings, export(target))
    assert status is S.FINISHED_WITH_ERRORS
    assert journal_error(store, job_id) == (
        f"cannot write the export file {target}: it is a SQLite database, which the export file would "
        "replace; give another name"
    )
    assert digest(target) == before
    assert not list(people.glob(f"{database}.part*"))


def test_a_link_to_a_file_stays_a_link_and_its_file_is_written(store, settings, people, tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "people.csv").write_text("old\n")
    link = tmp_path / "latest.csv"
    link.symlink_to(tmp_path / "real" / "people.csv")
    status, _ = run_job(store, settings, export(link))
    assert status is S.FINISHED
    assert link.is_symlink()
    assert (tmp_path / "real" / "people.csv").read_text().startswith("id,")


def test_a_missing_source_database_is_a_clear_error_and_is_not_created(store, settings, data_dir, tmp_path):
    status, job_id = run_job(store, settings, export(tmp_path / "out.csv"))
    assert status is S.FINISHED_WITH_ERRORS
    assert "data.db does not exist" in journal_error(store, job_id)
    assert not (data_dir / "data.db").exists()


def test_a_query_that_is_not_a_select_is_refused_when_the_job_is_defined():
    with pytest.raises(ValueError, match="read-only SELECT"):
        define(**export(Path("x.csv"), {"query": "DELETE FROM t"}))


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"format": {"delimiter": "§"}}, "format.delimiter: expected a single ASCII character, got '§'"),
        ({"format": {"delimiter": "::"}}, "format.delimiter: expected a single ASCII character, got '::'"),
        ({"format": {"delimiter": ""}}, "format.delimiter: expected a single ASCII character, got ''"),
        ({"format": {"delimiter": "\n"}}, "format.delimiter: a line break cannot be the delimiter"),
        ({"format": {"quote": "«"}}, "format.quote: expected a single ASCII character, got '«'"),
        ({"format": {"quote": ";", "delimiter": ";"}}, "format: delimiter and quote must differ"),
        ({"format": {"encoding": "klingon"}}, "format.encoding: unknown encoding 'klingon'"),
        (
            {"format": {"date_format": "%d,%m,%Y"}},
            "format: date_format '%d,%m,%Y' holds the delimiter, the quote or a line break, "
            "which a date is written with as it is",
        ),
        (
            {"format": {"delimiter": ";", "timestamp_format": '%H:%M "%S"'}},
            "format: timestamp_format '%H:%M \"%S\"' holds the delimiter",
        ),
        (
            {"format": {"null_value": "n/a, none"}},
            "format: null_value 'n/a, none' holds the delimiter, the quote or a line break: a null "
            "written as it would not read back",
        ),
        (
            {"format": {"null_value": "-\n-", "delimiter": ";"}},
            "format: null_value '-\\n-' holds the delimiter, the quote or a line break",
        ),
        (
            {"format": {"quoting": "none", "decimal_separator": ","}},
            "format: decimal_separator ',' is the delimiter: with quoting 'none' every number with a "
            "fraction would read back as two fields",
        ),
        ({"output": "out-{nope}.csv"}, "output: unknown placeholder {nope} in 'out-{nope}.csv' (use {job}"),
        ({"output": "out-{0}.csv"}, "output: unknown placeholder {0}"),
        ({"output": "out-{run.x}.csv"}, "output: unknown placeholder {run.x}"),
        ({"output": "out-{.csv"}, "output: 'out-{.csv' is not a file name template"),
        ({"output": "out\x00.csv"}, "output: a NUL character (\\x00) is not allowed"),
    ],
)
def test_a_format_or_file_name_that_cannot_be_written_is_refused_when_the_job_is_defined(fields, says):
    with pytest.raises(ValueError, match=r"format|output") as refused:
        parse_definition({**export(Path("x.csv")), **fields})
    assert says in str(refused.value)


def test_a_file_name_template_with_every_placeholder_and_doubled_braces_is_taken():
    job = parse_definition({**export(Path("x.csv")), "output": "{job}-{run}-{date}-{time}-{{x}}.csv"})
    assert job.output == "{job}-{run}-{date}-{time}-{{x}}.csv"


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("WITH x AS (SELECT 1) DELETE FROM t", "must be one read-only SELECT"),
        ("SELECT 1; DROP TABLE t", "must be one read-only SELECT"),
        ("SELECT * FROM t WHERE id IN (SELECT 1 FROM pragma_user_version)", None),
    ],
)
def test_an_export_cannot_change_its_source_database(store, settings, people, tmp_path, query, says):
    before = digest(people / "data.db")
    status, job_id = run_job(store, settings, export(tmp_path / "out.csv", {"query": query}))
    if says is None:
        assert status is S.FINISHED
    else:
        assert status is S.FINISHED_WITH_ERRORS and says in journal_error(store, job_id)
    assert digest(people / "data.db") == before  # not one byte, not even impex's own bookkeeping


@pytest.mark.parametrize(
    ("source", "says"),
    [
        (
            {"query": "SELECT * FROM t) AS q; DELETE FROM t; SELECT * FROM (SELECT 1"},
            "the export query must be one read-only SELECT: a ')' closes a parenthesis it did not open",
        ),
        (
            {"query": "SELECT id FROM t;; SELECT 1"},
            "the export query must be one read-only SELECT: a ';' ends it, and more follows",
        ),
        (
            {"table": "t", "filter": "id > 1) ; DELETE FROM t; SELECT (1"},
            "the export filter must be one condition: a ')' closes a parenthesis it did not open",
        ),
    ],
)
def test_sql_that_breaks_out_of_its_parenthesis_is_refused_not_run_in_part(
    store, settings, people, tmp_path, source, says
):
    before = digest(people / "data.db")
    out = tmp_path / "out.csv"
    status, job_id = run_job(store, settings, export(out, source))
    assert status is S.FINISHED_WITH_ERRORS
    assert journal_error(store, job_id) == says
    assert not out.exists() and not list(tmp_path.glob("out.csv*"))
    assert digest(people / "data.db") == before


@pytest.mark.parametrize(
    "source",
    [
        {"query": "SELECT ')' AS \"(\", [a;b] FROM (SELECT 1 AS [a;b]) -- ) ;"},
        {"table": "t", "filter": "name <> ';)' /* ) ; */"},
    ],
)
def test_parentheses_and_semicolons_in_strings_names_and_comments_are_no_statement_of_their_own(
    store, settings, people, tmp_path, source
):
    status, job_id = run_job(store, settings, export(tmp_path / "out.csv", source))
    assert status is S.FINISHED, journal_error(store, job_id)


def test_a_column_whose_values_change_type_between_chunks_is_exported_whole(
    store, settings, data_dir, tmp_path
):
    """The driver types a query's columns from its first rows: NULLs first and text later, integers
    then reals, must not fail the run."""
    rows = [(i, None if i <= 60 else f"late {i}", i if i <= 80 else i + 0.5) for i in range(1, 101)]
    fill(data_dir, "(id INTEGER PRIMARY KEY, note TEXT, x)", rows)
    for source in ({"table": "t"}, {"table": "t", "order_by": ["id"]}, {"query": "SELECT * FROM t"}):
        out = tmp_path / "out.csv"
        status, job_id = run_job(store, settings, export(out, source, chunk_rows=25))
        assert status is S.FINISHED, journal_error(store, job_id)
        lines = [line.split(",") for line in out.read_text().splitlines()[1:]]
        assert [(int(i), n or None, float(x)) for i, n, x in lines] == rows, source
        assert lines[0] == ["1", "", "1"]


@pytest.mark.parametrize("declared", ["", "NUMERIC", "INTEGER"])
def test_integers_among_reals_are_written_as_integers_wherever_chunks_are_cut_so_a_resume_is_exact(
    store, settings, data_dir, tmp_path, monkeypatch, declared
):
    """SQLite keeps 7 as an integer beside 7.5 in a column without REAL affinity. Read in a chunk
    that holds a real, the driver would make it 7.0, and where chunks are cut depends on where the
    run (re)started: a resumed export wrote other bytes than an uninterrupted one."""
    monkeypatch.setattr(export_readers, "CHUNK_BYTES", 32 * 1024)  # chunks cut by size, not by rows
    big = 2**53 + 1  # no float holds it
    rows = [(i, "x" * 60, big if i == 10 else i + 0.5 if i % 1700 == 0 else i) for i in range(1, 6001)]
    fill(data_dir, f"(id INTEGER PRIMARY KEY, pad TEXT, x {declared})", rows)
    reference, out = tmp_path / "reference.csv", tmp_path / "out.csv"
    run_job(store, settings, export(reference, chunk_rows=1000))
    values = [line.rsplit(",", 1)[1] for line in reference.read_text().splitlines()[1:]]
    assert values == [str(x) for _, _, x in rows]  # 7 as 7, 1700.5 as 1700.5, 2**53 + 1 whole
    assert pause_every_chunk(store, settings, export(out, chunk_rows=1000), out) >= 4
    assert out.read_bytes() == reference.read_bytes()
    comma = tmp_path / "comma.csv"
    run_job(
        store, settings, export(comma, chunk_rows=1000, format={"delimiter": ";", "decimal_separator": ","})
    )
    assert [line.rsplit(";", 1)[1] for line in comma.read_text().splitlines()[1:]][1699:1701] == [
        "1700,5",
        "1701",
    ]


def test_real_values_among_text_in_a_column_are_written_exactly(store, settings, data_dir, tmp_path):
    """The driver writes a REAL as 7 digits (1.234568e+05) in a column it typed as text because
    the column mixes types; such columns are read as SQLite's exact text instead."""
    reals = [123456.789, 0.1, 0.30000000000000004, 1234567890123.0, 98765.4321, -2.5e-7]
    rows = [(i, reals[i % len(reals)] if i % 40 else "n/a", i) for i in range(1, 121)]
    fill(data_dir, "(id INTEGER PRIMARY KEY, price REAL, n)", rows)
    for source in ({"table": "t"}, {"table": "t", "order_by": ["id"]}, {"query": "SELECT * FROM t"}):
        out = tmp_path / "out.csv"
        status, job_id = run_job(store, settings, export(out, source, chunk_rows=25))
        assert status is S.FINISHED, journal_error(store, job_id)
        prices = [line.split(",")[1] for line in out.read_text().splitlines()[1:]]
        assert [p if p == "n/a" else float(p) for p in prices] == [r[1] for r in rows], source
        assert "123456.789" in prices and "0.30000000000000004" in prices


def test_blobs_are_written_as_hex_as_postgresql_writes_bytea_and_the_other_values_of_their_column_as_they_are(
    store, settings, data_dir, tmp_path
):
    """A BLOB has no text: it is written as \\x and its bytes in hex, as PostgreSQL writes a bytea,
    also in a column that holds texts and numbers too (which the driver would read as bytes)."""

    def mixed(i: int) -> tuple[Any, str]:  # (stored, written)
        return (f"t{i}", f"t{i}") if i % 3 else (b"", "\\x") if i % 5 else (2.5, "2.5")

    rows = [(i, b"\x00\xffA" if i % 2 else None, mixed(i)[0]) for i in range(1, 31)]
    fill(data_dir, "(id INTEGER PRIMARY KEY, b BLOB, mixed)", rows)
    blob = "\\x00ff41"
    expected = "".join(f"{i},{blob if i % 2 else ''},{mixed(i)[1]}\n" for i in range(1, 31))
    for source in ({"table": "t"}, {"table": "t", "order_by": ["id"]}, {"query": "SELECT * FROM t"}):
        out = tmp_path / "out.csv"
        status, job_id = run_job(store, settings, export(out, source, chunk_rows=7))
        assert status is S.FINISHED, journal_error(store, job_id)
        assert out.read_text() == "id,b,mixed\n" + expected, source


def test_an_export_ordered_by_a_column_of_mixed_values_keeps_sqlites_order_and_every_row_once(
    store, settings, data_dir, tmp_path
):
    """A column read as exact text (reals among text) is still ordered as SQLite orders its values,
    also when that reading starts in the middle of the export."""
    rows = [(i, i // 2 if i % 2 else i / 2 + 0.123456789) for i in range(1, 40_001)]
    rows += [(40_000 + j, f"t{j}") for j in range(1, 51)]
    fill(data_dir, "(id INTEGER PRIMARY KEY, v)", rows)
    out = tmp_path / "out.csv"
    status, job_id = run_job(store, settings, export(out, {"table": "t", "order_by": ["v"]}))
    assert status is S.FINISHED, journal_error(store, job_id)
    ids = [int(line.split(",")[0]) for line in out.read_text().splitlines()[1:]]
    with sqlite3.connect(data_dir / "data.db") as c:
        assert ids == [r[0] for r in c.execute("SELECT id FROM t ORDER BY v, rowid")]


def pause_every_chunk(store, settings, definition, out: Path, between=None) -> int:
    """Run, pausing at each chunk boundary and starting again, until finished; returns the pauses.
    ``between(pause_no)`` runs while the job is paused."""
    pauses = []

    def pause(progress):
        if store.status_of(progress.job_id) is S.RUNNING:
            store.transition(progress.job_id, A.PAUSE, actor="tester")

    status, job_id = run_job(store, settings, definition, on_progress=pause)
    while status is S.PAUSED:
        pauses.append(job_id)
        assert not out.exists(), "the final name appears only when the file is complete"
        assert len(list(out.parent.glob(out.name + ".part*[0-9]"))) == 1  # (and its resume keys)
        if between is not None:
            between(len(pauses))
        store.transition(job_id, A.START, actor="tester")
        status, _ = run_job(store, settings, job_id, on_progress=pause)
    assert status is S.FINISHED and len(store.runs_of(job_id)) == 1
    assert not list(out.parent.glob(out.name + ".part*")), "no partial file, no resume key left behind"
    assert "run.paused" in codes(store, job_id) and "run.resumed" in codes(store, job_id)
    assert "export.restarted" not in codes(store, job_id), "the rows read again were the file's"
    return len(pauses)


@pytest.mark.parametrize(
    "source",
    [
        {"table": "t"},
        {"table": "t", "filter": "id % 3 <> 0", "limit": 450},
        {"table": "t", "order_by": ["score"]},
        {"query": "SELECT id, note FROM t ORDER BY id DESC"},
    ],
)
@pytest.mark.parametrize("gz", [False, True])
def test_pause_and_resume_at_every_chunk_neither_loses_nor_repeats_a_row(
    store, settings, data_dir, tmp_path, source, gz
):
    many(data_dir, 1000)
    reference, out = tmp_path / "reference.csv", tmp_path / "out.csv"
    fmt = {"gzip": gz}
    run_job(store, settings, export(reference, source, chunk_rows=97, format=fmt))
    assert pause_every_chunk(store, settings, export(out, source, chunk_rows=97, format=fmt), out) >= 4
    content = gzip.decompress if gz else bytes  # gzip members may be cut elsewhere after a resume
    assert content(out.read_bytes()) == content(reference.read_bytes())


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-32"])
@pytest.mark.parametrize("source", [{"table": "t"}, {"query": "SELECT id, note FROM t ORDER BY id DESC"}])
def test_an_encoding_with_a_byte_order_mark_writes_it_once_at_the_start_also_through_pauses(
    store, settings, data_dir, tmp_path, encoding, source
):
    many(data_dir, 300)
    reference, out = tmp_path / "reference.csv", tmp_path / "out.csv"
    fmt = {"encoding": encoding}
    run_job(store, settings, export(reference, source, chunk_rows=97, format=fmt))
    text = reference.read_bytes().decode(encoding)
    assert "\ufeff" not in text and text.startswith("id,") and text.count("\n") == 301
    assert pause_every_chunk(store, settings, export(out, source, chunk_rows=97, format=fmt), out) >= 2
    assert out.read_bytes() == reference.read_bytes()


@pytest.mark.parametrize("source", [{"table": "t"}, {"table": "t", "filter": "id % 3 <> 0"}])
def test_a_resume_in_rowid_order_is_not_shifted_by_rows_inserted_and_deleted_before_it(
    store, settings, data_dir, tmp_path, source
):
    many(data_dir, 1000)
    reference, out = tmp_path / "reference.csv", tmp_path / "out.csv"
    run_job(store, settings, export(reference, source, chunk_rows=100))
    expected = reference.read_text().splitlines()

    def meddle(pause_no: int) -> None:
        with sqlite3.connect(data_dir / "data.db") as c:
            c.execute("INSERT INTO t (id, name) VALUES (?, 'early')", (-pause_no,))  # before the resume point
            c.execute("DELETE FROM t WHERE id IN (?, ?)", (pause_no, pause_no + 1))  # already written

    assert pause_every_chunk(store, settings, export(out, source, chunk_rows=100), out, between=meddle) >= 4
    assert out.read_text().splitlines() == expected


def test_rowids_with_gaps_and_sparse_stretches_are_all_exported_in_order_and_resume_by_row(
    store, settings, data_dir, tmp_path
):
    """Segments are cut by rowid value: dense ids, ids ten apart, a jump to 10**12, deleted rows."""
    ids = [*range(1, 3001), *range(3010, 40000, 10), *range(10**12, 10**12 + 500)]
    fill(data_dir, "(id INTEGER PRIMARY KEY, name TEXT)", [(i, f"n{i}") for i in ids])
    with sqlite3.connect(data_dir / "data.db") as c:
        c.execute("DELETE FROM t WHERE id % 97 = 0")
        expected = ["id,name", *(f"{i},{n}" for i, n in c.execute("SELECT id, name FROM t ORDER BY id"))]
    out = tmp_path / "out.csv"
    status, _ = run_job(store, settings, export(out, chunk_rows=500))
    assert status is S.FINISHED
    assert out.read_text().splitlines() == expected
    paused = tmp_path / "paused.csv"
    assert pause_every_chunk(store, settings, export(paused, chunk_rows=500), paused) >= 4
    assert paused.read_text().splitlines() == expected


def test_cancel_stops_at_a_chunk_boundary_and_removes_the_partial_file(store, settings, data_dir, tmp_path):
    many(data_dir, 300)

    def cancel(progress):
        if store.status_of(progress.job_id) is S.RUNNING:
            store.transition(progress.job_id, A.CANCEL, actor="tester")

    out = tmp_path / "out.csv"
    status, job_id = run_job(store, settings, export(out, chunk_rows=50), on_progress=cancel)
    assert status is S.CANCELED and store.runs_of(job_id)[-1].outcome is S.CANCELED
    assert not out.exists() and not list(tmp_path.glob("out.csv.part*"))


def test_a_partial_file_shorter_than_its_checkpoint_makes_the_resume_start_over(
    store, settings, data_dir, tmp_path, monkeypatch
):
    """What a machine crash could leave (bytes the store counted, lost from the disk)."""
    monkeypatch.setattr(exporter, "CHECKPOINT_SECONDS", 0.0)
    many(data_dir, 300)
    out, reference = tmp_path / "out.csv", tmp_path / "reference.csv"
    run_job(store, settings, export(reference, chunk_rows=50))

    def pause(progress):
        if store.status_of(progress.job_id) is S.RUNNING and progress.counters.written >= 150:
            store.transition(progress.job_id, A.PAUSE, actor="tester")

    status, job_id = run_job(store, settings, export(out, chunk_rows=50), on_progress=pause)
    assert status is S.PAUSED
    (part,) = tmp_path.glob("out.csv.part*[0-9]")
    part.write_bytes(part.read_bytes()[:100])
    store.transition(job_id, A.START, actor="tester")
    assert run_job(store, settings, job_id)[0] is S.FINISHED
    assert out.read_bytes() == reference.read_bytes()
    resumed = [line for line in store.journal_lines(job_id) if line.code == "run.resumed"]
    assert resumed[-1].params["record_no"] == 0 and "shorter than recorded" in resumed[-1].params["reason"]


# ---------------------------------------------------------------- the real worker, in subprocesses


def job_state(data_dir: Path, job_id: int) -> tuple[S, int, str | None]:
    """(status, rows written, the worker holding it)"""
    store = Store.open(f"sqlite:///{data_dir / 'impex.db'}")
    try:
        job = store.job(job_id)
        run = store.run(job.current_run_id) if job.current_run_id else None
        return job.status, (run.counters.written if run else 0), (run.worker if run else None)
    finally:
        store.close()


def worker(env: dict[str, str], *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*IMPEX, "worker", *extra], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def test_kill_9_at_random_instants_then_resume_gives_the_uninterrupted_file(
    store, settings, data_dir, tmp_path, impex_env
):
    many(data_dir, 800_000)
    reference, out = tmp_path / "reference.csv", tmp_path / "out.csv"
    source = {"table": "t", "filter": "id % 5 <> 0"}
    run_job(store, settings, export(reference, source, chunk_rows=500, format={"gzip": True}))
    job_id = submit(store, export(out, source, chunk_rows=500, format={"gzip": True}))
    env = {**impex_env, "IMPEX_LEASE_SECONDS": "0.3", "IMPEX_HEARTBEAT_SECONDS": "0.05"}
    rng = random.Random(20261124)
    kills, written = 0, []
    while kills < 12:
        proc = worker(env, "--exit-when-idle")
        deadline = time.monotonic() + 60
        while proc.poll() is None:
            status, _, holder = job_state(data_dir, job_id)
            if status is S.RUNNING and holder and holder.endswith(f":{proc.pid}"):
                break
            assert time.monotonic() < deadline, "the worker never took the job"
            time.sleep(0.01)
        # Mostly once this attempt has written something (a loaded machine spends the first
        # instants starting up), sometimes while it still starts or resumes.
        if rng.random() < 0.75:
            before = written[-1] if written else 0
            while proc.poll() is None and job_state(data_dir, job_id)[1] <= before:
                assert time.monotonic() < deadline, "the worker never wrote a thing"
                time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.6))  # mid-chunk, mid-write, mid-checkpoint…
        if proc.poll() is not None:
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        written.append(job_state(data_dir, job_id)[1])
    assert kills >= 5 and len(set(written)) >= 3, f"{kills} kills at {written} rows; make the table larger"
    time.sleep(0.4)  # let the last lease lapse
    subprocess.run(
        [*IMPEX, "worker", "--exit-when-idle"], env=env, check=True, capture_output=True, timeout=120
    )
    assert job_state(data_dir, job_id)[0] is S.FINISHED
    assert gzip.decompress(out.read_bytes()) == gzip.decompress(reference.read_bytes())
    assert not list(tmp_path.glob("out.csv.part*"))


def test_sigterm_stops_at_a_chunk_boundary_as_server_shutdown_and_resumes(
    store, settings, data_dir, tmp_path, impex_env
):
    many(data_dir, 150_000)  # SIGTERM lands once rows are seen written: 10,000-25,000 of them here
    reference, out = tmp_path / "reference.csv", tmp_path / "out.csv"
    run_job(store, settings, export(reference, chunk_rows=300))
    job_id = submit(store, export(out, chunk_rows=300))
    proc = worker(impex_env)
    deadline = time.monotonic() + 60
    while job_state(data_dir, job_id)[1] == 0:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    status, written, _ = job_state(data_dir, job_id)
    assert status is S.SERVER_SHUTDOWN and 0 < written < 150_000
    assert not out.exists()
    subprocess.run([*IMPEX, "worker", "--exit-when-idle"], env=impex_env, check=True, capture_output=True)
    assert job_state(data_dir, job_id)[0] is S.FINISHED
    assert out.read_bytes() == reference.read_bytes()
    lines = store.journal_lines(job_id, limit=10**6)
    journal = [line.code for line in lines]
    assert "run.shutdown" in journal and journal.count("run.resumed") == 1
    assert next(line for line in lines if line.code == "run.shutdown").params["signal"] == "SIGTERM"
    assert store.runs_of(job_id)[-1].counters.written == 150_000


def test_a_real_among_the_dates_of_a_date_column_comes_out_exact(store, settings, data_dir, tmp_path):
    """A DATE column (as impex declares one in SQLite) holds ISO text, and may hold a REAL that some
    other program stored there: it comes out whole, not as the driver's 7 digits."""
    fill(
        data_dir,
        "(id INTEGER PRIMARY KEY, day DATE)",
        [(1, "2024-01-31"), (2, 123456.789), (3, float("inf")), (4, None)],
    )
    out = tmp_path / "out.csv"
    assert run_job(store, settings, export(out))[0] is S.FINISHED
    assert out.read_text() == "id,day\n1,2024-01-31\n2,123456.789\n3,Infinity\n4,\n"
