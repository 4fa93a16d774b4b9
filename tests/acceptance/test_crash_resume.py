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
from pg_support import fresh_named_schema, sql_runner
from support import IMPEX, STAFF, make_staff, write


def impex(env, *args, check=True):
    return subprocess.run([*IMPEX, *args], env=env, capture_output=True, text=True, check=check, timeout=300)


def rejects_and_counters(data_dir: Path, rejects: str, counters: str):
    """The ``rejects`` columns of every reject, by record, and the ``counters`` of every run."""
    with sqlite3.connect(data_dir / "impex.db") as c:
        return (
            c.execute(f"SELECT {rejects} FROM rejects ORDER BY record_no").fetchall(),
            c.execute(f"SELECT {counters} FROM runs").fetchall(),
        )


def outcome(data_dir: Path):
    with sqlite3.connect(data_dir / "data.db") as c:
        table = c.execute("SELECT * FROM contacts ORDER BY id").fetchall()
    kept = rejects_and_counters(
        data_dir, "record_no, line_no, reason, raw, message", "read, inserted, rejected, doubles"
    )
    return table, *kept


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


# A worker dies a second after its lease; each chunk commits, so that a kill lands anywhere in the
# file: mid-chunk, mid-commit, or after some of the worker's commits.
KILLABLE = {"IMPEX_LEASE_SECONDS": "0.3", "IMPEX_HEARTBEAT_SECONDS": "0.05", "IMPEX_COMMIT_SECONDS": "0"}


def kill_9_then_resume(
    env: dict[str, str], data_dir: Path, job: Path, *, times: int, within: float, seed: int
) -> tuple[int, list[int]]:
    """Submit ``job``, kill its worker with SIGKILL ``times`` times (see ``kill_9_while_running``),
    then let a worker finish it: the job's id, and the records read as each kill left them, which
    must have gone up from kill to kill."""
    env = {**env, **KILLABLE}
    job_id = json.loads(impex(env, "submit", str(job), "--json").stdout)["id"]
    reads = kill_9_while_running(env, data_dir, job_id, times=times, within=within, seed=seed)
    assert len(reads) == times, f"the import finished after only {len(reads)} kills; make the file larger"
    assert reads == sorted(reads), reads
    time.sleep(0.4)  # let the last lease lapse
    impex(env, "worker", "--exit-when-idle")
    assert job_state(data_dir, job_id)[0] is S.FINISHED
    return job_id, reads


def test_kill_9_at_twenty_random_instants_then_resume_gives_the_uninterrupted_result(
    tmp_path, data_dir, impex_env, contacts_job
):
    job = contacts_job(rows=300_000, chunk_rows=500)  # here 20 kills got through about a third of it
    expected = reference(tmp_path, job, impex_env)
    job_id, reads = kill_9_then_resume(impex_env, data_dir, job, times=20, within=0.4, seed=20261124)
    assert reads[-1] < expected[2][0][0], "the kills should all land before the end"
    assert len(set(reads)) >= 8, f"the kills should leave the run at many points of the file: {reads}"
    assert outcome(data_dir) == expected
    journal = impex(impex_env, "jobs", "journal", str(job_id), "--json").stdout
    codes = [json.loads(line)["code"] for line in journal.splitlines()]
    assert codes.count("worker.takeover") >= 20


def sigterm_then_resume(tmp_path: Path, data_dir: Path, env: dict[str, str], job: Path) -> int:
    """Submit ``job``, SIGTERM the worker once records are in, check the run stopped as server_shutdown
    mid-file, run a worker again, and check the outcome is the uninterrupted run's: the job's id."""
    expected = reference(tmp_path, job, env)
    job_id = json.loads(impex(env, "submit", str(job), "--json").stdout)["id"]
    worker = subprocess.Popen(
        [*IMPEX, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while job_state(data_dir, job_id)[1] == 0:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0
    status, read, _ = job_state(data_dir, job_id)
    assert status is S.SERVER_SHUTDOWN and 0 < read < expected[2][0][0]
    impex(env, "worker", "--exit-when-idle")
    assert job_state(data_dir, job_id)[0] is S.FINISHED
    assert outcome(data_dir) == expected
    return job_id


def test_sigterm_stops_at_a_chunk_boundary_as_server_shutdown_and_resumes_at_the_next_start(
    tmp_path, data_dir, impex_env, contacts_job
):
    job_id = sigterm_then_resume(tmp_path, data_dir, impex_env, contacts_job(rows=40_000, chunk_rows=500))
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
    return table, *rejects_and_counters(
        data_dir, "record_no, line_no, raw, message", "read, inserted, rejected"
    )


def test_kill_9_amid_deferred_foreign_key_checks_then_resume_gives_the_uninterrupted_result(
    tmp_path, data_dir, impex_env
):
    """A manager is checked at the end of each chunk (the key is DEFERRABLE INITIALLY DEFERRED): the
    rows refused there and the rows kept are those of a run never killed."""
    job = write(tmp_path / "staff.yaml", STAFF_JOB.format(source=make_staff(tmp_path / "staff.csv", 15_000)))
    ref_dir = tmp_path / "reference"
    for folder in (ref_dir, data_dir):
        folder.mkdir(exist_ok=True)
        with sqlite3.connect(folder / "data.db") as c:
            c.executescript(STAFF.format(table="staff"))
    impex({**impex_env, "IMPEX_DATA_DIR": str(ref_dir)}, "run", str(job), "--json", check=False)
    expected = staff_outcome(ref_dir)
    assert expected[1], "the file should have orphans"
    # a takeover of this run takes most of a second to its first commit here
    _, reads = kill_9_then_resume(impex_env, data_dir, job, times=5, within=1.5, seed=20261125)
    assert len(set(reads) - {0}) >= 2, f"the kills should land after commits too: {reads}"
    assert staff_outcome(data_dir) == expected


ACCOUNTS = """
CREATE TYPE tier AS ENUM ('free', 'pro');
CREATE DOMAIN pct AS integer CHECK (VALUE BETWEEN 0 AND 100);
CREATE TABLE accounts (id bigint, region text, code char(3), tier tier, score pct, email text,
    PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE accounts_eu PARTITION OF accounts FOR VALUES IN ('eu');
CREATE TABLE accounts_us PARTITION OF accounts FOR VALUES IN ('us');
CREATE UNIQUE INDEX accounts_email ON accounts (lower(email), region);
"""
ACCOUNTS_JOB = """kind: import
name: accounts
source: {source}
target: {{connection: crm, table: accounts}}
columns:
  - {{name: id, type: integer}}
  - {{name: region}}
  - {{name: code}}
  - {{name: tier}}
  - {{name: score, type: integer}}
  - {{name: email}}
reconciliation: {{keys: [id, region], doubles: reject}}
chunk_rows: 500
"""


def make_accounts(path: Path, rows: int) -> Path:
    """Accounts, some of which the table refuses: a region no partition takes, a code longer than
    char(3), a tier not in the enum, a score the domain refuses, an email another row has in
    another case; and doubles of the record before."""
    lines = ["id,region,code,tier,score,email"]
    for i in range(1, rows + 1):
        region = "asia" if i % 797 == 0 else ("eu", "us")[i % 2]
        code = "abcd" if i % 789 == 0 else f"c{i % 10}"
        tier = "gold" if i % 783 == 0 else ("free", "pro")[i % 3 == 0]
        score = 150 if i % 779 == 0 else i % 100
        email = f"USER{i - 2}@X.ORG" if i % 771 == 0 else f"user{i}@x.org"
        lines.append(f"{i - 2 if i % 801 == 0 else i},{region},{code},{tier},{score},{email}")
    path.write_text("\n".join(lines) + "\n")
    return path


def accounts_outcome(data_dir: Path, sql):
    table = sql("SELECT tableoid::regclass::text, * FROM accounts ORDER BY id, region")
    kept = rejects_and_counters(
        data_dir,
        "record_no, line_no, reason, column_name, value, raw, message",
        "read, inserted, rejected, doubles",
    )
    return table, *kept


def test_kill_9_into_a_postgresql_table_that_refuses_rows_then_resume_gives_the_uninterrupted_result(
    tmp_path, data_dir, impex_env
):
    """A partitioned table with an enum, a domain, a char(n) and a unique index on an expression: the
    rows it refuses and the rows it keeps are those of a run never killed."""
    source = make_accounts(tmp_path / "accounts.csv", 8_000)
    outcomes = []
    for name, folder in (("reference", tmp_path / "reference"), ("killed", data_dir)):
        folder.mkdir(exist_ok=True)
        with fresh_named_schema() as (schema, url), sql_runner(schema=schema) as sql:
            for statement in ACCOUNTS.split(";"):
                if statement.strip():
                    sql(statement)
            connections = write(tmp_path / f"{name}.yaml", f"crm:\n  url: {url}\n")
            job = write(tmp_path / f"{name}-job.yaml", ACCOUNTS_JOB.format(source=source))
            env = {**impex_env, "IMPEX_DATA_DIR": str(folder), "IMPEX_CONNECTIONS_FILE": str(connections)}
            if name == "reference":
                impex(env, "run", str(job), "--json")
            else:
                env.update(IMPEX_LEASE_SECONDS="0.3", IMPEX_HEARTBEAT_SECONDS="0.05")
                job_id = json.loads(impex(env, "submit", str(job), "--json").stdout)["id"]
                kills = len(kill_9_while_running(env, folder, job_id, times=3, within=0.4, seed=20261126))
                assert kills == 3, f"the import finished after only {kills} kills; make the file larger"
                time.sleep(0.4)  # let the last lease lapse
                impex(env, "worker", "--exit-when-idle")
                assert job_state(folder, job_id)[0] is S.FINISHED
            outcomes.append(accounts_outcome(folder, sql))
    expected, killed = outcomes
    assert killed == expected
    reasons = {(r[2], r[3]) for r in expected[1]}  # the unique index names region and email
    assert {("constraint", c) for c in ("region", "code", "tier", "score")} <= reasons
    assert any(reason == "double" for reason, _ in reasons)


def test_a_second_ctrl_c_stops_a_run_stuck_before_its_next_chunk_at_once_and_it_resumes_exactly(
    tmp_path, data_dir, impex_env, contacts_job
):
    """The first Ctrl-C says that the run stops at its next chunk boundary; when none comes (here the
    target database is locked by another program), a second one stops the process at once, as kill -9
    would, and the run goes on from its checkpoint at the next start."""
    job = contacts_job(rows=5_000, chunk_rows=500)
    expected = reference(tmp_path, job, impex_env)
    # A short lease, so that the next start takes the killed run over at once rather than after 30 s.
    env = {**impex_env, "IMPEX_LEASE_SECONDS": "1"}
    data_dir.mkdir(exist_ok=True)
    locker = subprocess.Popen(
        [
            *IMPEX[:1],
            "-c",
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
            "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); sys.stdin.read()",
            str(data_dir / "data.db"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert locker.stdout is not None and locker.stdout.readline() == "locked\n"
        run = subprocess.Popen(
            [*IMPEX, "run", str(job), "--json"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(JobNotFound):
                if (data_dir / "impex.db").exists() and job_state(data_dir, 1)[0] is S.RUNNING:
                    break
            assert time.monotonic() < deadline and run.poll() is None
            time.sleep(0.01)
        run.send_signal(signal.SIGINT)
        assert run.stderr is not None
        first = run.stderr.readline()
        assert "SIGINT: each job stops at its next chunk boundary (SIGINT again stops at once)" in first
        run.send_signal(signal.SIGINT)
        assert run.wait(timeout=20) == -signal.SIGINT  # ended by the signal itself: 130 in a shell
        assert job_state(data_dir, 1)[0] is S.RUNNING  # as a crash leaves it, for a takeover
    finally:
        locker.kill()
        locker.wait()
    again = impex(env, "run", str(job), "--json")
    assert json.loads(again.stdout)["id"] == 1
    assert job_state(data_dir, 1)[0] is S.FINISHED
    assert outcome(data_dir) == expected
