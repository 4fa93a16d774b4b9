"""The worker: claims queued jobs, runs several at once, honours queues, recovers what others left."""

import threading
import time

from impex.domain.status import A, S
from impex.engine.worker import Worker
from impex.settings import load_settings
from support import define, submit, table_rows, write


def test_a_worker_runs_every_queued_job_up_to_its_concurrency(store, settings, data_dir, tmp_path):
    running_at_once = []
    worker = Worker(store, settings, concurrency=2)
    worker.on_progress = lambda p: running_at_once.append(len(worker._running))
    rows = "id,v\n" + "".join(f"{i},{i}\n" for i in range(1, 201))
    ids = [
        submit(
            store,
            define(
                source=str(write(tmp_path / f"f{n}.csv", rows)),
                target={"table": f"t{n}"},
                chunk_rows=10,
                name=f"job {n}",
            ),
        )
        for n in range(4)
    ]
    worker.serve(exit_when_idle=True)
    assert [store.status_of(i) for i in ids] == [S.FINISHED] * 4
    assert max(running_at_once) == 2
    for n in range(4):
        assert len(table_rows(data_dir, f"t{n}")) == 200


def test_a_worker_takes_only_jobs_of_its_queues(store, settings, tmp_path):
    path = write(tmp_path / "f.csv", "id\n1\n")
    mine = submit(store, define(source=str(path), queue="reports", target={"table": "a"}))
    other = submit(store, define(source=str(path), target={"table": "b"}))
    Worker(store, settings, queues=("reports",)).serve(exit_when_idle=True)
    assert store.status_of(mine) is S.FINISHED
    assert store.status_of(other) is S.QUEUED


def test_shutdown_stops_each_job_at_a_chunk_boundary_naming_the_signal(store, settings, tmp_path):
    rows = "id\n" + "".join(f"{i}\n" for i in range(1, 2001))
    job_id = submit(store, define(source=str(write(tmp_path / "f.csv", rows)), chunk_rows=10))
    worker = Worker(store, settings)

    def stop_soon(progress):
        if progress.counters.read >= 50:
            worker.shutdown.request("SIGTERM")

    worker.on_progress = stop_soon
    worker.serve()
    assert store.status_of(job_id) is S.SERVER_SHUTDOWN
    line = next(line for line in store.journal_lines(job_id) if line.code == "run.shutdown")
    assert line.params["signal"] == "SIGTERM" and line.params["record_no"] == 50


def left_by_a_shutdown(store, settings, tmp_path, signal: str) -> int:
    """A job of 100 records a shutdown by ``signal`` stopped after its first chunk: its id."""
    rows = "id\n" + "".join(f"{i}\n" for i in range(1, 101))
    columns = [{"name": "id", "type": "integer"}]
    job_id = submit(
        store, define(source=str(write(tmp_path / "f.csv", rows)), chunk_rows=10, columns=columns)
    )
    first = Worker(store, settings)
    first.on_progress = lambda p: first.shutdown.request(signal)
    first.serve()
    assert store.status_of(job_id) is S.SERVER_SHUTDOWN
    return job_id


def test_jobs_left_by_a_shutdown_resume_when_a_worker_starts(store, settings, data_dir, tmp_path):
    job_id = left_by_a_shutdown(store, settings, tmp_path, "SIGINT")
    Worker(store, settings).serve(exit_when_idle=True)
    assert store.status_of(job_id) is S.FINISHED
    assert [r[0] for r in table_rows(data_dir)] == list(range(1, 101))
    takeover = next(line for line in store.journal_lines(job_id) if line.code == "worker.takeover")
    assert takeover.params["reason"] == "a server shutdown"
    assert (
        takeover.text.startswith("Taken over by worker ")
        and " after a server shutdown (its previous" in takeover.text
    )
    assert takeover.run_id == store.runs_of(job_id)[-1].id
    resumed = next(line for line in store.journal_lines(job_id) if line.code == "run.resumed")
    assert resumed.params["reason"] == "a shutdown (SIGINT)"


def test_a_job_a_shutdown_left_can_be_paused_to_stay_stopped_when_workers_start_then_start_resumes_it(
    store, settings, data_dir, tmp_path
):
    job_id = left_by_a_shutdown(store, settings, tmp_path, "SIGTERM")
    held = len(table_rows(data_dir))
    store.transition(job_id, A.PAUSE, actor="operator")
    Worker(store, settings).serve(exit_when_idle=True)
    assert store.status_of(job_id) is S.PAUSED and len(table_rows(data_dir)) == held
    store.transition(job_id, A.START, actor="operator")
    Worker(store, settings).serve(exit_when_idle=True)
    assert store.status_of(job_id) is S.FINISHED
    assert [r[0] for r in table_rows(data_dir)] == list(range(1, 101))
    assert len(store.runs_of(job_id)) == 1  # the same run went on from its checkpoint


def test_pause_reaches_a_running_job_within_a_second(store, settings, tmp_path):
    rows = "id\n" + "".join(f"{i}\n" for i in range(1, 200_001))
    job_id = submit(store, define(source=str(write(tmp_path / "f.csv", rows)), chunk_rows=1000))
    worker = Worker(store, settings)
    thread = threading.Thread(target=worker.serve, kwargs={"exit_when_idle": True})
    thread.start()
    while store.status_of(job_id) is not S.RUNNING or store.runs_of(job_id)[0].counters.read == 0:
        time.sleep(0.005)
    asked = time.monotonic()
    store.transition(job_id, A.PAUSE, actor="tester")
    while store.status_of(job_id) is S.PAUSING:
        time.sleep(0.005)
    took = time.monotonic() - asked
    thread.join()
    assert store.status_of(job_id) is S.PAUSED
    assert took < 1.0


def test_a_named_connection_that_cannot_be_opened_ends_with_errors_and_says_why(store, data_dir, tmp_path):
    connections = write(tmp_path / "connections.yaml", f"broken: sqlite:///{tmp_path}\n")
    settings = load_settings({"data_dir": str(data_dir), "connections_file": str(connections)}, env={})
    job_id = submit(
        store,
        define(
            source=str(write(tmp_path / "f.csv", "id\n1\n")), target={"table": "t", "connection": "broken"}
        ),
    )
    Worker(store, settings).serve(exit_when_idle=True)
    assert store.status_of(job_id) is S.FINISHED_WITH_ERRORS
    error = next(line for line in store.journal_lines(job_id) if line.code == "run.error")
    assert str(tmp_path) in error.params["error"]


def test_an_unknown_connection_name_lists_the_known_ones(store, settings, tmp_path):
    job_id = submit(
        store,
        define(
            source=str(write(tmp_path / "f.csv", "id\n1\n")), target={"table": "t", "connection": "nowhere"}
        ),
    )
    Worker(store, settings).serve(exit_when_idle=True)
    error = next(line for line in store.journal_lines(job_id) if line.code == "run.error")
    assert "no connection named 'nowhere' (known: default)" in error.params["error"]


def test_a_stored_definition_the_engine_cannot_read_fails_its_job_instead_of_crashing_the_worker(
    store, settings
):
    """Its run ends with errors, saying why, once; the worker goes on, not to the same job again."""
    job_id = store.create_job(
        {"kind": "export", "name": "bad", "source": {"table": "t"}, "output": "x.csv", "chunk_rows": 0},
        actor="tester",
    )
    store.transition(job_id, A.START, actor="tester")
    Worker(store, settings).serve(exit_when_idle=True)
    assert store.status_of(job_id) is S.FINISHED_WITH_ERRORS
    [error] = [line.text for line in store.journal_lines(job_id) if line.code == "run.error"]
    assert "chunk_rows" in error
