"""Excel's "Unicode Text" (UTF-16 LE with a byte order mark, tab delimited, CRLF) through the real
`impex` command: the quick import, a job file, and the rejects exported in the file's own encoding,
fixed and imported again."""

import codecs
import json
import sqlite3
import subprocess

from support import IMPEX, write

TEXT = "id\tname\tcity\r\n1\tZoë\tKöln\r\n2\tBob\tParis\tx\r\n3\t😀 Émile\tΑθήνα\r\n"


def impex(env, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*IMPEX, *args], env=env, capture_output=True, text=True, timeout=120)


def unicode_text(path, text: str = TEXT):
    return write(path, codecs.BOM_UTF16_LE + text.encode("utf-16-le"))


def test_quick_import_of_excels_unicode_text_then_its_rejects_exported_fixed_and_imported_again(
    impex_env, data_dir, tmp_path
):
    source = unicode_text(tmp_path / "people.txt")
    first = impex(impex_env, "import", str(source), "--table", "people", "--key", "id")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "utf-16-le" in first.stdout
    [reject] = json.loads(impex(impex_env, "jobs", "rejects", "1", "--json").stdout)
    assert (reject["line_no"], reject["reason"], reject["raw"]) == (
        3,
        "wrong_field_count",
        "2\tBob\tParis\tx",
    )
    fix_me = tmp_path / "fix-me.txt"
    assert impex(impex_env, "jobs", "rejects", "1", "--export", str(fix_me)).returncode == 0
    exported = fix_me.read_bytes()
    assert exported.startswith(codecs.BOM_UTF16_LE)
    assert exported[2:].decode("utf-16-le") == (
        "id\tname\tcity\treason\r\n"
        '2\tBob\tParis\tx\t"wrong_field_count: line 3: expected 3 fields, found 4"\r\n'
    )
    fixed = exported[2:].decode("utf-16-le").replace("Paris\tx\t", "Paris\t")
    fix_me.write_bytes(codecs.BOM_UTF16_LE + fixed.encode("utf-16-le"))
    again = impex(impex_env, "import", str(fix_me), "--table", "people", "--key", "id")
    assert again.returncode == 0, again.stdout + again.stderr
    with sqlite3.connect(data_dir / "data.db") as db:
        rows = db.execute("SELECT id, name, city FROM people ORDER BY id").fetchall()
    assert rows == [(1, "Zoë", "Köln"), (2, "Bob", "Paris"), (3, "😀 Émile", "Αθήνα")]


def test_a_job_file_naming_utf16_imports_a_file_without_a_byte_order_mark(impex_env, data_dir, tmp_path):
    source = write(tmp_path / "people.txt", "id;name\n1;Zoë\n2;中文\n".encode("utf-16-be"))
    job = write(
        tmp_path / "job.yaml",
        f"kind: import\nname: people\nsource: {source}\nformat: {{delimiter: ';', encoding: utf-16be}}\n"
        "target: {table: people}\ncolumns: [{name: id, type: integer}, {name: name}]\n",
    )
    result = impex(impex_env, "run", str(job))
    assert result.returncode == 0, result.stdout + result.stderr
    with sqlite3.connect(data_dir / "data.db") as db:
        assert db.execute("SELECT id, name FROM people ORDER BY id").fetchall() == [(1, "Zoë"), (2, "中文")]


def test_a_lone_surrogate_rejects_its_record_only_and_the_export_gives_its_bytes_back(
    impex_env, data_dir, tmp_path
):
    bad = "2\tB".encode("utf-16-le") + b"\x00\xdc" + "b\tParis".encode("utf-16-le")
    data = codecs.BOM_UTF16_LE + "id\tname\tcity\r\n1\tAnn\tRom\r\n".encode("utf-16-le") + bad
    source = write(tmp_path / "people.txt", data + "\r\n3\tCy\tWien\r\n".encode("utf-16-le"))
    result = impex(impex_env, "import", str(source), "--table", "people")
    assert result.returncode == 0, result.stdout + result.stderr
    [reject] = json.loads(impex(impex_env, "jobs", "rejects", "1", "--json").stdout)
    assert reject["reason"] == "bad_encoding" and reject["column"] == "name"
    assert (
        reject["message"]
        == "line 3: a lone surrogate 0xdc00 at column 4: half of a character, not UTF-16LE text"
    )
    fix_me = tmp_path / "fix-me.txt"
    assert impex(impex_env, "jobs", "rejects", "1", "--export", str(fix_me)).returncode == 0
    assert bad + "\t".encode("utf-16-le") in fix_me.read_bytes()
    with sqlite3.connect(data_dir / "data.db") as db:
        assert db.execute("SELECT id FROM people ORDER BY id").fetchall() == [(1,), (3,)]
