"""A quick import's rejects, exported, fixed and imported again by the quick import, all go in: the
rejects file's reason column is left out of a table that has none. A file whose columns the existing
table lacks is refused before any job is saved."""

import json
import sqlite3
import subprocess

from support import IMPEX, write


def impex(env, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*IMPEX, *args], env=env, capture_output=True, text=True, timeout=120)


def test_quick_import_rejects_exported_fixed_and_quick_imported_again_all_go_in(
    impex_env, data_dir, tmp_path
):
    source = write(tmp_path / "people.csv", "id,name,age\n1,Ann,30\n2,Bob,4,4\n3,Cy,40\n")
    assert impex(impex_env, "import", str(source), "--table", "people", "--key", "id").returncode == 0
    fix_me = tmp_path / "fix-me.csv"
    assert impex(impex_env, "jobs", "rejects", "1", "--export", str(fix_me)).returncode == 0
    fix_me.write_text(fix_me.read_text().replace("2,Bob,4,4,", "2,Bob,44,"))
    again = impex(impex_env, "import", str(fix_me), "--table", "people", "--key", "id")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "column reason (a rejects file's reasons) is not in table people: left out" in again.stdout
    with sqlite3.connect(data_dir / "data.db") as db:
        rows = db.execute("SELECT id, name, age FROM people ORDER BY id").fetchall()
    assert rows == [(1, "Ann", 30), (2, "Bob", 44), (3, "Cy", 40)]


def test_a_file_with_columns_the_existing_table_lacks_is_refused_before_any_job(impex_env, tmp_path):
    write(tmp_path / "people.csv", "id,name\n1,Ann\n")
    assert impex(impex_env, "import", str(tmp_path / "people.csv"), "--table", "people").returncode == 0
    other = write(tmp_path / "other.csv", "id,zip,name\n2,1234,Bob\n")
    result = impex(impex_env, "import", str(other), "--table", "people")
    assert result.returncode == 2
    assert f"{other}: table people has no column(s) zip (it has: id, name)" in result.stderr
    assert [j["id"] for j in json.loads(impex(impex_env, "jobs", "list", "--json").stdout)] == [1]
