"""A bad option value or definition value is refused at once, naming the option (or key) and the
value, before the file is read and before any job is saved."""

import json
import subprocess

import pytest

from support import IMPEX, write


def impex(env, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*IMPEX, *args], env=env, capture_output=True, text=True, timeout=120)


def saved_jobs(env) -> list[dict]:
    return json.loads(impex(env, "jobs", "list", "--json").stdout)


def test_a_quick_import_with_an_unknown_encoding_names_the_option_once_and_saves_no_job(impex_env, tmp_path):
    source = write(tmp_path / "people.csv", "id,name\n1,Ann\n")
    result = impex(impex_env, "import", str(source), "--table", "people", "--encoding", "nonsense")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --encoding: unknown encoding 'nonsense'"
    assert saved_jobs(impex_env) == []


def test_a_definition_with_an_unknown_encoding_is_refused_before_any_job(impex_env, tmp_path):
    write(tmp_path / "people.csv", "id,name\n1,Ann\n")
    job = write(
        tmp_path / "job.yaml",
        "kind: import\nname: p\nsource: people.csv\ntarget: {table: p}\nformat: {encoding: nonsense}\n",
    )
    result = impex(impex_env, "run", str(job))
    assert result.returncode == 5
    assert "job.yaml, line 5: format.encoding: unknown encoding 'nonsense'" in result.stderr
    assert saved_jobs(impex_env) == []


def test_a_bad_table_name_is_refused_before_the_file_is_read(impex_env, tmp_path):
    source = write(tmp_path / "people.csv", "id,name\n1,Ann\n")
    result = impex(impex_env, "import", str(source), "--table", "a b")
    assert result.returncode == 2 and result.stdout == ""
    assert "error: --table: 'a b' is not a valid table name" in result.stderr


@pytest.mark.parametrize("command", [["jobs", "list"], ["jobs", "rejects", "1"]])
@pytest.mark.parametrize("limit", ["-1", "0"])
def test_a_limit_below_one_is_refused_naming_the_option(impex_env, command, limit):
    result = impex(impex_env, *command, "--limit", limit)
    assert result.returncode == 2 and "'--limit'" in result.stderr


def test_rejects_export_of_an_export_job_says_it_has_none_and_writes_nothing(impex_env, tmp_path):
    source = write(tmp_path / "people.csv", "id,name\n1,Ann\n")
    assert impex(impex_env, "import", str(source), "--table", "people").returncode == 0
    assert impex(impex_env, "export", "--table", "people", str(tmp_path / "out.csv")).returncode == 0
    result = impex(impex_env, "jobs", "rejects", "2", "--export", str(tmp_path / "rejects.csv"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert (
        f"error: job 2 is an export: it has no rejects to write to {tmp_path / 'rejects.csv'}"
        in result.stderr
    )
    assert not (tmp_path / "rejects.csv").exists()
