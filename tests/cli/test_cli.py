"""The `impex` command as a user types it."""

import gzip
import json
import os
import sqlite3
import stat
import subprocess

import pytest
from typer.testing import CliRunner

from impex.cli.main import app
from impex.domain.status import A
from support import IMPEX, write
from web.conftest import import_definition

PEOPLE = "id,name,age\n1,Ann,30\n2,Bob,x\n3,Cy,40\n"
JOB = """kind: import
name: people
source: people.csv
target: {{table: people}}
columns:
  - {{name: id, type: integer, required: true}}
  - {{name: name}}
  - {{name: age, type: integer}}
{extra}
"""


@pytest.fixture
def cli(data_dir):
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, ["--data-dir", str(data_dir), *args], catch_exceptions=False)

    return invoke


@pytest.fixture
def job_file(tmp_path):
    write(tmp_path / "people.csv", PEOPLE)
    return write(tmp_path / "job.yaml", JOB.format(extra=""))


def test_run_exits_0_when_finished_and_prints_the_counters(cli, job_file):
    result = cli("run", str(job_file), "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["status"] == "finished"
    assert data["run"]["counters"]["inserted"] == 2 and data["run"]["counters"]["rejected"] == 1


def test_run_exits_1_when_finished_with_errors_and_says_why(cli, tmp_path):
    write(tmp_path / "people.csv", PEOPLE)
    job = write(tmp_path / "job.yaml", JOB.format(extra="errors: {max_rejects: 0}"))
    result = cli("run", str(job))
    assert result.exit_code == 1
    assert "why: " in result.stdout and "1 rejected" in " ".join(result.stdout.split())
    assert " ".join(cli("jobs", "show", "1").stdout.split()).count("why: ") == 1


def test_a_run_that_could_not_start_says_why_in_text_and_json(cli, tmp_path):
    empty = write(tmp_path / "people.csv", "")  # found out by the run, not before
    job = write(tmp_path / "job.yaml", JOB.format(extra=""))
    result = cli("run", str(job))
    assert result.exit_code == 1
    why = f"Technical error: {empty}: the file is empty"
    assert f"why: {why}" in result.stdout
    data = json.loads(cli("run", str(job), "--json").stdout)
    assert data["status"] == "finished_with_errors"
    assert [line.split(":")[:3] for line in data["why"]] == [why.split(":")[:3]]


def test_a_job_file_whose_source_is_not_text_is_refused_before_a_job_is_saved(cli, tmp_path):
    picture = tmp_path / "people.csv"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    result = cli("run", str(write(tmp_path / "job.yaml", JOB.format(extra=""))), "--json")
    assert result.exit_code == 2
    said = json.loads(result.stdout)["error"]
    assert said["code"] == "source_not_text"
    assert said["message"].startswith(f"{picture}: not a text file: byte 0x00 at line 3, column 1")
    assert "no job" in cli("jobs", "show", "1").stderr


def test_a_job_file_whose_source_is_missing_is_refused_before_a_job_is_saved(cli, tmp_path):
    job = write(tmp_path / "job.yaml", JOB.format(extra="").replace("people.csv", "gone.csv"))
    result = cli("run", str(job))
    assert result.exit_code == 2
    assert f"{tmp_path / 'gone.csv'}: source file not found" in result.stderr
    assert "no job" in cli("jobs", "show", "1").stderr


def test_a_run_that_finished_says_no_why(cli, job_file):
    result = cli("run", str(job_file), "--json")
    assert "why" not in json.loads(result.stdout)


def test_a_bad_definition_names_the_file_the_key_and_what_is_expected(cli, tmp_path):
    job = write(
        tmp_path / "bad.yaml",
        "kind: import\nname: x\nsource: a.csv\ntarget: {table: t}\n"
        "format: {delimiter: ';;'}\nreconciliaton: {}\n",
    )
    result = cli("run", str(job))
    assert result.exit_code == 5
    assert "bad.yaml, line 5: format.delimiter: expected a single ASCII character, got ';;'" in result.stderr
    assert "bad.yaml, line 6: reconciliaton: unknown key: did you mean 'reconciliation'?" in result.stderr


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (
            "kind: import\nname: x\nsource: a.csv\ntarget: {table: t}\n"
            "columns: [{name: id}]\nreconciliation: {keys: [idd]}\n",
            "job.yaml, line 6: reconciliation.keys: idd not among the declared columns (id)",
        ),
        ("", "job.yaml: the file is empty: expected a job definition (kind, name, source, …)"),
        (
            "name: Ren\xe9e\n".encode("latin-1"),
            "job.yaml: not UTF-8 text (byte 0xe9 at line 1): save it as UTF-8",
        ),
        (None, "job.yaml: a folder, not a job definition file"),
    ],
)
def test_a_job_file_that_cannot_be_used_says_why_in_one_line(cli, tmp_path, content, said):
    job = tmp_path / "job.yaml"
    if content is None:
        job.mkdir()
    elif isinstance(content, bytes):
        job.write_bytes(content)
    else:
        job.write_text(content)
    result = cli("run", str(job))
    assert result.exit_code == 5
    assert " ".join(result.stderr.split()) == f"error: {tmp_path}/{said}"


def test_names_and_records_holding_brackets_are_shown_as_they_are(cli, tmp_path):
    """Rich reads [red] or [/] as markup: user data must never be taken for it."""
    write(tmp_path / "people.csv", "id,name,age\n1,Ann,30\n2,see [/] or [red]this[/red],x\n")
    job = write(
        tmp_path / "job.yaml", JOB.format(extra="").replace("name: people", 'name: "nightly [/] load"')
    )
    result = cli("run", str(job))
    assert result.exit_code == 0
    assert "job 1: nightly [/] load" in result.stdout
    for command in (("jobs", "list"), ("jobs", "show", "1")):
        shown = cli(*command)
        assert shown.exit_code == 0 and "nightly [/] load" in shown.stdout
    rejects = cli("jobs", "rejects", "1")
    assert rejects.exit_code == 0
    assert "[red]this[/red]" in "".join(rejects.stdout.split())


def test_submit_then_list_show_and_journal(cli, job_file):
    job_id = json.loads(cli("submit", str(job_file), "--json").stdout)["id"]
    listed = json.loads(cli("jobs", "list", "--json").stdout)
    assert [(j["id"], j["status"], j["actions"]) for j in listed] == [(job_id, "queued", ["pause", "cancel"])]
    shown = json.loads(cli("jobs", "show", str(job_id), "--json").stdout)
    assert shown["definition"]["target"]["table"] == "people"
    journal = [json.loads(line) for line in cli("jobs", "journal", str(job_id), "--json").stdout.splitlines()]
    assert [line["code"] for line in journal] == ["job.created", "job.transition"]


def test_an_illegal_action_is_refused_with_a_clear_message(cli, job_file):
    cli("run", str(job_file))
    result = cli("jobs", "pause", "1")
    assert result.exit_code == 6
    assert "cannot pause job 1: it is finished (operator actions allowed now: start)" in result.stderr


def test_draft_then_start_then_cancel(cli, job_file):
    job_id = json.loads(cli("submit", str(job_file), "--draft", "--json").stdout)["id"]
    assert cli("jobs", "start", str(job_id)).stdout.strip() == f"job {job_id}: editing → queued"
    assert cli("jobs", "cancel", str(job_id)).stdout.strip() == f"job {job_id}: queued → canceled"


def test_rejects_export_is_the_source_format_with_a_reason_column(cli, job_file, tmp_path):
    cli("run", str(job_file))
    out = tmp_path / "fix.csv"
    assert cli("jobs", "rejects", "1", "--export", str(out)).exit_code == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "id,name,age,reason"
    assert lines[1].startswith("2,Bob,x,") and "type_error" in lines[1]


def test_rejects_list_and_export_take_only_the_reason_and_column_asked_for(cli, tmp_path):
    write(tmp_path / "people.csv", "id,name,age\n1,Ann,30\n2,Bob,x\n,Cy,40\n4,Di,forty\nfive,Ed,50\n")
    cli("run", str(write(tmp_path / "job.yaml", JOB.format(extra=""))))
    out = tmp_path / "fix.csv"
    result = cli("jobs", "rejects", "1", "--reason", "type_error", "--column", "age", "--export", str(out))
    assert result.exit_code == 0 and f"2 rejects written to {out}" in " ".join(result.stdout.split())
    assert [line.split(",")[:3] for line in out.read_text().splitlines()[1:]] == [
        ["2", "Bob", "x"],
        ["4", "Di", "forty"],
    ]
    listed = json.loads(cli("jobs", "rejects", "1", "--column", "id", "--json").stdout)
    assert [(r["record_no"], r["reason"]) for r in listed] == [(3, "missing_required"), (5, "type_error")]
    listed = json.loads(cli("jobs", "rejects", "1", "--reason", "type_error", "--json").stdout)
    assert [r["record_no"] for r in listed] == [2, 4, 5]
    unknown = cli("jobs", "rejects", "1", "--reason", "typo")
    assert unknown.exit_code == 2 and "type_error" in unknown.stderr


def test_show_prints_the_definition_as_compact_yaml_of_the_keys_set(cli, tmp_path):
    write(tmp_path / "people.csv", PEOPLE)
    cli("run", str(write(tmp_path / "job.yaml", JOB.format(extra="errors: {max_rejects: 5}"))))
    shown = cli("jobs", "show", "1").stdout
    assert shown.split("definition:\n", 1)[1].splitlines() == [
        "  kind: import",
        "  name: people",
        f"  source: {tmp_path / 'people.csv'}",
        "  target: {table: people}",
        "  columns:",
        "  - {name: id, type: integer, required: true}",
        "  - {name: name}",
        "  - {name: age, type: integer}",
        "  errors: {max_rejects: 5}",
    ]


def test_rejects_export_keeps_the_source_encoding_delimiter_and_quote(cli, tmp_path):
    (tmp_path / "people.csv").write_bytes("id;Prénom\n1;José\nzwei;'Zoë; die Ältere'\n".encode("cp1252"))
    job = write(
        tmp_path / "job.yaml",
        "kind: import\nname: p\nsource: people.csv\ntarget: {table: p}\n"
        "format: {delimiter: ';', quote: \"'\", encoding: cp1252}\n"
        "columns: [{name: id, type: integer}, {name: prenom, source: 2}]\n",
    )
    cli("run", str(job))
    out = tmp_path / "fix.csv"
    assert cli("jobs", "rejects", "1", "--export", str(out)).exit_code == 0
    text = out.read_bytes().decode("cp1252").splitlines()
    assert text[0] == "id;Prénom;reason"
    assert text[1].startswith("zwei;'Zoë; die Ältere';'type_error: line 3")


@pytest.mark.parametrize("header", [True, False])
def test_rejects_exported_fixed_and_imported_again_with_the_same_definition_all_go_in(cli, tmp_path, header):
    """skip_lines skips the export's first lines as it skipped the source's."""
    rows = "1,a,5\n2,b,x\n3,c,7\n4,d,y\n"
    write(tmp_path / "data.csv", "EXPORT 2024-01-01\n" + ("id,name,qty\n" if header else "") + rows)
    definition = (
        "kind: import\nname: q\nsource: data.csv\ntarget: {table: q}\n"
        f"format: {{skip_lines: 1, header: {str(header).lower()}}}\n"
        "columns: [{name: id, type: integer, source: 1}, {name: name, source: 2},"
        " {name: qty, type: integer, source: 3}]\n"
    )
    job = write(tmp_path / "job.yaml", definition)
    cli("run", str(job))
    assert cli("jobs", "rejects", "1", "--export", str(tmp_path / "fix.csv")).exit_code == 0
    fixed = (tmp_path / "fix.csv").read_text().replace("2,b,x", "2,b,6").replace("4,d,y", "4,d,8")
    (tmp_path / "data.csv").write_text(fixed)
    again = cli("run", str(job))
    assert again.exit_code == 0, again.stdout
    with sqlite3.connect(tmp_path / "impex-data" / "data.db") as db:
        assert db.execute("SELECT id, qty FROM q ORDER BY id").fetchall() == [(1, 5), (2, 6), (3, 7), (4, 8)]


def test_a_record_whose_quote_never_closes_is_exported_closed_then_fixed_and_imported_again(cli, tmp_path):
    write(tmp_path / "data.csv", 'id,name,qty\n1,a,5\n2,"b,x\n3,c,y\n')
    job = write(
        tmp_path / "job.yaml",
        "kind: import\nname: q\nsource: data.csv\ntarget: {table: q}\n"
        "columns: [{name: id, type: integer}, {name: name}, {name: qty, type: integer}]\n",
    )
    cli("run", str(job))
    assert cli("jobs", "rejects", "1", "--export", str(tmp_path / "fix.csv")).exit_code == 0
    exported = (tmp_path / "fix.csv").read_text()
    assert '\n2,"b,x","unterminated_quote: line 3: ' in exported
    assert "the export added a closing quote at the end of this record" in exported
    assert '\n3,c,y,"type_error: line 4: ' in exported
    fixed = exported.replace('2,"b,x"', '2,"b",6').replace("3,c,y", "3,c,7")
    (tmp_path / "data.csv").write_text(fixed)
    again = cli("run", str(job))
    assert again.exit_code == 0, again.stdout
    with sqlite3.connect(tmp_path / "impex-data" / "data.db") as db:
        assert db.execute("SELECT id, name, qty FROM q ORDER BY id").fetchall() == [
            (1, "a", 5),
            (2, "b", 6),
            (3, "c", 7),
        ]


def test_rejects_export_to_an_unwritable_place_says_so_and_leaves_nothing(cli, job_file, tmp_path):
    cli("run", str(job_file))
    (tmp_path / "a-file").write_text("")
    result = cli("jobs", "rejects", "1", "--export", str(tmp_path / "a-file" / "fix.csv"))
    assert result.exit_code == 2
    assert "cannot write" in result.stderr and "a-file/fix.csv" in result.stderr
    assert (tmp_path / "a-file").read_text() == ""


def test_rejects_export_to_a_named_pipe_is_refused_and_leaves_the_pipe(cli, job_file, tmp_path):
    cli("run", str(job_file))
    pipe = tmp_path / "fix.csv"
    os.mkfifo(pipe)
    result = cli("jobs", "rejects", "1", "--export", str(pipe))
    assert result.exit_code == 2
    assert f"cannot write the rejects file {pipe}: it is a named pipe (FIFO), not a file" in result.stderr
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode)


def test_rejects_export_through_a_link_writes_the_file_and_keeps_the_link(cli, job_file, tmp_path):
    cli("run", str(job_file))
    (tmp_path / "fixes").mkdir()
    link = tmp_path / "fix.csv"
    link.symlink_to(tmp_path / "fixes" / "people.csv")  # nothing there yet
    assert cli("jobs", "rejects", "1", "--export", str(link)).exit_code == 0
    assert link.is_symlink()
    assert (tmp_path / "fixes" / "people.csv").read_text().startswith("id,name,age,reason")


def test_quick_import_from_a_named_pipe_says_to_save_the_data_first(cli, tmp_path):
    pipe = tmp_path / "feed.csv"
    os.mkfifo(pipe)  # nobody writes to it: opening it to read would wait for ever
    result = cli("import", str(pipe), "--table", "t")
    assert result.exit_code == 2
    assert "the source is a named pipe (FIFO), not a file" in result.stderr
    assert "save the data to a file first" in result.stderr and str(pipe) in result.stderr
    assert "Errno" not in result.stderr


@pytest.mark.parametrize(
    ("text", "found", "expected"),
    [("id,name\n1,Ann,x\n2,Bob,y\n", 2, 3), ("id,name,extra\n1,Ann\n2,Bob\n", 3, 2)],
)
def test_quick_import_of_a_header_that_does_not_fit_the_records_says_so_and_writes_nothing(
    cli, data_dir, tmp_path, text, found, expected
):
    data = write(tmp_path / "people.csv", text)
    result = cli("import", str(data), "--table", "t")
    assert result.exit_code == 2
    assert f"people.csv: line 1 has {found} fields, the records below it have {expected}" in result.stderr
    assert "--no-header" in result.stderr
    with sqlite3.connect(data_dir / "data.db") as db:
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 't'").fetchall() == []


@pytest.mark.parametrize(
    ("first", "said"),
    [
        (b"id,na\x00me", "line 1 cannot be read as a header: line 1: a NUL byte (0x00) at column 6"),
        (b"id,n\xe4me", "line 1 cannot be read as a header: line 1: invalid UTF-8 byte 0xe4 at column 5"),
        (b'id,"name', "line 1 cannot be read as a header: line 1: unterminated quote"),
    ],
)
def test_quick_import_of_a_header_line_that_cannot_be_read_says_why_and_writes_nothing(
    cli, data_dir, tmp_path, first, said
):
    data = write(tmp_path / "people.csv", first + b"\n1,Ann\n2,Bob\n")
    result = cli("import", str(data), "--table", "t", "--encoding", "utf-8")
    assert result.exit_code == 2
    assert f"people.csv: {said}" in result.stderr and "--no-header" in result.stderr
    with sqlite3.connect(data_dir / "data.db") as db:
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 't'").fetchall() == []


def test_quick_import_without_a_header_rejects_a_first_line_of_another_field_count(cli, data_dir, tmp_path):
    data = write(tmp_path / "people.csv", "id,name,extra\n1,Ann\n2,Bob\n")
    result = cli("import", str(data), "--table", "t", "--no-header")
    assert result.exit_code == 0
    with sqlite3.connect(data_dir / "data.db") as db:
        assert db.execute("SELECT * FROM t ORDER BY 1").fetchall() == [(1, "Ann"), (2, "Bob")]


def test_quick_import_of_standard_input_says_to_save_the_data_first(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("import", "-", "--table", "t")
    assert result.exit_code == 2
    assert "impex does not read standard input" in result.stderr
    assert "save the data to a file first" in result.stderr


def test_quick_import_of_an_excel_file_starting_sep_takes_its_delimiter_and_its_real_header(
    cli, data_dir, tmp_path
):
    data = write(tmp_path / "excel.csv", "sep=,\r\nid,name\r\n1,Ann\r\n2,Bob\r\n")
    result = cli("import", str(data), "--table", "t")
    assert result.exit_code == 0
    with sqlite3.connect(data_dir / "data.db") as db:
        assert db.execute("SELECT id, name FROM t ORDER BY id").fetchall() == [(1, "Ann"), (2, "Bob")]


def test_quick_import_detects_the_format_and_shows_it(cli, tmp_path):
    data = write(tmp_path / "semi.csv", "id;name\n1;Ann\n2;Bob\n")
    result = cli("import", str(data), "--table", "semi", "--key", "id")
    assert result.exit_code == 0
    assert "delimiter ';'" in result.stdout and "id (integer)" in result.stdout


def test_quick_import_of_a_german_export_stores_typed_amounts_and_dates(cli, data_dir, tmp_path):
    data = write(
        tmp_path / "kunden.csv",
        "Kunde;Betrag;Datum;Stadt\n1;1.234,50;24.12.2025;Köln\n2;99,90;01.01.2026;München\n".encode("cp1252"),
    )
    result = cli("import", str(data), "--table", "kunden", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["run"]["counters"]["rejected"] == 0
    assert json.loads(result.stdout)["detected"] == {  # what the line below says, for a script
        "delimiter": ";",
        "encoding": "cp1252",
        "skip_lines": 0,
        "header": True,
        "decimal_separator": ",",
        "thousands_separator": ".",
        "date_format": "%d.%m.%Y",
        "timestamp_format": "%Y-%m-%d %H:%M:%S",
        "columns": [
            {"name": "kunde", "type": "integer"},
            {"name": "betrag", "type": "float"},
            {"name": "datum", "type": "date"},
            {"name": "stadt", "type": "string"},
        ],
    }
    assert cli("import", str(data), "--table", "shown").stdout.startswith(
        "detected: delimiter ';', encoding cp1252, header yes, decimal ',', thousands '.', dates %d.%m.%Y, "
        "4 columns: kunde (integer), betrag (float), datum (date %d.%m.%Y), stadt (string)"
    )
    with sqlite3.connect(data_dir / "data.db") as db:
        stored = "SELECT kunde, betrag, typeof(betrag), datum, stadt FROM kunden ORDER BY kunde"
        assert db.execute(stored).fetchall() == [
            (1, 1234.5, "real", "2025-12-24", "Köln"),
            (2, 99.9, "real", "2026-01-01", "München"),
        ]


@pytest.mark.parametrize(
    ("options", "stored"),
    [
        (["--null-value", "NULL"], [(1, None, None), (2, "NULL", 0), (3, "", None)]),
        (
            ["--null-value", "NULL", "--null-value", "", "--quoted-nulls"],
            [(1, None, None), (2, None, 0), (3, None, None)],
        ),
    ],
)
def test_quick_import_reads_a_bare_null_value_as_null_and_a_quoted_one_as_text_unless_told(
    cli, data_dir, tmp_path, options, stored
):
    data = write(tmp_path / "nulls.csv", 'id,note,n\n1,NULL,NULL\n2,"NULL",0\n3,"",\n')
    assert cli("import", str(data), "--table", "t", *options).exit_code == 0
    with sqlite3.connect(data_dir / "data.db") as db:
        assert db.execute("SELECT id, note, n FROM t ORDER BY id").fetchall() == stored


def test_quick_import_keeps_as_text_what_it_cannot_tell_and_says_which_option_tells(cli, data_dir, tmp_path):
    data = write(tmp_path / "us.csv", 'datum,betrag\n01/02/2025,"1.234"\n03/04/2025,"5.678"\n')
    said = " ".join(cli("import", str(data), "--table", "t").stdout.split())
    assert (
        "datum (string: dates, but day and month cannot be told apart: %d/%m/%Y or %m/%d/%Y?; "
        "give --date-format), "
        "betrag (string: numbers, but the decimal separator cannot be told ('1.234': 1.234 or 1234?); "
        "give --decimal-separator)"
    ) in said
    columns = json.loads(cli("import", str(data), "--table", "j", "--json").stdout)["detected"]["columns"]
    assert columns == [
        {
            "name": "datum",
            "type": "string",
            "kept_as_text": "dates, but day and month cannot be told apart: %d/%m/%Y or %m/%d/%Y?",
            "option": "--date-format",
        },
        {
            "name": "betrag",
            "type": "string",
            "kept_as_text": "numbers, but the decimal separator cannot be told ('1.234': 1.234 or 1234?)",
            "option": "--decimal-separator",
        },
    ]
    told = cli("import", str(data), "--table", "u", "--date-format", "%m/%d/%Y", "--decimal-separator", ",")
    assert "dates %m/%d/%Y" in told.stdout and "datum (date %m/%d/%Y), betrag (integer)" in told.stdout
    with sqlite3.connect(data_dir / "data.db") as db:
        assert db.execute("SELECT datum, betrag FROM u").fetchall() == [
            ("2025-01-02", 1234),
            ("2025-03-04", 5678),
        ]


def test_quick_import_reads_a_column_that_writes_its_dates_another_way_with_a_format_of_its_own(
    cli, data_dir, tmp_path
):
    data = write(
        tmp_path / "people.csv",
        "id;born;created\n1;05.01.1980;2024-01-05\n2;31.12.1979;2024-02-29\n3;15.06.1990;2023-12-31\n",
    )
    result = cli("import", str(data), "--table", "people")
    assert "born (date %d.%m.%Y), created (date %Y-%m-%d, its own format)" in " ".join(result.stdout.split())
    detected = json.loads(cli("import", str(data), "--table", "again", "--json").stdout)["detected"]
    assert detected["columns"][2] == {"name": "created", "type": "date", "date_format": "%Y-%m-%d"}
    with sqlite3.connect(data_dir / "data.db") as db:
        assert db.execute("SELECT born, created FROM people ORDER BY id").fetchall() == [
            ("1980-01-05", "2024-01-05"),
            ("1979-12-31", "2024-02-29"),
            ("1990-06-15", "2023-12-31"),
        ]


def test_quick_import_of_a_swiss_file_with_utc_offsets_stores_amounts_and_moments_in_utc(
    cli, data_dir, tmp_path
):
    data = write(
        tmp_path / "zahlungen.csv",
        "nr,betrag,bezahlt\n1,1'234.50,2024-01-05T10:30:00Z\n2,-99.90,2024-07-05T10:30:00.25+02:00\n",
    )
    result = cli("import", str(data), "--table", "zahlungen")
    assert result.exit_code == 0
    assert " ".join(result.stdout.split()).startswith(
        "detected: delimiter ',', encoding utf-8, header yes, decimal '.', thousands \"'\", "
        "timestamps %Y-%m-%dT%H:%M:%S%.f%z, 3 columns: nr (integer), betrag (float), "
        "bezahlt (timestamp %Y-%m-%dT%H:%M:%S%.f%z, stored in UTC)"
    )
    with sqlite3.connect(data_dir / "data.db") as db:
        assert db.execute("SELECT * FROM zahlungen ORDER BY nr").fetchall() == [
            (1, 1234.5, "2024-01-05 10:30:00"),
            (2, -99.9, "2024-07-05 08:30:00.250"),
        ]


def test_quick_import_of_french_amounts_grouped_by_no_break_spaces_names_the_space(cli, data_dir, tmp_path):
    data = write(
        tmp_path / "f.csv", "n;montant;le\n1;1\u202f234,50;05.01.2024 10:30\n2;-7,5;06.01.2024 9:05\n"
    )
    said = " ".join(cli("import", str(data), "--table", "f").stdout.split())
    assert "decimal ',', thousands narrow no-break space, timestamps %d.%m.%Y %H:%M" in said
    assert "montant (float), le (timestamp %d.%m.%Y %H:%M)" in said
    with sqlite3.connect(data_dir / "data.db") as db:
        assert db.execute("SELECT montant, le FROM f ORDER BY n").fetchall() == [
            (1234.5, "2024-01-05 10:30:00"),
            (-7.5, "2024-01-06 09:05:00"),
        ]


def test_quick_import_reads_a_two_digit_year_only_when_told(cli, data_dir, tmp_path):
    data = write(tmp_path / "d.csv", "n;tag\n1;05.01.24\n2;31.12.99\n")
    said = " ".join(cli("import", str(data), "--table", "text").stdout.split())
    assert (
        "tag (string: dates with a two-digit year ('05.01.24'), read only if told: %d.%m.%y reads 00-68 "
        "as 2000-2068 and 69-99 as 1969-1999; give --date-format)"
    ) in said
    assert cli("import", str(data), "--table", "told", "--date-format", "%d.%m.%y").exit_code == 0
    with sqlite3.connect(data_dir / "data.db") as db:
        assert db.execute("SELECT tag FROM text ORDER BY n").fetchall() == [("05.01.24",), ("31.12.99",)]
        assert db.execute("SELECT tag FROM told ORDER BY n").fetchall() == [("2024-01-05",), ("1999-12-31",)]


@pytest.mark.parametrize(
    ("content", "options", "rows"),
    [
        ("1,10.5\n2,20.5\n3,30.5\n", [], [(1, 10.5), (2, 20.5), (3, 30.5)]),  # detected: no header
        ("a,b\n1,2\n3,4\n", ["--no-header"], [("a", "b"), ("1", "2"), ("3", "4")]),
        ("1,2\n3,4\n", ["--header"], [(3, 4)]),
    ],
)
def test_quick_import_reads_the_first_line_as_the_header_it_detected_or_was_told(
    cli, data_dir, tmp_path, content, options, rows
):
    data = write(tmp_path / "data.csv", content)
    result = cli("import", str(data), "--table", "t", *options)
    assert result.exit_code == 0
    with sqlite3.connect(data_dir / "data.db") as db:
        assert db.execute("SELECT * FROM t").fetchall() == rows


def test_quick_import_of_a_binary_file_is_refused_and_creates_nothing(cli, data_dir, tmp_path):
    picture = tmp_path / "photo.csv"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    result = cli("import", str(picture), "--table", "photo")
    assert result.exit_code == 2
    assert "photo.csv: not a text file: byte 0x00 at line 3, column 1 (offset 8)" in result.stderr
    assert not (data_dir / "data.db").exists()


def test_quick_import_turns_any_header_into_column_names(cli, data_dir, tmp_path):
    data = write(tmp_path / "odd.csv", "id,id,,Prénom Nom\n1,2,3,Ann\n")
    result = cli("import", str(data), "--table", "odd")
    assert result.exit_code == 0
    assert "id (integer), id_2 (integer), c3 (integer), prenom_nom (string)" in " ".join(
        result.stdout.split()
    )
    with sqlite3.connect(data_dir / "data.db") as db:
        assert db.execute("SELECT id, id_2, c3, prenom_nom FROM odd").fetchall() == [(1, 2, 3, "Ann")]


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--table", 'a"b; drop'], "--table: 'a\"b; drop' is not a valid table name"),
        (["--table", "t", "--delimiter", ";;"], "--delimiter: expected a single ASCII character, got ';;'"),
        (
            ["--table", "t", "--chunk-rows", "0"],
            "--chunk-rows: Input should be greater than or equal to 1 (got 0)",
        ),
    ],
    ids=["table", "delimiter", "chunk-rows"],
)
def test_quick_import_names_the_option_it_refuses(cli, tmp_path, options, said):
    data = write(tmp_path / "ok.csv", "id,name\n1,Ann\n")
    result = cli("import", str(data), *options)
    assert result.exit_code == 2
    assert f"error: {said}" in result.stderr and "Traceback" not in result.stderr


def test_quick_import_reads_a_record_longer_than_the_default_chunk_when_told(cli, data_dir, tmp_path):
    data = write(tmp_path / "long.csv", "id,name\n1," + "x" * 4_000_000 + "\n")
    result = cli("import", str(data), "--table", "t", "--json")
    assert result.exit_code == 1  # finished_with_errors: line 2 is longer than a 3 MB chunk
    assert cli("import", str(data), "--table", "t", "--chunk-bytes", "8000000", "--json").exit_code == 0
    with sqlite3.connect(data_dir / "data.db") as db:
        assert db.execute("SELECT id, length(name) FROM t").fetchall() == [(1, 4_000_000)]


def test_quick_export_fills_a_file_name_template_with_a_short_job_name(cli, job_file, tmp_path):
    cli("run", str(job_file))
    assert cli("export", "--table", "people", str(tmp_path / "out-{job}-{run}.csv")).exit_code == 0
    assert [p.name for p in tmp_path.glob("out-*")] == ["out-export_people-1.csv"]


def test_quick_export_and_import_of_a_file_with_a_long_name_run_under_a_shortened_job_name(
    cli, job_file, tmp_path
):
    cli("run", str(job_file))
    out = tmp_path / ("q" * 230 + ".csv")  # a file system takes 255 bytes; a job name 200 characters
    result = cli("export", "--table", "people", str(out))
    assert result.exit_code == 0, result.stderr
    assert out.read_text() == "id,name,age\n1,Ann,30\n3,Cy,40\n"
    assert cli("import", str(out), "--table", "back").exit_code == 0
    names = [job["name"] for job in json.loads(cli("jobs", "list", "--json").stdout)]
    assert [len(n) for n in names[:2]] == [200, 200] and all(n.endswith("…") for n in names[:2])


@pytest.mark.parametrize("tab", ["\\t", "tab", "\t"])
def test_quick_export_and_import_take_a_tab_delimiter_spelled_as_a_shell_lets_one_type_it(
    cli, job_file, tmp_path, tab
):
    cli("run", str(job_file))
    out = tmp_path / "out.tsv"
    assert cli("export", "--table", "people", "--delimiter", tab, str(out)).exit_code == 0
    assert out.read_text() == "id\tname\tage\n1\tAnn\t30\n3\tCy\t40\n"
    result = cli("import", str(out), "--table", "back", "--delimiter", tab)
    assert result.exit_code == 0, result.stderr
    assert "delimiter '\\t'" in result.stdout


def test_quick_export_names_the_option_it_refuses(cli, tmp_path):
    result = cli("export", "--table", "t", "--limit", "-1", str(tmp_path / "out.csv"))
    assert result.exit_code == 2
    assert "error: --limit: Input should be greater than or equal to 0 (got -1)" in result.stderr
    result = cli("export", "--table", "t", "--column", "id; DROP", str(tmp_path / "out.csv"))
    assert result.exit_code == 2
    assert result.stderr.strip().endswith(
        "'id; DROP' is not a valid table or column name (letters, digits and _, "
        "starting with a letter or _, at most 63 characters)"
    )


@pytest.mark.parametrize("content", [b"", b"\n\n", b"\xef\xbb\xbf"], ids=["empty", "blank-lines", "bom-only"])
def test_quick_import_of_an_empty_file_says_so_and_creates_no_job(cli, data_dir, tmp_path, content):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(content)
    result = cli("import", str(empty), "--table", "t")
    assert result.exit_code == 2
    assert "empty.csv: the file is empty (no header line and no record): nothing to import" in result.stderr
    assert cli("jobs", "list", "--json").stdout.strip() == "[]"


def test_an_error_shows_a_name_in_brackets_as_it_is(cli, tmp_path):
    result = cli("import", str(tmp_path / "[red]data[/red].csv"), "--table", "t")
    assert result.exit_code == 2
    assert "[red]data[/red].csv" in result.stderr


def test_quick_import_of_a_folder_says_it_is_a_folder(cli, tmp_path):
    result = cli("import", str(tmp_path), "--table", "t")
    assert result.exit_code == 2
    assert "the source is a folder, not a data file" in result.stderr and str(tmp_path) in result.stderr


def test_quick_export_writes_the_file(cli, job_file, tmp_path):
    cli("run", str(job_file))
    out = tmp_path / "people-out.csv"
    assert cli("export", "--table", "people", str(out)).exit_code == 0
    assert out.read_text() == "id,name,age\n1,Ann,30\n3,Cy,40\n"


def test_a_run_says_the_counters_of_its_kind(cli, job_file, tmp_path):
    imported = " ".join(cli("run", str(job_file)).stdout.split())
    exported = " ".join(cli("export", "--table", "people", str(tmp_path / "out.csv")).stdout.split())
    assert (
        "read 3, inserted 2, updated 0, unchanged 0, deleted 0, rejected 1, doubles 0, duplicates 0;"
        in imported
    )
    assert "written" not in imported
    assert "finished read 2, written 2;" in exported and "inserted" not in exported


@pytest.mark.parametrize(("commit", "noted"), [("atomic", True), ("incremental", False)])
def test_jobs_show_says_an_unfinished_all_or_nothing_run_is_not_in_the_table_yet(
    cli, store, tmp_path, commit, noted
):
    write(tmp_path / "people.csv", PEOPLE)
    job_id = store.create_job(
        import_definition(source=str(tmp_path / "people.csv"), commit=commit), owner="cli"
    )
    store.transition(job_id, A.START, actor="cli")
    store.claim_job(job_id, "w", 60)
    shown = " ".join(cli("jobs", "show", str(job_id)).stdout.split())
    assert ("all or nothing: the table receives these rows only when the run finishes" in shown) is noted


def test_a_quick_export_named_gz_is_written_compressed(cli, job_file, tmp_path):
    cli("run", str(job_file))
    assert cli("export", "--table", "people", str(tmp_path / "people.csv.gz")).exit_code == 0
    assert gzip.decompress((tmp_path / "people.csv.gz").read_bytes()) == b"id,name,age\n1,Ann,30\n3,Cy,40\n"


def test_an_export_named_gz_that_says_gzip_false_is_written_plain_as_it_says(cli, job_file, tmp_path):
    cli("run", str(job_file))
    job = write(
        tmp_path / "out.yaml",
        "kind: export\nname: x\nsource: {table: people}\noutput: people.csv.gz\nformat: {gzip: false}\n",
    )
    assert cli("run", str(job)).exit_code == 0
    assert (tmp_path / "people.csv.gz").read_bytes() == b"id,name,age\n1,Ann,30\n3,Cy,40\n"


def test_unknown_job_is_an_error_not_a_traceback(cli):
    result = cli("jobs", "show", "99")
    assert result.exit_code == 2 and "no job 99" in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["run"],
        ["submit"],
        ["import"],
        ["export"],
        ["worker"],
        ["jobs"],
        ["jobs", "list"],
        ["jobs", "show"],
        ["jobs", "journal"],
        ["jobs", "rejects"],
        ["jobs", "start"],
        ["jobs", "pause"],
        ["jobs", "cancel"],
    ],
)
def test_every_command_has_help(command):
    result = subprocess.run([*IMPEX, *command, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "Usage:" in result.stdout


def test_commands_other_than_serve_do_not_load_the_web_stack():
    web = ("fastapi", "uvicorn", "babel")
    probe = f"import sys, impex.cli.main; print(sorted(m for m in {web!r} if m in sys.modules))"
    result = subprocess.run([IMPEX[0], "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


# Each of these takes from 50 ms to 0.3 s to import; together with SQLAlchemy they were most of the
# second that `impex --help` took.
DATA_STACK = ("polars", "pyarrow", "numpy", "adbc_driver_manager", "psycopg", "charset_normalizer", "alembic")


@pytest.mark.parametrize(
    ("command", "not_loaded"),
    [(["--help"], (*DATA_STACK, "sqlalchemy", "pydantic", "yaml")), (["jobs", "list"], DATA_STACK)],
)
def test_help_and_the_job_list_start_without_the_data_stack(command, not_loaded, store, impex_env):
    probe = (
        "import sys\nfrom impex.cli.main import app\n"
        f"try:\n    app({command!r}, prog_name='impex')\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {not_loaded!r} if m in sys.modules), file=sys.stderr)"
    )
    result = subprocess.run(
        [IMPEX[0], "-c", probe], capture_output=True, text=True, timeout=60, env=impex_env, check=True
    )
    assert result.stderr.strip() == "[]"


def test_a_worker_asked_for_no_jobs_at_once_refuses(cli):
    result = cli("worker", "--concurrency", "0", "--exit-when-idle")
    assert result.exit_code == 2
    assert "worker_concurrency (IMPEX_WORKER_CONCURRENCY): 0 is less than 1" in result.stderr


def test_rejected_records_of_a_latin1_file_are_shown_in_its_encoding(cli, tmp_path):
    (tmp_path / "people.csv").write_bytes("id,name,age\n1,Zoë,30\n2,Renée,x\n".encode("latin-1"))
    cli("run", str(write(tmp_path / "job.yaml", JOB.format(extra="format: {encoding: latin-1}"))))
    shown = json.loads(cli("jobs", "rejects", "1", "--json").stdout)
    assert [r["raw"] for r in shown] == ["2,Renée,x"]
    assert "2,Renée,x" in cli("jobs", "rejects", "1").stdout


def test_operator_actions_answer_in_json_and_rejects_go_into_a_new_folder(cli, job_file, tmp_path):
    job_id = json.loads(cli("submit", str(job_file), "--json").stdout)["id"]
    paused = cli("jobs", "pause", str(job_id), "--json")
    assert json.loads(paused.stdout) == {
        "id": job_id,
        "action": "pause",
        "from": "queued",
        "status": "paused",
    }
    cli("jobs", "cancel", str(job_id))
    cli("run", str(job_file))
    out = tmp_path / "fixes" / "today" / "rejects.csv"
    assert cli("jobs", "rejects", "2", "--export", str(out)).exit_code == 0
    assert out.read_text().startswith("id,name,age,reason")


def test_the_job_list_says_when_it_shows_only_some(cli, job_file):
    for _ in range(3):
        cli("submit", str(job_file))
    shown = cli("jobs", "list", "--limit", "2")
    assert "2 of 3 jobs (--limit shows more)" in shown.stdout
    assert "of 3 jobs" not in cli("jobs", "list").stdout
    assert [j["id"] for j in json.loads(cli("jobs", "list", "--json", "--limit", "2").stdout)] == [3, 2]


def test_quick_export_writes_a_windows_file_for_a_german_excel_and_the_quick_import_reads_it_back(
    cli, data_dir, tmp_path
):
    with sqlite3.connect(data_dir / "data.db") as db:
        db.execute("CREATE TABLE kunden (name TEXT, betrag REAL)")
        db.execute("INSERT INTO kunden VALUES ('Jürgen Müller', 1234.5), ('Weiß', -0.25)")
    out = tmp_path / "kunden.csv"
    german = ["--delimiter", ";", "--decimal-separator", ",", "--encoding", "cp1252", "--crlf"]
    result = cli("export", "--table", "kunden", *german, str(out))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert out.read_bytes() == "name;betrag\r\nJürgen Müller;1234,5\r\nWeiß;-0,25\r\n".encode("cp1252")
    result = cli("import", str(out), "--table", "back")
    assert result.exit_code == 0 and "encoding cp1252" in result.stdout and "decimal ','" in result.stdout
    with sqlite3.connect(data_dir / "data.db") as db:
        assert db.execute("SELECT * FROM back").fetchall() == [("Jürgen Müller", 1234.5), ("Weiß", -0.25)]


def test_dates_impex_imported_into_a_new_sqlite_table_export_in_the_date_format_asked_for(
    cli, data_dir, tmp_path
):
    data = write(tmp_path / "termine.csv", "id;tag;um\n1;24.12.2025;24.12.2025 18:30:00\n")
    assert cli("import", str(data), "--table", "termine").exit_code == 0
    out = tmp_path / "out.csv"
    result = cli("export", "--table", "termine", "--date-format", "%d.%m.%Y", "--delimiter", ";", str(out))
    assert result.exit_code == 0, result.stdout + result.stderr
    # the table says which columns hold dates: DATE and TIMESTAMP, their values ISO text
    assert out.read_text() == "id;tag;um\n1;24.12.2025;2025-12-24 18:30:00\n"
    with sqlite3.connect(data_dir / "data.db") as db:
        assert db.execute("SELECT typeof(tag), tag, typeof(um), um FROM termine").fetchall() == [
            ("text", "2025-12-24", "text", "2025-12-24 18:30:00")
        ]


def test_a_german_file_imported_then_exported_with_its_date_and_timestamp_formats_comes_back_the_same(
    cli, tmp_path
):
    german = "id;tag;um\n1;24.12.2025;24.12.2025 18:30:00\n2;01.02.1850;01.02.1850 00:00:05\n"
    data = write(tmp_path / "termine.csv", german)
    assert cli("import", str(data), "--table", "termine").exit_code == 0
    out = tmp_path / "out.csv"
    formats = ["--date-format", "%d.%m.%Y", "--timestamp-format", "%d.%m.%Y %H:%M:%S"]
    result = cli("export", "--table", "termine", *formats, "--delimiter", ";", str(out))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert out.read_text() == german


def test_quick_export_to_an_encoding_that_cannot_hold_a_value_names_it_and_leaves_no_file(
    cli, data_dir, tmp_path
):
    with sqlite3.connect(data_dir / "data.db") as db:
        db.execute("CREATE TABLE orte (id INTEGER, name TEXT)")
        db.execute("INSERT INTO orte VALUES (1, 'Köln'), (2, 'Łódź')")
    out = tmp_path / "out" / "orte.csv"
    result = cli("export", "--table", "orte", "--encoding", "cp1252", str(out))
    assert result.exit_code == 1
    assert "row 2, column name: 'Łódź' holds 'Ł' (U+0141), which cp1252 cannot encode" in result.stdout
    assert list(out.parent.iterdir()) == []  # neither the file nor a part of it
    refused = cli("export", "--table", "orte", "--decimal-separator", ";", str(out))
    assert refused.exit_code == 2 and "error: --decimal-separator: expected '.' or ','" in refused.stderr


@pytest.mark.parametrize(
    ("text", "said", "skip"),
    [
        (
            "Sales report\nid;name;amount\n1;Ann;5\n",
            "follows line 1 (a title?): give --skip-lines 1 to pass over it",
            1,
        ),
        (
            "Sales report\nNovember 2026\n\nid,amount\n1,5\n2,6\n",
            "follows lines 1 to 2 (a title?): give --skip-lines 2 to pass over them",
            2,
        ),
    ],
)
def test_title_lines_above_the_header_are_named_with_the_skip_lines_that_passes_over_them(
    cli, data_dir, tmp_path, text, said, skip
):
    data = write(tmp_path / "report.csv", text)
    refused = cli("import", str(data), "--table", "t")
    assert refused.exit_code == 2 and said in refused.stderr
    imported = cli("import", str(data), "--table", "t", "--skip-lines", str(skip))
    assert (
        imported.exit_code == 0 and f"encoding utf-8, {skip} lines passed over, header yes" in imported.stdout
    )
    with sqlite3.connect(data_dir / "data.db") as db:
        assert db.execute("SELECT id FROM t").fetchall()[0] == (1,)
