"""`impex import FILE` without --table fills a table named after the file, as a table name can say it."""

import gzip
import json
import sqlite3
import subprocess

from support import IMPEX, write


def impex(env, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*IMPEX, *args], env=env, capture_output=True, text=True, timeout=120)


def test_a_quick_import_without_a_table_fills_one_named_after_the_file_letters_spelled_out(
    impex_env, data_dir, tmp_path
):
    source = write(tmp_path / "Straße Größe.csv", "Kunden Nr;Straße\n1;Hauptstraße 1\n")
    result = impex(impex_env, "import", str(source))
    assert result.returncode == 0, result.stderr
    assert "kunden_nr (integer), strasse (string)" in result.stdout
    assert "import Straße Größe.csv into strasse_grosse" in result.stdout
    with sqlite3.connect(data_dir / "data.db") as db:
        assert db.execute("SELECT kunden_nr, strasse FROM strasse_grosse").fetchall() == [
            (1, "Hauptstraße 1")
        ]


def test_the_table_is_named_without_the_file_extensions(impex_env, data_dir, tmp_path):
    source = tmp_path / "sales.2024.csv.gz"
    source.write_bytes(gzip.compress(b"id\n1\n"))
    assert impex(impex_env, "import", str(source)).returncode == 0
    with sqlite3.connect(data_dir / "data.db") as db:
        assert db.execute("SELECT id FROM sales_2024").fetchall() == [(1,)]


def test_a_file_name_that_gives_no_table_name_asks_for_one_and_saves_nothing(impex_env, data_dir, tmp_path):
    source = write(tmp_path / "日本.csv", "id\n1\n")
    result = impex(impex_env, "import", str(source))
    assert result.returncode == 2
    assert f"{source}: its name gives no table name (letters, digits and _): give --table" in result.stderr
    assert json.loads(impex(impex_env, "jobs", "list", "--json").stdout) == []
    assert not (data_dir / "data.db").exists()


def test_a_table_named_with_a_schema_is_refused_by_sqlite_before_a_job_is_saved(
    impex_env, data_dir, tmp_path
):
    source = write(tmp_path / "people.csv", "id\n1\n")
    said = "SQLite database data.db: table crm.people: SQLite tables have no schema; name the table without "
    said += "crm."
    imported = impex(impex_env, "import", str(source), "--table", "crm.people")
    assert imported.returncode == 2 and said in imported.stderr
    exported = impex(impex_env, "export", "--table", "crm.people", str(tmp_path / "out.csv"))
    assert exported.returncode == 2 and said in exported.stderr
    assert json.loads(impex(impex_env, "jobs", "list", "--json").stdout) == []
    assert not (tmp_path / "out.csv").exists()
