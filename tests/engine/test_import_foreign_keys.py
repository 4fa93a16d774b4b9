"""An import into SQLite tables with foreign keys, in this process: an orphan is a reject, whether its
key is checked at once or at COMMIT (deferred), and a run paused and resumed refuses and keeps
exactly the rows an uninterrupted run does."""

import sqlite3
from pathlib import Path

from impex.domain.status import A, S
from support import STAFF, define, make_staff, rejects, run_job

COLUMNS = [
    {"name": "id", "type": "integer", "required": True},
    {"name": "name", "required": True},
    {"name": "department_id", "type": "integer", "required": True},
    {"name": "manager_id", "type": "integer"},
]


def content(data_dir: Path, table: str):
    with sqlite3.connect(data_dir / "data.db") as c:
        return c.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()


def staff_job(data_dir: Path, source: Path, table: str):
    with sqlite3.connect(data_dir / "data.db") as c:
        c.executescript(STAFF.format(table=table))
    return define(
        source=str(source), target={"table": table, "create": False}, columns=COLUMNS, chunk_rows=100
    )


def test_paused_and_resumed_runs_refuse_and_keep_the_rows_an_uninterrupted_run_does(
    store, settings, data_dir, tmp_path
):
    source = make_staff(tmp_path / "staff.csv", rows=1_000)
    status, reference = run_job(store, settings, staff_job(data_dir, source, "reference"))
    assert status is S.FINISHED
    pauses: list[int] = []

    def pause_each_time(progress):
        if len(pauses) < 4 and progress.counters.read not in pauses and progress.counters.read % 300 < 100:
            pauses.append(progress.counters.read)
            store.transition(progress.job_id, A.PAUSE, actor="tester")

    status, job_id = run_job(
        store, settings, staff_job(data_dir, source, "staff"), on_progress=pause_each_time
    )
    while status is S.PAUSED:
        store.transition(job_id, A.START, actor="tester")
        status, _ = run_job(store, settings, job_id, on_progress=pause_each_time)
    assert status is S.FINISHED and len(pauses) >= 3
    assert content(data_dir, "staff") == content(data_dir, "reference")
    refused = rejects(store, job_id)
    assert refused == rejects(store, reference)
    messages = {r.message.split(": ", 3)[-1] for r in store.rejects_of(store.runs_of(job_id)[-1].id)}
    assert messages == {
        "FOREIGN KEY constraint failed: not present in departments (id)",
        "FOREIGN KEY constraint failed: not present in staff (id)",
    }
    kept = {row[0] for row in content(data_dir, "staff")}
    assert all(manager in kept for (_, _, _, manager) in content(data_dir, "staff") if manager is not None)
    c = store.runs_of(job_id)[-1].counters
    assert (c.read, c.inserted + c.rejected) == (1_000, 1_000)
