"""`impex run` into SQLite tables with foreign keys, as a user types it: the orphans are rejects
with their line, raw record and a message naming the key's column and value; the rest goes in."""

import json
import sqlite3

from typer.testing import CliRunner

from impex.cli.main import app
from support import write

TABLES = """
CREATE TABLE departments (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO departments VALUES (1, 'Sales'), (2, 'Ops'), (3, 'Lab');
CREATE TABLE employees (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    department_id INTEGER NOT NULL REFERENCES departments (id),
    manager_id INTEGER REFERENCES employees (id) DEFERRABLE INITIALLY DEFERRED
);
"""
# Cy's manager, Dee, comes after him; Bob's department and Eve's manager do not exist.
STAFF = "id,name,department_id,manager_id\n1,Ann,1,\n2,Bob,9,1\n3,Cy,2,4\n4,Dee,2,1\n5,Eve,1,77\n"
JOB = """kind: import
name: {name}
source: {source}
chunk_rows: 2
target: {{table: {table}, create: false}}
columns:
{columns}
{extra}
"""
STAFF_COLUMNS = """  - {name: id, type: integer, required: true}
  - {name: name, required: true}
  - {name: department_id, type: integer}
  - {name: manager_id, type: integer}"""


def test_a_job_into_tables_with_foreign_keys_rejects_the_orphans_and_the_deletes_still_referred_to(
    data_dir, tmp_path
):
    runner = CliRunner()

    def impex(*args: str):
        return runner.invoke(app, ["--data-dir", str(data_dir), *args], catch_exceptions=False)

    with sqlite3.connect(data_dir / "data.db") as c:
        c.executescript(TABLES)
    write(tmp_path / "staff.csv", STAFF)
    staff = write(
        tmp_path / "staff.yaml",
        JOB.format(name="staff", source="staff.csv", table="employees", columns=STAFF_COLUMNS, extra=""),
    )
    assert impex("run", str(staff)).exit_code == 0
    shown = json.loads(impex("jobs", "rejects", "1", "--json").stdout)
    assert [(r["line_no"], r["raw"], r["column"], r["value"], r["message"]) for r in shown] == [
        (
            3,
            "2,Bob,9,1",
            "department_id",
            "9",
            "line 3: refused by the database: column department_id = '9': "
            "FOREIGN KEY constraint failed: not present in departments (id)",
        ),
        (
            6,
            "5,Eve,1,77",
            "manager_id",
            "77",
            "line 6: refused by the database: column manager_id = '77': "
            "FOREIGN KEY constraint failed: not present in employees (id)",
        ),
    ]

    write(tmp_path / "closed.csv", "id\n2\n3\n")
    closed = write(
        tmp_path / "closed.yaml",
        JOB.format(
            name="closed",
            source="closed.csv",
            table="departments",
            columns="  - {name: id, type: integer}",
            extra="reconciliation: {keys: [id], operation: delete}",
        ),
    )
    assert impex("run", str(closed)).exit_code == 0
    shown = json.loads(impex("jobs", "rejects", "2", "--json").stdout)
    assert [(r["line_no"], r["raw"], r["message"]) for r in shown] == [
        (
            2,
            "2",
            "line 2: refused by the database: column id = '2': "
            "FOREIGN KEY constraint failed: still referred to from employees (department_id)",
        )
    ]

    with sqlite3.connect(data_dir / "data.db") as c:
        assert c.execute("SELECT * FROM departments ORDER BY id").fetchall() == [(1, "Sales"), (2, "Ops")]
        assert c.execute("SELECT * FROM employees ORDER BY id").fetchall() == [
            (1, "Ann", 1, None),
            (3, "Cy", 2, 4),
            (4, "Dee", 2, 1),
        ]
