"""Many workers, one PostgreSQL store: three `impex worker` processes share twenty import jobs, one of
them is killed with SIGKILL in the middle of a job, and every table still ends exactly as an
uninterrupted run's. These drive the real `impex` command in subprocesses."""

import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from impex.domain.status import S
from impex.store.store import Store
from pg_support import fresh_schema
from support import IMPEX, JOB, make_contacts, submit, wait_until

JOBS = 20
ROWS = 12_500  # 25 chunks a job: six run at once, long enough to kill a worker in the middle of one
CLI_SUBMITS = 4
SECRET = "not-a-real-password-4f9c"  # the local server trusts; the password must still never leak


@pytest.fixture
def pg_store_url():
    with fresh_schema() as url:
        parsed = sa.make_url(url)
        if parsed.password is None:
            parsed = parsed.set(password=SECRET)
        yield parsed.render_as_string(hide_password=False)


def impex(env, *args):
    return subprocess.run([*IMPEX, *args], env=env, capture_output=True, text=True, check=True, timeout=120)


def job_files(tmp_path: Path) -> tuple[Path, list[Path]]:
    """One source file; a reference job into `contacts`, and twenty jobs each into its own table."""
    source = make_contacts(tmp_path / "contacts.csv", ROWS)
    text = JOB.format(source=source, chunk_rows=500)
    reference = tmp_path / "reference.yaml"
    reference.write_text(text)
    jobs = []
    for n in range(JOBS):
        path = tmp_path / f"job{n}.yaml"
        path.write_text(
            text.replace("name: contacts", f"name: contacts {n}").replace(
                "table: contacts", f"table: contacts_{n}"
            )
        )
        jobs.append(path)
    return reference, jobs


def table(db: Path, name: str):
    with sqlite3.connect(db) as c:
        return c.execute(f"SELECT * FROM {name} ORDER BY id").fetchall()


def run_outcome(store: Store, job_id: int):
    run = store.runs_of(job_id)[-1]
    rejects = [
        (r.record_no, r.line_no, r.reason, r.raw, r.message) for r in store.rejects_of(run.id, limit=10**9)
    ]
    c = run.counters
    return rejects, (c.read, c.inserted, c.rejected, c.doubles)


def reference(tmp_path: Path, job: Path, env: dict[str, str]):
    """The uninterrupted run, on the embedded SQLite store."""
    ref_dir = tmp_path / "reference"
    impex({**env, "IMPEX_DATA_DIR": str(ref_dir)}, "run", str(job), "--json")
    store = Store.open(f"sqlite:///{ref_dir / 'impex.db'}")
    try:
        [job_id] = [j.id for j in store.list_jobs()]
        return table(ref_dir / "data.db", "contacts"), run_outcome(store, job_id)
    finally:
        store.close()


def running_mid_job(store: Store, workers: list[subprocess.Popen]) -> tuple[subprocess.Popen, int] | None:
    """A worker process holding a running job that has committed some records but not all."""
    for job in store.list_jobs(status=S.RUNNING):
        run = store.run(job.current_run_id)
        if run.worker and 0 < run.counters.read < ROWS * 0.8:
            for w in workers:
                if run.worker.endswith(f":{w.pid}"):
                    return w, job.id
    return None


@pytest.mark.slow
def test_three_workers_share_twenty_jobs_and_one_killed_mid_job_is_taken_over_exactly_once(
    tmp_path, data_dir, impex_env, pg_store_url
):
    reference_job, jobs = job_files(tmp_path)
    expected_table, expected_outcome = reference(tmp_path, reference_job, impex_env)
    env = {
        **impex_env,
        "IMPEX_DATABASE_URL": pg_store_url,
        "IMPEX_LEASE_SECONDS": "2",
        "IMPEX_WORKER_CONCURRENCY": "2",
    }
    # A few submissions at once on an empty store: one process migrates it, the others wait for it.
    # The rest go through the library, which spares the test the start-up of sixteen more processes.
    submits = [
        subprocess.Popen([*IMPEX, "submit", str(j), "--json"], env=env, stdout=subprocess.PIPE, text=True)
        for j in jobs[:CLI_SUBMITS]
    ]
    job_ids = [json.loads(p.communicate(timeout=120)[0])["id"] for p in submits]
    store = Store.open(pg_store_url)
    logs = [tmp_path / f"worker{n}.log" for n in range(3)]
    outputs = [log.open("w") for log in logs]
    workers: list[subprocess.Popen] = []
    try:
        job_ids += [submit(store, yaml.safe_load(j.read_text())) for j in jobs[CLI_SUBMITS:]]
        job_ids.sort()
        assert len(set(job_ids)) == JOBS
        workers += [
            subprocess.Popen([*IMPEX, "worker"], env=env, stdout=out, stderr=subprocess.STDOUT)
            for out in outputs
        ]
        victim, cut = wait_until(
            lambda: running_mid_job(store, workers), 120, "a worker in the middle of a job"
        )
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        survivors = [w for w in workers if w is not victim]
        wait_until(
            lambda: all(store.status_of(i) in {S.FINISHED, S.FINISHED_WITH_ERRORS} for i in job_ids),
            240,
            "every job to end",
        )
        for w in survivors:
            w.send_signal(signal.SIGTERM)
        for w in survivors:
            w.wait(timeout=60)
        assert [w.returncode for w in survivors] == [0, 0]

        unfinished = {
            i: (store.status_of(i), [line.params for line in store.why_failed(store.runs_of(i)[-1]) or []])
            for i in job_ids
            if store.status_of(i) is not S.FINISHED
        }
        assert not unfinished, f"jobs that did not finish, and why: {unfinished}"
        for n, job_id in enumerate(job_ids):
            name = store.job(job_id).definition["target"]["table"]
            assert table(data_dir / "data.db", name) == expected_table, f"job {n}: table {name}"
            assert run_outcome(store, job_id) == expected_outcome, f"job {n}: rejects or counters"

        victim_name = f":{victim.pid}"
        takeovers = [
            (job_id, line)
            for job_id in job_ids
            for line in store.journal_lines(job_id, limit=10**6)
            if line.code == "worker.takeover"
        ]
        assert cut in {job_id for job_id, _ in takeovers}, "the journal records the takeover"
        for _job, line in takeovers:  # the job cut in the middle, and maybe one the victim had just begun
            assert line.params["reason"] == "its lease ran out"
            assert line.params["previous"].endswith(victim_name)
            assert not line.actor.endswith(victim_name)
        after = store.journal_lines(cut, after_id=dict(takeovers)[cut].id, limit=10**6)
        assert [x.code for x in after].count("run.resumed") == 1

        shown = [
            impex(env, "jobs", "list", "--json").stdout,
            impex(env, "jobs", "show", str(cut), "--json").stdout,
            impex(env, "jobs", "journal", str(cut), "--json").stdout,
        ]
        with store.engine.connect() as c:
            stored = [str(row) for row in c.execute(sa.text("SELECT * FROM journal"))]
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait()
        for out in outputs:
            out.close()
        store.close()
    password = sa.make_url(pg_store_url).password
    assert password
    for text in [*shown, *stored, *(log.read_text() for log in logs)]:
        assert password not in text
    assert not any("Traceback" in log.read_text() for log in logs)


def test_a_store_that_cannot_be_reached_is_reported_without_its_password(impex_env):
    env = {**impex_env, "IMPEX_DATABASE_URL": f"postgresql://impex:{SECRET}@127.0.0.1:9/impex"}
    done = subprocess.run([*IMPEX, "jobs", "list"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "error: cannot open the store postgresql://impex:***@127.0.0.1:9/impex" in done.stderr
    assert SECRET not in done.stdout + done.stderr


def status_after(store: Store, job_id: int, wanted: S, timeout: float) -> float:
    """Seconds until the job reaches ``wanted``."""
    start = time.monotonic()
    wait_until(lambda: store.status_of(job_id) is wanted, timeout, f"job {job_id} to be {wanted.value}")
    return time.monotonic() - start


def holder(store: Store, job_id: int, workers: list[subprocess.Popen]) -> subprocess.Popen | None:
    job = store.job(job_id)
    run = store.run(job.current_run_id)
    if job.status is not S.RUNNING or not run.worker or run.counters.read == 0:
        return None
    return next((w for w in workers if run.worker.endswith(f":{w.pid}")), None)


def test_pause_cancel_and_sigterm_reach_whichever_worker_runs_the_job(tmp_path, impex_env, pg_store_url):
    rows = "id\n" + "".join(f"{i}\n" for i in range(1, 1_000_001))
    (tmp_path / "ids.csv").write_text(rows)
    env = {**impex_env, "IMPEX_DATABASE_URL": pg_store_url, "IMPEX_LEASE_SECONDS": "2"}
    store = Store.open(pg_store_url)
    definition = {
        "kind": "import",
        "name": "ids",
        "source": str(tmp_path / "ids.csv"),
        "chunk_rows": 1000,
        "columns": [{"name": "id", "type": "integer"}],
        "target": {"table": "ids"},
    }
    job_id = submit(store, definition)
    workers = [
        subprocess.Popen([*IMPEX, "worker", "--concurrency", "1"], env=env, stdout=subprocess.DEVNULL)
        for _ in range(2)
    ]
    try:
        wait_until(lambda: holder(store, job_id, workers), 60, "a worker to run the job")
        impex(env, "jobs", "pause", str(job_id))
        assert status_after(store, job_id, S.PAUSED, 5) < 1.0

        impex(env, "jobs", "start", str(job_id))
        first = wait_until(lambda: holder(store, job_id, workers), 60, "a worker to resume the job")
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0
        other = wait_until(lambda: holder(store, job_id, workers), 30, "the other worker to take it")
        assert other is not first
        takeover = [x for x in store.journal_lines(job_id, limit=10**6) if x.code == "worker.takeover"]
        assert [x.params["reason"] for x in takeover] == ["a server shutdown"]

        impex(env, "jobs", "cancel", str(job_id))
        assert status_after(store, job_id, S.CANCELED, 5) < 1.0
    finally:
        for w in workers:
            if w.poll() is None:
                w.terminate()
                w.wait(timeout=30)
        store.close()
