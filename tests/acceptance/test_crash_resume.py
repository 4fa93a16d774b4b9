"""Exactly-once resume: kill -9 at random instants, SIGTERM, and the table and reject list end exactly
as an uninterrupted run's. These drive the real `impex` command in subprocesses."""

import contextlib
import json
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from impex.domain.status import S
from impex.store.errors import JobNotFound
from impex.store.store import Store
from support import IMPEX, STAFF, make_staff, write


def impex(env, *args, check=True):
    return subprocess.run([*IMPEX, *args], env=env, capture_output=True, text=True, check=check, timeout=300)


def outcome(data_dir: Path):
    with sqlite3.connect(data_dir / "data.db") as c:
        table = c.execute("SELECT * FROM contacts ORDER BY id").fetchall()
    with sqlite3.connect(data_dir / "impex.db") as c:
        rejects = c.execute(
            "SELECT record_no, line_no, reason, raw, message FROM rejects ORDER BY record_no"
        ).fetchall()
        counters = c.execute("SELECT read, inserted, rejected, doubles FROM runs").fetchall()
    return table, rejects, counters


def reference(tmp_path: Path, job: Path, env: dict[str, str]):
    ref_dir = tmp_path / "reference"
    impex({**env, "IMPEX_DATA_DIR": str(ref_dir)}, "run", str(job), "--json")
    return outcome(ref_dir)


def job_state(data_dir: Path, job_id: int):
    """(status, records read, the worker holding it)"""
    store = Store.open(f"sqlite:///{data_dir / 'impex.db'}")
    try:
        job = store.job(job_id)
        run = store.run(job.current_run_id) if job.current_run_id else None
        return job.status, (run.counters.read if run else 0), (run.worker if run else None)
    finally:
        store.close()


def kill_9_while_running(
    env: dict[str, str], data_dir: Path, job_id: int, *, times: int, within: float, seed: int
) -> list[int]:
    """Start a worker, let it run the job for a random instant up to ``within`` seconds (mid-chunk,
    mid-commit…), kill it with SIGKILL; ``times`` over, or until the job ends first. The records read
    as each kill left them."""
    rng = random.Random(seed)
    reads: list[int] = []
    while len(reads) < times:
        worker = subprocess.Popen(
            [*IMPEX, "worker", "--exit-when-idle"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while worker.poll() is None:
            status, _, holder = job_state(data_dir, job_id)
            if status is S.RUNNING and holder and holder.endswith(f":{worker.pid}"):
                break
            assert time.monotonic() < deadline, "the worker never took the job"
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, within))
        if worker.poll() is not None:
            break  # it finished before we could kill it
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        reads.append(job_state(data_dir, job_id)[1])
    return reads


def test_kill_9_at_twenty_random_instants_then_resume_gives_the_uninterrupted_result(
    tmp_path, data_dir, impex_env, contacts_job
):
    job = contacts_job(rows=250_000, chunk_rows=500)
    expected = reference(tmp_path, job, impex_env)
    env = {**impex_env, "IMPEX_LEASE_SECONDS": "0.3", "IMPEX_HEARTBEAT_SECONDS": "0.05"}
    job_id = json.loads(impex(env, "submit", str(job), "--json").stdout)["id"]
    reads = kill_9_while_running(env, data_dir, job_id, times=20, within=0.35, seed=20261124)
    assert len(reads) == 20, f"the import finished after only {len(reads)} kills; make the file larger"
    assert reads[-1] < expected[2][0][0], "the kills should all land before the end"
    time.sleep(0.4)  # let the last lease lapse
    impex(env, "worker", "--exit-when-idle")
    assert job_state(data_dir, job_id)[0] is S.FINISHED
    assert outcome(data_dir) == expected
    journal = impex(env, "jobs", "journal", str(job_id), "--json").stdout
    codes = [json.loads(line)["code"] for line in journal.splitlines()]
    assert codes.count("worker.takeover") >= 20


def test_sigterm_stops_at_a_chunk_boundary_as_server_shutdown_and_resumes_at_the_next_start(
    tmp_path, data_dir, impex_env, contacts_job
):
    job = contacts_job(rows=40_000, chunk_rows=500)
    expected = reference(tmp_path, job, impex_env)
    job_id = json.loads(impex(impex_env, "submit", str(job), "--json").stdout)["id"]
    worker = subprocess.Popen(
        [*IMPEX, "worker"], env=impex_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while job_state(data_dir, job_id)[1] == 0:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0
    status, read, _ = job_state(data_dir, job_id)
    assert status is S.SERVER_SHUTDOWN and 0 < read < 40_000
    impex(impex_env, "worker", "--exit-when-idle")
    assert job_state(data_dir, job_id)[0] is S.FINISHED
    assert outcome(data_dir) == expected
    journal = impex(impex_env, "jobs", "journal", str(job_id), "--json").stdout
    codes = [json.loads(line)["code"] for line in journal.splitlines()]
    shutdown = next(json.loads(line) for line in journal.splitlines() if '"run.shutdown"' in line)
    assert shutdown["params"]["signal"] == "SIGTERM"
    takeover = codes.index("worker.takeover")
    assert codes[takeover + 1 :].count("run.resumed") == 1


def interrupted_run(env, job: Path, data_dir: Path, job_id: int) -> None:
    """``impex run JOB`` stopped by Ctrl-C once its job ``job_id`` has records in."""
    run = subprocess.Popen(
        [*IMPEX, "run", str(job), "--json"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while True:
        with contextlib.suppress(JobNotFound):
            if (data_dir / "impex.db").exists() and job_state(data_dir, job_id)[1] > 0:
                break
        assert time.monotonic() < deadline and run.poll() is None
        time.sleep(0.01)
    run.send_signal(signal.SIGINT)
    assert run.wait(timeout=30) == 4  # paused or shut down: the same command goes on
    status, read, _ = job_state(data_dir, job_id)
    assert status is S.SERVER_SHUTDOWN and read > 0


def test_ctrl_c_then_the_same_impex_run_goes_on_with_the_stopped_job_and_leaves_others_alone(
    tmp_path, data_dir, impex_env, contacts_job
):
    job = contacts_job(rows=40_000, chunk_rows=500)
    other = tmp_path / "others.yaml"
    other.write_text(job.read_text().replace("{table: contacts}", "{table: others}"))
    expected = reference(tmp_path, job, impex_env)
    interrupted_run(impex_env, job, data_dir, 1)
    interrupted_run(impex_env, other, data_dir, 2)
    again = impex(impex_env, "run", str(job), "--json")
    assert json.loads(again.stdout)["id"] == 1  # not a new job importing the file a second time
    assert job_state(data_dir, 1)[0] is S.FINISHED
    assert outcome(data_dir)[0] == expected[0]
    assert job_state(data_dir, 2)[0] is S.SERVER_SHUTDOWN  # left for a worker, or its own impex run


STAFF_JOB = """kind: import
name: staff
source: {source}
chunk_rows: 500
target: {{table: staff, create: false}}
columns:
  - {{name: id, type: integer, required: true}}
  - {{name: name, required: true}}
  - {{name: department_id, type: integer, required: true}}
  - {{name: manager_id, type: integer}}
"""


def staff_outcome(data_dir: Path):
    with sqlite3.connect(data_dir / "data.db") as c:
        table = c.execute("SELECT * FROM staff ORDER BY id").fetchall()
    with sqlite3.connect(data_dir / "impex.db") as c:
        rejects = c.execute(
            "SELECT record_no, line_no, raw, message FROM rejects ORDER BY record_no"
        ).fetchall()
        counters = c.execute("SELECT read, inserted, rejected FROM runs").fetchall()
    return table, rejects, counters


def test_kill_9_amid_deferred_foreign_key_checks_then_resume_gives_the_uninterrupted_result(
    tmp_path, data_dir, impex_env
):
    """A manager is checked at the end of each chunk (the key is DEFERRABLE INITIALLY DEFERRED): the
    rows refused there and the rows kept are those of a run never killed."""
    job = write(tmp_path / "staff.yaml", STAFF_JOB.format(source=make_staff(tmp_path / "staff.csv", 20_000)))
    ref_dir = tmp_path / "reference"
    for folder in (ref_dir, data_dir):
        folder.mkdir(exist_ok=True)
        with sqlite3.connect(folder / "data.db") as c:
            c.executescript(STAFF.format(table="staff"))
    impex({**impex_env, "IMPEX_DATA_DIR": str(ref_dir)}, "run", str(job), "--json", check=False)
    expected = staff_outcome(ref_dir)
    assert expected[1], "the file should have orphans"
    env = {**impex_env, "IMPEX_LEASE_SECONDS": "0.3", "IMPEX_HEARTBEAT_SECONDS": "0.05"}
    job_id = json.loads(impex(env, "submit", str(job), "--json").stdout)["id"]
    kills = len(kill_9_while_running(env, data_dir, job_id, times=5, within=0.3, seed=20261125))
    assert kills == 5, f"the import finished after only {kills} kills; make the file larger"
    time.sleep(0.4)  # let the last lease lapse
    impex(env, "worker", "--exit-when-idle")
    assert job_state(data_dir, job_id)[0] is S.FINISHED
    assert staff_outcome(data_dir) == expected
