"""`impex export --table T OUT`: an output the export cannot be written to is refused before any job is
saved, with the path and why, as the quick import refuses its source."""

import json
import os
import resource
import signal
import sqlite3
import subprocess

import pytest

from support import IMPEX, write


def impex(env, *args: str, cwd=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*IMPEX, *args], env=env, capture_output=True, text=True, timeout=120, cwd=cwd)


@pytest.fixture
def people(impex_env, tmp_path):
    source = write(tmp_path / "people.csv", "id,name\n1,Ann\n2,Bob\n")
    assert impex(impex_env, "import", str(source), "--table", "people").returncode == 0
    return impex_env


def jobs(env) -> list[str]:
    return [j["name"] for j in json.loads(impex(env, "jobs", "list", "--json").stdout)]


def test_an_export_to_dash_says_it_does_not_write_to_standard_output_and_writes_no_file(people, tmp_path):
    result = impex(people, "export", "--table", "people", "-", cwd=tmp_path)
    assert result.returncode == 2
    assert "-: impex does not write to standard output" in result.stderr and result.stdout == ""
    assert not (tmp_path / "-").exists()
    assert jobs(people) == ["import people.csv into people"]


@pytest.mark.parametrize(("output", "kind"), [("folder", "a folder"), ("/dev/null", "a device")])
def test_an_export_to_a_folder_or_a_device_is_refused_and_saves_no_job(people, tmp_path, output, kind):
    path = tmp_path if output == "folder" else output
    result = impex(people, "export", "--table", "people", str(path))
    assert result.returncode == 2
    assert f"cannot write the export file {path}: it is {kind}, not a file" in result.stderr
    assert jobs(people) == ["import people.csv into people"]


def test_an_export_to_a_named_pipe_is_refused_and_leaves_the_pipe(people, tmp_path):
    pipe = tmp_path / "out.csv"
    os.mkfifo(pipe)
    result = impex(people, "export", "--table", "people", str(pipe))
    assert result.returncode == 2 and f"cannot write the export file {pipe}" in result.stderr
    assert jobs(people) == ["import people.csv into people"]


def test_an_export_over_an_existing_file_replaces_it(people, tmp_path):
    out = write(tmp_path / "out.csv", "old content\n")
    assert impex(people, "export", "--table", "people", str(out)).returncode == 0
    assert out.read_text() == "id,name\n1,Ann\n2,Bob\n"


@pytest.mark.parametrize(
    ("source", "said"),
    [
        (["--table", "nosuch"], "source table nosuch does not exist in data.db"),
        (["--table", "people", "--column", "age"], "source table people has no column(s) age"),
        (["--query", "SELECT age FROM people"], "no such column: age"),
        (["--table", "people", "--connection", "crm"], "no connection named 'crm'"),
    ],
)
def test_a_source_the_export_cannot_read_is_refused_and_saves_no_job(people, tmp_path, source, said):
    result = impex(people, "export", *source, str(tmp_path / "out.csv"))
    assert result.returncode == 2
    assert "error: nothing exported: " in result.stderr and said in result.stderr
    assert not (tmp_path / "out.csv").exists()
    assert jobs(people) == ["import people.csv into people"]


def test_an_export_to_a_name_longer_than_a_file_name_may_be_is_refused_and_saves_no_job(people, tmp_path):
    out = tmp_path / f"{'x' * 252}.csv"
    result = impex(people, "export", "--table", "people", str(out))
    assert result.returncode == 2
    assert result.stderr == (
        f"error: cannot write the export file {out}: its name is 256 bytes long (in UTF-8), and a file "
        "name may have at most 255\n"
    )
    assert jobs(people) == ["import people.csv into people"]
    assert not list(tmp_path.glob("x*"))


def test_an_export_onto_the_source_database_is_refused_and_saves_no_job(people, tmp_path):
    database = tmp_path / "impex-data" / "data.db"
    before = database.read_bytes()
    result = impex(people, "export", "--table", "people", str(database))
    assert result.returncode == 2
    said = f"error: cannot write the export file {database}: it is a SQLite database"
    assert result.stderr.startswith(said)
    assert database.read_bytes() == before
    assert jobs(people) == ["import people.csv into people"]


def at_most(size: int):
    """For a child process: files it writes stop growing at ``size`` bytes (EFBIG), as on a full disk."""

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails instead of killing the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return limit


def test_an_export_that_cannot_write_all_of_its_file_names_it_and_keeps_the_earlier_file(people, tmp_path):
    with sqlite3.connect(tmp_path / "impex-data" / "data.db") as c:
        c.execute("CREATE TABLE wide (id INTEGER PRIMARY KEY, note TEXT)")
        c.executemany("INSERT INTO wide VALUES (?, ?)", [(i, "n" * 300) for i in range(20_000)])
    (tmp_path / "out").mkdir()
    out = write(tmp_path / "out" / "wide.csv", "the earlier export\n")
    result = subprocess.run(
        [*IMPEX, "export", "--table", "wide", str(out)],
        env=people,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=at_most(4 * 1024 * 1024),
    )
    assert result.returncode == 1
    assert f"cannot write the export file {out}: File too large" in result.stdout
    assert out.read_text() == "the earlier export\n"
    assert list(out.parent.iterdir()) == [out]
