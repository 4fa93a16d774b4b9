"""A run canceled while no worker holds it (paused, shut down) leaves nothing behind: no tables of
its own in the target, no partial export file."""

import sqlite3
from pathlib import Path

import pytest

from impex.domain.status import A, S
from impex.engine.actions import operate
from impex.engine.worker import Worker
from support import codes, define, make_contacts, run_job, submit, write

COLUMNS = [
    {"name": "id", "type": "integer", "required": True},
    {"name": "name", "required": True},
    {"name": "email"},
    {"name": "age", "type": "integer"},
    {"name": "joined", "type": "date"},
]


def paused_after_its_first_chunk(store, settings, definition) -> int:
    def pause_once(progress):
        if store.status_of(progress.job_id) is S.RUNNING:
            store.transition(progress.job_id, A.PAUSE, actor="tester")

    status, job_id = run_job(store, settings, definition, pause_once)
    assert status is S.PAUSED
    return job_id


def tables(data_dir: Path) -> list[str]:
    with sqlite3.connect(data_dir / "data.db") as c:
        return [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1")]


def contacts_import(tmp_path: Path, commit: str) -> dict:
    """An import of 3,000 contacts in chunks of 500, in the given commit mode."""
    source = make_contacts(tmp_path / "contacts.csv", 3000)
    return define(
        source=str(source),
        columns=COLUMNS,
        chunk_rows=500,
        commit=commit,
        reconciliation={"keys": ["id"], "doubles": "reject"},
    )


def table_export(data_dir: Path, tmp_path: Path) -> tuple[dict, Path]:
    """An export of a 2,000-row table in chunks of 200, and the file it writes."""
    with sqlite3.connect(data_dir / "data.db") as c:
        c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT)")
        c.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"note {i}") for i in range(1, 2001)])
    out = tmp_path / "out" / "t.csv"
    return {
        "kind": "export",
        "name": "t",
        "source": {"table": "t"},
        "output": str(out),
        "chunk_rows": 200,
    }, out


@pytest.mark.parametrize("commit", ["incremental", "atomic"])
def test_an_import_canceled_while_paused_drops_its_own_tables(store, settings, data_dir, tmp_path, commit):
    definition = contacts_import(tmp_path, commit)
    job_id = paused_after_its_first_chunk(store, settings, definition)
    assert any(name.startswith("_impex_s") for name in tables(data_dir))
    t = operate(store, settings, job_id, A.CANCEL, actor="tester")
    assert t.target is S.CANCELED
    assert tables(data_dir) == ["_impex_checkpoint", "t"]
    with sqlite3.connect(data_dir / "data.db") as c:
        count = c.execute("SELECT count(*) FROM t").fetchone()[0]
    assert (count == 0) if commit == "atomic" else (count > 0)


def test_an_export_canceled_while_paused_removes_its_partial_file(store, settings, data_dir, tmp_path):
    definition, out = table_export(data_dir, tmp_path)
    job_id = paused_after_its_first_chunk(store, settings, definition)
    assert [p.name for p in out.parent.iterdir()] != []
    operate(store, settings, job_id, A.CANCEL, actor="tester")
    assert list(out.parent.iterdir()) == []


def left_by_a_crash_amid_saving_resume_keys(out: Path) -> Path:
    """The file a kill -9 leaves while resume keys are written (beside the partial file, then renamed)."""
    (keys,) = out.parent.glob("*.resume")
    return write(keys.with_name(keys.name + ".new"), "[[200, [")


def test_an_export_canceled_while_paused_removes_what_a_crash_amid_saving_its_resume_keys_left(
    store, settings, data_dir, tmp_path
):
    definition, out = table_export(data_dir, tmp_path)
    job_id = paused_after_its_first_chunk(store, settings, definition)
    left_by_a_crash_amid_saving_resume_keys(out)
    operate(store, settings, job_id, A.CANCEL, actor="tester")
    assert list(out.parent.iterdir()) == []


def test_an_export_resumed_then_finished_removes_what_a_crash_amid_saving_its_resume_keys_left(
    store, settings, data_dir, tmp_path
):
    definition, out = table_export(data_dir, tmp_path)
    job_id = paused_after_its_first_chunk(store, settings, definition)
    left_by_a_crash_amid_saving_resume_keys(out)
    store.transition(job_id, A.START, actor="tester")
    assert run_job(store, settings, job_id)[0] is S.FINISHED
    assert list(out.parent.iterdir()) == [out]


def canceled_then_shut_down_before_its_next_chunk(store, settings, definition) -> int:
    """Cancel the job at its first chunk, and stop its worker (SIGTERM) before the next one."""
    worker = Worker(store, settings, concurrency=1)

    def cancel_then_stop(progress):
        if store.status_of(progress.job_id) is S.RUNNING:
            store.transition(progress.job_id, A.CANCEL, actor="tester")
            worker.shutdown.request("SIGTERM")

    worker.on_progress = cancel_then_stop
    job_id = submit(store, definition)
    assert worker.run_one(job_id) is S.CANCELED
    assert "run.canceled" in codes(store, job_id)
    return job_id


@pytest.mark.parametrize("commit", ["incremental", "atomic"])
def test_an_import_canceled_then_shut_down_before_its_next_chunk_drops_its_own_tables(
    store, settings, data_dir, tmp_path, commit
):
    definition = contacts_import(tmp_path, commit)
    canceled_then_shut_down_before_its_next_chunk(store, settings, definition)
    assert tables(data_dir) == ["_impex_checkpoint", "t"]
    if commit == "atomic":
        with sqlite3.connect(data_dir / "data.db") as c:
            assert c.execute("SELECT count(*) FROM t").fetchone()[0] == 0


def test_an_export_canceled_then_shut_down_before_its_next_chunk_removes_its_partial_file(
    store, settings, data_dir, tmp_path
):
    definition, out = table_export(data_dir, tmp_path)
    canceled_then_shut_down_before_its_next_chunk(store, settings, definition)
    assert list(out.parent.iterdir()) == []


def canceled_while_a_dead_worker_held_it(store, settings, definition) -> int:
    """Paused after its first chunk, started again, claimed by a worker that dies (its lease runs out
    at once), canceled meanwhile; then a worker starts and takes it over."""
    job_id = paused_after_its_first_chunk(store, settings, definition)
    store.transition(job_id, A.START, actor="tester")
    assert store.claim_job(job_id, "dead-worker", lease_seconds=0.0) is not None
    store.transition(job_id, A.CANCEL, actor="tester")
    assert store.status_of(job_id) is S.CANCELING
    Worker(store, settings).serve(exit_when_idle=True)
    assert store.status_of(job_id) is S.CANCELED
    return job_id


@pytest.mark.parametrize("commit", ["incremental", "atomic"])
def test_an_import_whose_worker_died_while_it_was_canceling_leaves_nothing_of_its_own_once_taken_over(
    store, settings, data_dir, tmp_path, commit
):
    definition = contacts_import(tmp_path, commit)
    canceled_while_a_dead_worker_held_it(store, settings, definition)
    assert tables(data_dir) == ["_impex_checkpoint", "t"]


def test_an_export_whose_worker_died_while_it_was_canceling_leaves_no_partial_file_once_taken_over(
    store, settings, data_dir, tmp_path
):
    definition, out = table_export(data_dir, tmp_path)
    canceled_while_a_dead_worker_held_it(store, settings, definition)
    assert list(out.parent.iterdir()) == []
