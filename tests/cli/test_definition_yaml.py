"""A job file's YAML means what its writer meant: YAML 1.1's readings of NO, 010 or 1:30 do not reach
the table."""

import sqlite3

import pytest
from typer.testing import CliRunner

from impex.cli.main import app
from impex.definitions_io import DefinitionError, load_definition
from impex.domain.definitions import ImportJob
from impex.domain.status import A, S
from support import run_job, write

COUNTRIES = "id,country,born,score\n1,NO,,\n2,Norway,,\n3,DE,1990-05-01,x\n"
JOB = """kind: import
name: countries
source: countries.csv
target: {table: countries}
columns:
  - {name: id, type: integer}
  - name: country
    remap: {Norway: NO, DE: Germany, "off": OFF}
  - {name: code, constant: 010}
  - {name: region, constant: NO}
  - {name: slot, constant: 1:30}
  - {name: marker, constant: yes}
  - {name: born, type: date, default: 2000-01-01}
  - {name: score, type: float, default: 1.50, remap: {x: 2}}
  - {name: active, type: boolean, constant: off}
"""


def test_plain_scalars_in_text_places_are_imported_as_written_not_as_yaml_1_1_reads_them(data_dir, tmp_path):
    write(tmp_path / "countries.csv", COUNTRIES)
    job = write(tmp_path / "job.yaml", JOB)
    result = CliRunner().invoke(app, ["--data-dir", str(data_dir), "run", str(job)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with sqlite3.connect(data_dir / "data.db") as db:
        rows = db.execute("SELECT * FROM countries ORDER BY id").fetchall()
    assert rows == [
        (1, "NO", "010", "NO", "1:30", "yes", "2000-01-01", 1.5, 0),
        (2, "NO", "010", "NO", "1:30", "yes", "2000-01-01", 1.5, 0),
        (3, "Germany", "010", "NO", "1:30", "yes", "1990-05-01", 2.0, 0),
    ]


def test_null_values_true_values_and_names_keep_their_text(tmp_path):
    job = write(
        tmp_path / "job.yaml",
        "kind: import\nname: 2024\nsource: a.csv\ntarget: {table: t}\n"
        "format: {null_values: ['', NULL, N/A], true_values: [Y, yes, on, 1], false_values: [N, no, off, 0], "
        "header: no, skip_lines: 010}\n"
        "columns: [{name: a, source: 2}, {name: b, source: 010}]\n",
    )
    definition = load_definition(job)
    assert definition.name == "2024"
    assert definition.format.null_values == ("", "NULL", "N/A")
    assert definition.format.true_values == ("Y", "yes", "on", "1")
    assert definition.format.false_values == ("N", "no", "off", "0")
    assert definition.format.header is False and definition.format.skip_lines == 10
    assert [c.source for c in definition.columns] == [2, 10]  # a position, in decimal


def test_a_null_where_text_is_expected_is_still_refused_naming_its_key(tmp_path):
    job = write(
        tmp_path / "job.yaml",
        "kind: import\nname: x\nsource: a.csv\ntarget: {table: t}\nformat: {null_values: [null]}\n",
    )
    with pytest.raises(
        DefinitionError,
        match=r"job.yaml, line 5: format\.null_values\[0\]: Input should be a valid string \(got None\)",
    ):
        load_definition(job)


def test_each_problem_of_a_job_file_names_its_line_and_key_path(tmp_path):
    job = write(
        tmp_path / "job.yaml",
        "kind: import\n"
        "name: countries\n"
        "source: countries.csv\n"
        "target: {table: countries}\n"
        "columns:\n"
        "  - {name: id, type: integer}\n"
        "  - name: code\n"
        "    type: integer\n"
        "    max_length: 2\n"
        "  - name: country\n"
        "    transforms: [upper]\n"
        "    remap:\n"
        "      Norway: NO\n"
        "      no: NO\n"
        "  - name: region\n"
        "    constant: Nord\n"
        "    sorce: region\n",
    )
    with pytest.raises(DefinitionError) as refused:
        load_definition(job)
    assert str(refused.value).splitlines() == [
        f"{job}, line 17: columns[3].sorce: unknown key: did you mean 'source'?",
    ]
    job.write_text(job.read_text().replace("sorce", "source"))
    with pytest.raises(DefinitionError) as refused:
        load_definition(job)
    assert str(refused.value).splitlines() == [
        f"{job}, line 9: columns[1].max_length: only a string column has a maximum length; "
        "this one is integer",
        f"{job}, line 13: columns[2].remap.Norway: never matches: the remap compares the field trimmed and "
        "transformed, which make 'Norway' 'NORWAY' (the remap is case-sensitive)",
        f"{job}, line 14: columns[2].remap.no: never matches: the remap compares the field trimmed and "
        "transformed, which make 'no' 'NO' (the remap is case-sensitive)",
        f"{job}, line 16: columns[3].constant: a column takes a constant or a source, not both",
    ]


def test_a_json_job_files_problems_are_named_with_their_line_as_a_yaml_files_are(tmp_path):
    job = write(
        tmp_path / "job.json",
        '{\n\t"kind": "import",\n\t"name": "x",\n\t"source": "a.csv",\n\t"target": {"table": "t"},\n'
        '\t"columns": [\n\t\t{"name": "id", "type": "integer"},\n'
        '\t\t{"name": "code", "type": "integer", "max_length": 2},\n'
        '\t\t{"name": "caf\\u00e9\\/bar"}\n\t]\n}\n',
    )
    with pytest.raises(DefinitionError) as refused:
        load_definition(job)
    assert str(refused.value).splitlines() == [
        f"{job}, line 9: columns[2].name: 'café/bar' is not a valid table or column name (letters, digits "
        "and _, starting with a letter or _, at most 63 characters)"
    ]
    job.write_text(job.read_text().replace("caf\\u00e9\\/bar", "cafe"))
    with pytest.raises(DefinitionError) as refused:
        load_definition(job)
    assert str(refused.value) == (
        f"{job}, line 8: columns[1].max_length: only a string column has a maximum length; "
        "this one is integer"
    )


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        (
            "job.yaml",
            "kind: import\nname: x\nsource: a.csv\ntarget: {table: t}\ncolumns:\n  - name: country\n"
            "    remap:\n      NO: Norway\n      DE: Germany\n      'NO': Nowhere\n",
            "job.yaml, line 10: key 'NO' written twice in one mapping (first on line 8): "
            "YAML would keep the last one",
        ),
        (
            "job.json",
            '{"kind": "import", "name": "x", "source": "a.csv", "target": {"table": "t"},\n'
            '"columns": [{"name": "c", "remap": {"NO": "Norway",\n\t"NO": "Nowhere"}}]}',
            "job.json, line 3: key 'NO' written twice in one mapping (first on line 2): "
            "JSON would keep the last one",
        ),
    ],
)
def test_a_key_written_twice_is_refused_instead_of_the_last_one_silently_winning(
    tmp_path, name, content, said
):
    job = write(tmp_path / name, content)
    with pytest.raises(DefinitionError) as refused:
        load_definition(job)
    assert str(refused.value) == f"{tmp_path}/{said}"


def test_numbers_and_booleans_of_a_json_job_file_where_text_is_taken_are_read_as_their_text(
    data_dir, tmp_path
):
    write(tmp_path / "countries.csv", "id,member,rate\n1,NO,x\n2,DE,1e3\n3,,y\n")
    job = write(
        tmp_path / "job.json",
        '{"kind": "import", "name": "json", "source": "countries.csv", "target": {"table": "countries"},'
        ' "format": {"null_values": ["", 0]},'
        ' "columns": [{"name": "id", "type": "integer", "remap": {"1": 100}},'
        ' {"name": "member", "type": "boolean", "remap": {"NO": false, "DE": true}},'
        ' {"name": "rate", "type": "float", "remap": {"x": 1.5, "y": 0}}]}',
    )
    result = CliRunner().invoke(app, ["--data-dir", str(data_dir), "run", str(job)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with sqlite3.connect(data_dir / "data.db") as db:
        rows = db.execute("SELECT * FROM countries ORDER BY id").fetchall()
    assert rows == [(2, 1, 1000.0), (3, None, None), (100, 0, 1.5)]  # 'y' → 0, a null value: null


def test_a_job_stored_before_the_definition_checks_is_still_run_and_shown_compactly(
    store, settings, data_dir, tmp_path
):
    source = write(tmp_path / "in.csv", "id,name\n1,Ann\n")
    old = {"kind": "import", "name": "old", "source": str(source), "target": {"table": "t"}}
    old["columns"] = [{"name": "id", "type": "integer", "max_length": 5}, {"name": "name"}]
    job_id = store.create_job(ImportJob.model_validate(old).model_dump(mode="json"), actor="tester")
    store.transition(job_id, A.START, actor="tester")
    assert run_job(store, settings, job_id)[0] is S.FINISHED
    shown = CliRunner().invoke(app, ["--data-dir", str(data_dir), "jobs", "show", str(job_id)]).stdout
    assert "max_length: 5" in shown and "chunk_rows" not in shown  # only the keys set
