"""A paused run whose table was dropped or renamed meanwhile: Start does not make a new table for the
rest of the file (which would then hold part of it, and be said to hold all of it); the run ends with
errors saying what happened and what to do."""

import sqlite3
import subprocess
import sys

import pytest

from impex.domain.status import A, S
from support import codes, define, run_job, write


def _meanwhile(data_dir, statement: str) -> None:
    """What another program does to the target database (another process, as it would be)."""
    database = str(data_dir / "data.db")
    script = f"import sqlite3; c = sqlite3.connect({database!r}); c.execute({statement!r}); c.commit()"
    subprocess.run([sys.executable, "-c", script], check=True)


@pytest.mark.parametrize("commit", ["incremental", "atomic"])
@pytest.mark.parametrize("statement", ["DROP TABLE t", "ALTER TABLE t RENAME TO kept"])
def test_a_table_dropped_while_its_run_is_paused_ends_the_run_with_errors_at_start(
    store, settings, data_dir, tmp_path, commit, statement
):
    rows = "id,v\n" + "".join(f"{i},{i}\n" for i in range(1, 501))
    columns = [{"name": "id", "type": "integer"}, {"name": "v", "type": "integer"}]
    definition = define(
        source=str(write(tmp_path / "f.csv", rows)), columns=columns, chunk_rows=100, commit=commit
    )

    def pause_after_two_chunks(progress):
        if progress.counters.read >= 200 and store.status_of(progress.job_id) is S.RUNNING:
            store.transition(progress.job_id, A.PAUSE, actor="tester")

    status, job_id = run_job(store, settings, definition, on_progress=pause_after_two_chunks)
    assert status is S.PAUSED
    _meanwhile(data_dir, statement)
    store.transition(job_id, A.START, actor="tester")
    assert run_job(store, settings, job_id)[0] is S.FINISHED_WITH_ERRORS
    [error] = [line for line in store.journal_lines(job_id) if line.code == "run.error"]
    assert error.params["error"] == (
        "table t is gone: it was dropped or renamed since the run began, after its first 200 records "
        "had gone through; Start begins a new run that imports the whole file again"
    )
    assert codes(store, job_id).count("table.created") == 1  # when the run began, not again
    with sqlite3.connect(data_dir / "data.db") as c:
        assert not c.execute("SELECT 1 FROM sqlite_master WHERE name = 't'").fetchall()
        assert not c.execute("SELECT 1 FROM sqlite_master WHERE name LIKE '_impex_seen%'").fetchall()

    store.transition(job_id, A.START, actor="tester")  # a new run: the whole file
    assert run_job(store, settings, job_id)[0] is S.FINISHED
    with sqlite3.connect(data_dir / "data.db") as c:
        assert c.execute("SELECT count(*), min(id), max(id) FROM t").fetchone() == (500, 1, 500)
