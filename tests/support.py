"""Helpers for tests that run jobs in this process against real SQLite files."""

from __future__ import annotations

import random
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from impex.definitions_io import parse_definition
from impex.domain.status import A, S, Status
from impex.engine.execution import Progress
from impex.engine.worker import Worker


def define(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"kind": "import", "name": "test import", "target": {"table": "t"}}
    base.update(fields)
    parse_definition(base)  # fail early on a bad test definition
    return base


def submit(store, definition: dict[str, Any]) -> int:
    job_id = store.create_job(parse_definition(definition).model_dump(mode="json"), actor="tester")
    store.transition(job_id, A.START, actor="tester")
    return job_id


def run_job(
    store, settings, definition: dict[str, Any] | int, on_progress: Callable[[Progress], None] | None = None
) -> tuple[Status | None, int]:
    job_id = definition if isinstance(definition, int) else submit(store, definition)
    worker = Worker(store, settings, concurrency=1, on_progress=on_progress)
    return worker.run_one(job_id), job_id


def table_rows(data_dir: Path, table: str = "t", order: str = "1") -> list[tuple[Any, ...]]:
    with sqlite3.connect(data_dir / "data.db") as c:
        return c.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()


def rejects(store, job_id: int) -> list[tuple[int, int, str, bytes]]:
    run = store.runs_of(job_id)[-1]
    return [(r.record_no, r.line_no, r.reason, r.raw) for r in store.rejects_of(run.id, limit=10**9)]


def codes(store, job_id: int) -> list[str]:
    return [line.code for line in store.journal_lines(job_id, limit=10**6)]


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


IMPEX = [sys.executable, "-m", "impex"]


def make_contacts(path: Path, rows: int, seed: int = 7) -> Path:
    """A CSV with ~1% bad rows of several kinds and some doubles, ids mostly ascending."""
    rng = random.Random(seed)
    lines = ["id,name,email,age,joined"]
    for i in range(1, rows + 1):
        roll = rng.random()
        if roll < 0.003:
            lines.append(f"{i},Name {i},n{i}@example.com,old,2020-01-01")  # type error
        elif roll < 0.005:
            lines.append(f"{i},Name {i},n{i}@example.com")  # wrong field count
        elif roll < 0.007:
            lines.append(f"{i},,n{i}@example.com,20,2020-01-01")  # missing required
        elif roll < 0.009:
            earlier = rng.randint(1, max(1, i - 1))  # a double of a key near or far back
            lines.append(f"{earlier},Again {i},a{i}@example.com,21,2021-02-03")
        elif roll < 0.010:
            lines.append(f'{i},"Quoted, {i}\nsecond line",q{i}@example.com,22,2019-12-31')  # multi-line
        else:
            lines.append(
                f"{i},Name {i},n{i}@example.com,{20 + i % 50},2020-{1 + i % 12:02d}-{1 + i % 28:02d}"
            )
    path.write_text("\n".join(lines) + "\n")
    return path


# Employees in departments; an employee's manager is an employee (a key SQLite checks at COMMIT).
STAFF = """
CREATE TABLE IF NOT EXISTS departments (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT OR IGNORE INTO departments VALUES (1, 'Sales'), (2, 'Ops'), (3, 'Lab');
CREATE TABLE {table} (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    department_id INTEGER NOT NULL REFERENCES departments (id),
    manager_id INTEGER REFERENCES {table} (id) DEFERRABLE INITIALLY DEFERRED
);
-- Without it SQLite scans the table for a manager's employees at each insert while a check is pending.
CREATE INDEX {table}_manager ON {table} (manager_id);
"""


def make_staff(path: Path, rows: int, seed: int = 11) -> Path:
    """Employees whose manager (one of the first 200) mostly comes before them, sometimes a few
    lines after (in the same chunk or the next), sometimes never; now and then in a department that
    is not there."""
    rng = random.Random(seed)
    lines = ["id,name,department_id,manager_id"]
    for i in range(1, rows + 1):
        roll = rng.random()
        if i == 1 or roll < 0.05:
            manager = ""
        elif roll < 0.85:
            manager = str(rng.randint(1, min(i - 1, 200)))
        elif roll < 0.97:
            manager = str(i + rng.randint(1, 20))
        else:
            manager = str(rows + 1000 + i)
        department = 9 if rng.random() < 0.01 else rng.randint(1, 3)
        lines.append(f"{i},Name {i},{department},{manager}")
    return write(path, "\n".join(lines) + "\n")


JOB = """kind: import
name: contacts
source: {source}
chunk_rows: {chunk_rows}
target: {{table: contacts}}
columns:
  - {{name: id, type: integer, required: true}}
  - {{name: name, required: true, max_length: 40}}
  - {{name: email, max_length: 60}}
  - {{name: age, type: integer}}
  - {{name: joined, type: date}}
reconciliation: {{keys: [id], doubles: reject}}
"""


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``condition`` until it gives something true (returned), failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
    return result


def staged(frame, first_record=1):
    """Rows as the engine stages them in atomic mode: each with its record number, the line after it
    (a header comes first) and raw bytes naming the record (``raw 3``)."""
    import polars as pl

    records = range(first_record, first_record + frame.height)
    return frame.with_columns(
        pl.Series("_rec", records, dtype=pl.Int64),
        pl.Series("_line", [r + 1 for r in records], dtype=pl.Int64),
        pl.Series("_raw", [f"raw {r}".encode() for r in records], dtype=pl.Binary),
    )


def pause_once_and_meddle(store, settings, definition: dict[str, Any], meddle: Callable[[], None]) -> int:
    """Run, pause after the first chunk, ``meddle`` with the source, resume to the end; the job's id."""

    def pause(progress: Progress) -> None:
        if store.status_of(progress.job_id) is S.RUNNING:
            store.transition(progress.job_id, A.PAUSE, actor="tester")

    status, job_id = run_job(store, settings, definition, on_progress=pause)
    assert status is S.PAUSED
    meddle()
    store.transition(job_id, A.START, actor="tester")
    assert run_job(store, settings, job_id)[0] is S.FINISHED
    return job_id
