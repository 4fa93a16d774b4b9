"""Many workers on one store: claims, recoveries, heartbeats and migrations that race each other.
Each test runs on SQLite and on PostgreSQL (see conftest.py)."""

import threading
from collections import Counter

import pytest
import sqlalchemy as sa

from impex.domain.counters import Counters
from impex.domain.status import A, S
from impex.store.store import LeaseLost, Store

DEFINITION = {"kind": "import", "name": "contacts", "queue": "default"}


def queued_jobs(store, n):
    ids = [store.create_job(DEFINITION) for _ in range(n)]
    for job_id in ids:
        store.transition(job_id, A.START, actor="ana")
    return ids


def together(n, action):
    """Run ``action(i)`` in n threads released at the same instant; return their results."""
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list[BaseException] = []

    def run(i):
        barrier.wait()
        try:
            results[i] = action(i)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return results


def test_workers_claiming_at_once_each_get_a_different_job(store):
    ids = queued_jobs(store, 24)

    def claim_all(i):
        mine = []
        while (claim := store.claim_next(f"w{i}", ["default"], 30)) is not None:
            mine.append(claim.job.id)
        return mine

    claimed = [job_id for mine in together(6, claim_all) for job_id in mine]
    assert sorted(claimed) == ids
    assert {store.status_of(i) for i in ids} == {S.RUNNING}


def test_workers_recovering_at_once_queue_each_expired_job_exactly_once(store):
    ids = queued_jobs(store, 10)
    for _ in ids:
        store.claim_next("dead", ["default"], lease_seconds=-1)
    results = together(4, lambda i: store.recover(actor=f"worker {i}", include_shutdown=False))
    recovered = Counter(r.job_id for batch in results for r in batch)
    assert recovered == Counter(ids)
    recover_lines = [
        line for i in ids for line in store.journal_lines(i) if line.params.get("action") == "recover"
    ]
    assert len(recover_lines) == len(ids)


def test_a_heartbeat_renews_an_expired_lease_before_anyone_recovers_it(store):
    [job_id] = queued_jobs(store, 1)
    claim = store.claim_next("w", ["default"], lease_seconds=-1)
    assert store.heartbeat("w", [claim.run.id], lease_seconds=30) == set()
    assert store.recover(actor="worker x", include_shutdown=False) == []
    assert store.status_of(job_id) is S.RUNNING


def test_a_worker_that_lost_its_lease_can_no_longer_change_the_job(store):
    [job_id] = queued_jobs(store, 1)
    old = store.claim_next("old", ["default"], lease_seconds=-1)
    store.recover(actor="worker new", include_shutdown=False)
    new = store.claim_next("new", ["default"], lease_seconds=30)
    assert new.run.id == old.run.id and new.lease_token != old.lease_token
    assert store.heartbeat("old", [old.run.id], 30) == {old.run.id}
    with pytest.raises(LeaseLost):
        store.transition(job_id, A.FINISH, actor="worker old", lease_token=old.lease_token)
    with pytest.raises(LeaseLost):
        store.record_progress(old.run.id, Counters(read=99), lease_token=old.lease_token)
    assert store.status_of(job_id) is S.RUNNING
    assert store.run(old.run.id).counters.read == 0
    store.record_progress(new.run.id, Counters(read=5), lease_token=new.lease_token)
    store.transition(job_id, A.FINISH, actor="worker new", lease_token=new.lease_token)
    assert store.status_of(job_id) is S.FINISHED


def test_jobs_a_shutdown_left_are_queued_again_by_a_live_worker(store):
    [job_id] = queued_jobs(store, 1)
    store.claim_next("stopping", ["default"], lease_seconds=30)
    store.transition(job_id, A.SHUTDOWN, actor="worker stopping")
    [recovered] = store.recover(actor="worker live", include_shutdown=True)
    assert (recovered.job_id, recovered.transition.source) == (job_id, S.SERVER_SHUTDOWN)
    assert store.status_of(job_id) is S.QUEUED


def test_processes_opening_a_new_store_at_once_migrate_it_once(store_url):
    stores = together(5, lambda i: Store.open(store_url))
    try:
        assert len({s.store_id for s in stores}) == 1
    finally:
        for s in stores:
            s.close()


def test_a_claim_skips_a_job_another_transaction_has_locked_instead_of_waiting(store):
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks; BEGIN IMMEDIATE serializes whole transactions")
    first, second = queued_jobs(store, 2)
    with store.engine.begin() as other:
        other.execute(sa.text("SELECT id FROM jobs WHERE id = :i FOR UPDATE"), {"i": first})
        claim = store.claim_next("w", ["default"], 30)
        assert claim is not None and claim.job.id == second
    assert store.claim_next("w", ["default"], 30).job.id == first


def test_reading_a_job_waits_for_no_writer(store):
    """A running job reads its status at every chunk; a CLI or another worker may be writing then.
    Reads take no write lock (SQLite: a plain BEGIN on WAL's snapshot), so they never queue."""
    job_id = store.create_job(DEFINITION)
    read: list = []
    reader = threading.Thread(
        target=lambda: read.append((store.status_of(job_id), store.job(job_id).name, store.runs_of(job_id)))
    )
    with store.engine.begin() as writer:  # holds the write lock (SQLite) or the job row (PostgreSQL)
        writer.execute(sa.text("UPDATE jobs SET name = 'renamed' WHERE id = :i"), {"i": job_id})
        reader.start()
        reader.join(5)
        assert read == [(S.EDITING, "contacts", [])]  # what was committed, without waiting
    reader.join()


def test_a_journal_line_written_while_the_job_is_in_a_transition_waits_for_no_one(store):
    """Journal writers take turns (ids visible in order) but never wait for a job row meanwhile: a
    progress line of the job being paused, and the pause's own line, both commit."""
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks; BEGIN IMMEDIATE serializes whole transactions")
    from impex.domain.journal import Level
    from impex.store.schema import jobs
    from impex.store.store import _for_update

    job_id = store.create_job(DEFINITION)
    errors: list[BaseException] = []
    logged = threading.Event()

    def progress_line():
        try:
            store.log(job_id, None, Level.INFO, "run.progress", {"read": 1})
            logged.set()
        except BaseException as e:  # handed to the test
            errors.append(e)

    with store.engine.connect() as c:
        transaction = c.begin()
        c.execute(_for_update(c, sa.select(jobs.c.status).where(jobs.c.id == job_id))).first()
        writer = threading.Thread(target=progress_line)
        writer.start()
        assert logged.wait(5)  # its foreign-key check did not wait for the locked job row
        store._journal(c, job_id, None, Level.INFO, "job.transition", {}, "ana")
        transaction.commit()
    writer.join(5)
    assert errors == []
    codes = [line.code for line in store.journal_lines(job_id)]
    assert codes == ["job.created", "run.progress", "job.transition"]


def test_a_new_sqlite_store_opens_once_another_process_lets_go_of_the_file(tmp_path):
    """Switching a file to WAL needs it to itself, and SQLite does not wait for that by itself."""
    import sqlite3

    path = tmp_path / "impex.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("CREATE TABLE other (a)")
    threading.Timer(0.3, lambda: holder.execute("COMMIT")).start()
    store = Store.open(f"sqlite:///{path}")
    try:
        assert store.engine.dialect.name == "sqlite"
        with store.engine.connect() as c:
            assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        store.close()
        holder.close()


def test_foreground_runs_of_one_definition_started_at_once_take_one_job(store):
    definition = {"kind": "import", "name": "same", "queue": "default", "source": "a.csv"}
    results = together(4, lambda i: store.job_to_run(definition, actor=f"cli {i}"))
    assert len({job_id for job_id, _ in results}) == 1
    assert sorted(before is None for _, before in results) == [False, False, False, True]
    [job] = store.list_jobs()
    assert job.status is S.QUEUED
