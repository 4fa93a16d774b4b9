"""The web API on a big store: job-list and rejects-page latency, and what SSE followers cost an import.

Run from anywhere (paths are relative to this file):
  .venv/bin/python bench/bench_web.py                   # 10,000 jobs, 1M journal lines, 1M rejects
  .venv/bin/python bench/bench_web.py --quick           # 1,000 jobs, 100,000 lines and rejects
  .venv/bin/python bench/bench_web.py --no-sse          # latency only
  .venv/bin/python bench/bench_web.py --import-rows 200000 --rounds 5

Steps: a fresh data folder in a temporary directory; its store migrated by impex, then filled in bulk
with sqlite3 (no per-row store API): jobs with runs, journal lines, rejects (most in one run, so that
its pages go deep); a user and an API token made through the library; ``impex serve --no-worker`` on a
free loopback port. Latency: each variant is asked in turn (after a short warm-up) until it has
--requests answers or --variant-seconds passed; p50/p95/p99 against the target. SSE: an ``impex
worker`` imports bench/data/contacts-N.csv (bench/gen_contacts.py makes it) into a fresh table, in
rounds that alternate between no SSE client and --clients clients following the running job's journal
stream (as EventSource does: reconnect with Last-Event-ID until the job ends); the import's time is its
run's ended_at - started_at. The clients run in this process, on the same machine: their CPU counts
against the import too.

Everything stops by itself (each step has a deadline). It prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
P95_TARGET_MS = 50.0
SLOWDOWN_TARGET = 0.05
REASONS = ["type_error", "missing_required", "too_long", "wrong_field_count", "double"]
COLUMNS = ["id", "email", "last_name", "birth_date", None]
STATUSES = ["finished"] * 14 + ["finished_with_errors", "canceled", "paused", "editing"]
OWNERS = [f"user{n:02d}" for n in range(20)]
WORDS = ["contacts", "orders", "nightly", "invoices", "stock", "customers", "weekly", "prices"]
STEP_DEADLINE_S = 300.0


@dataclass(frozen=True)
class Sizes:
    jobs: int
    journal: int
    rejects: int
    big_run_share: float = 0.6  # of the rejects in one run, and of the journal lines in one job


# --- filling the store ----------------------------------------------------------------------------


def fill(store_db: Path, sizes: Sizes) -> dict[str, int]:
    """Jobs (each with a run, except the ones still in editing), journal lines, rejects; returns the
    ids the latency variants ask for."""
    rng = random.Random(20240517)
    now = time.time() - 86400 * 30
    con = sqlite3.connect(store_db)
    con.execute("PRAGMA synchronous=OFF")
    definition = json.dumps({"kind": "import", "name": "x", "source": "x.csv", "target": {"table": "x"}})
    jobs, runs = [], []
    for job_id in range(1, sizes.jobs + 1):
        status = rng.choice(STATUSES)
        created = now + job_id * 60
        name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {job_id}"
        run_id = job_id if status != "editing" else None
        jobs.append((job_id, name, "import" if job_id % 4 else "export", definition, status, "default",
                     rng.choice(OWNERS), run_id, created, created + 30))  # fmt: skip
        if run_id is not None:
            outcome = status if status != "paused" else None
            read = rng.randrange(1000, 2_000_000)
            runs.append((run_id, job_id, 1, outcome, created, created + 1, created + 30 if outcome else None,
                         29.0, read, read - read // 100, read // 100, 1000, 1000))  # fmt: skip
    big_job = next(j[0] for j in jobs if j[4] == "finished")
    con.executemany("INSERT INTO jobs VALUES (?,?,?,?,?,?,?,?,?,?)", jobs)
    con.executemany(
        "INSERT INTO runs (id, job_id, run_no, outcome, created_at, started_at, ended_at, active_seconds,"
        " read, inserted, rejected, bytes_total, bytes_done) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        runs,
    )
    run_ids = [r[0] for r in runs if r[0] != big_job]
    con.executemany("INSERT INTO journal VALUES (?,?,?,?,?,?,?,?)", _journal_rows(rng, sizes, big_job, jobs))
    con.executemany(
        "INSERT INTO rejects VALUES (?,?,?,?,?,?,?,?)", _reject_rows(rng, sizes, big_job, run_ids)
    )
    con.commit()
    con.close()
    return {"big_job": big_job}


def _journal_rows(
    rng: random.Random, sizes: Sizes, big_job: int, jobs: list[tuple[Any, ...]]
) -> Iterator[tuple[Any, ...]]:
    big = int(sizes.journal * sizes.big_run_share)
    others = [j for j in jobs if j[0] != big_job]
    for n in range(sizes.journal):
        job = jobs[big_job - 1] if n < big else rng.choice(others)
        params = {"read": n * 1000, "rate": 150000, "percent": n % 100, "eta": "0:00:05"}
        yield (
            n + 1,
            job[0],
            job[7],
            job[8] + n * 0.001,
            "info",
            "run.progress",
            json.dumps(params),
            "worker w",
        )


def _reject_rows(
    rng: random.Random, sizes: Sizes, big_job: int, run_ids: list[int]
) -> Iterator[tuple[Any, ...]]:
    big = int(sizes.rejects * sizes.big_run_share)
    small_runs = sorted(rng.sample(run_ids, min(len(run_ids), max(1, (sizes.rejects - big) // 1000))))
    per_small = -(-(sizes.rejects - big) // len(small_runs))

    def row(run_id: int, n: int, record_no: int) -> tuple[Any, ...]:
        reason = REASONS[n % len(REASONS)]
        column = COLUMNS[(n // 5) % len(COLUMNS)]
        raw = f"{record_no}a,Anna,Murphy,anna.murphy{n}@mail.example.net,+34 329 289687,Sevilla,ES,1991-08-21"
        message = f"line {record_no + 1}: column {column}: {reason}"
        return (run_id, record_no, record_no + 1, raw.encode(), reason, column, f"{record_no}a", message)

    for n in range(big):
        yield row(big_job, n, n * 100 + 7)
    left = sizes.rejects - big
    for run_id in small_runs:
        for n in range(min(per_small, left)):
            yield row(run_id, n, n * 37 + 3)
        left -= min(per_small, left)


# --- the server -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def impex_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMPEX_")}
    env.update(IMPEX_DATA_DIR=str(data_dir), IMPEX_FILE_FOLDERS=str(DATA), **extra)
    return env


def make_token(store_url: str) -> str:
    """An admin and its API token, made through the library (as POST /api/tokens would)."""
    from impex.domain.roles import Role
    from impex.store.store import Store
    from impex.store.users import Users

    store = Store.open(store_url)
    try:
        users = Users(store.engine)
        return users.create_token(users.create("bench", "bench password", Role.ADMIN).id, "bench")
    finally:
        store.close()


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_healthy(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"impex serve exited {proc.returncode}: {log.read_text()[-800:]}")
        try:
            if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"impex serve did not answer within 60 s: {log.read_text()[-800:]}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- latency --------------------------------------------------------------------------------------


def percentile(sorted_ms: list[float], p: float) -> float:
    index = min(len(sorted_ms) - 1, max(0, round(p / 100 * len(sorted_ms) + 0.5) - 1))
    return sorted_ms[index]


def measure(
    client: httpx.Client, path: str, params: dict[str, Any], args: argparse.Namespace
) -> dict[str, Any]:
    for _ in range(5):  # warm-up: connection, caches
        client.get(path, params=params).raise_for_status()
    times: list[float] = []
    body: dict[str, Any] = {}
    deadline = time.monotonic() + args.variant_seconds
    while len(times) < args.requests and time.monotonic() < deadline:
        began = time.perf_counter()
        response = client.get(path, params=params)
        times.append((time.perf_counter() - began) * 1000)
        response.raise_for_status()
        body = response.json()
    times.sort()
    return {
        "n": len(times),
        "p50": percentile(times, 50),
        "p95": percentile(times, 95),
        "p99": percentile(times, 99),
        "items": len(body.get("items", [])),
        "total": body.get("total"),
    }


def latency_variants(ids: dict[str, int], sizes: Sizes) -> list[tuple[str, str, dict[str, Any]]]:
    jobs, big = "/api/jobs", f"/api/jobs/{ids['big_job']}/rejects"
    big_rejects = int(sizes.rejects * sizes.big_run_share)
    last_job_page = max(0, sizes.jobs - 50)
    return [
        ("jobs: first page", jobs, {}),
        ("jobs: status=finished", jobs, {"status": "finished"}),
        ("jobs: 2 statuses, page 20", jobs, {"status": ["paused", "canceled"], "offset": 950}),
        ("jobs: by name, last page", jobs, {"sort": "name", "order": "asc", "offset": last_job_page}),
        ("jobs: by started, mid page", jobs, {"sort": "started_at", "offset": sizes.jobs // 2}),
        ("jobs: by ended asc, deep", jobs, {"sort": "ended_at", "order": "asc", "offset": last_job_page}),
        ("jobs: owner + kind", jobs, {"owner": "user07", "kind": "export"}),
        ("jobs: text 'nightly'", jobs, {"q": "nightly", "offset": 100}),
        ("jobs: 500 a page, last", jobs, {"limit": 500, "offset": max(0, sizes.jobs - 500)}),
        ("rejects: first page", big, {}),
        ("rejects: deep page", big, {"offset": big_rejects * 5 // 6}),
        ("rejects: last page", big, {"offset": big_rejects - 100}),
        ("rejects: deep, keyset", big, {"after": (big_rejects * 5 // 6) * 100}),
        ("rejects: reason", big, {"reason": "too_long"}),
        ("rejects: reason, deep", big, {"reason": "too_long", "offset": big_rejects // 5 - 200}),
        ("rejects: column, deep", big, {"column": "email", "offset": big_rejects // 10}),
        ("rejects: reason+column", big, {"reason": "double", "column": "last_name", "offset": 5000}),
        ("rejects: 1000 a page", big, {"limit": 1000, "offset": big_rejects // 2}),
    ]


def run_latency(base: str, token: str, ids: dict[str, int], sizes: Sizes, args: argparse.Namespace) -> bool:
    headers = {"Authorization": f"Bearer {token}"}
    ok = True
    limit = f"up to {args.requests} requests or {args.variant_seconds:.0f} s each"
    print(f"\nLatency (loopback, one client, {limit})")
    heads = " ".join(f"{h:>8}" for h in ("p50 ms", "p95 ms", "p99 ms"))
    print(f"{'variant':<28} {'n':>5} {heads}  {'items':>5} {'total':>9}  p95<50")
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for label, path, params in latency_variants(ids, sizes):
            f = measure(client, path, params, args)
            good = f["p95"] < P95_TARGET_MS
            ok = ok and good
            print(
                f"{label:<28} {f['n']:>5} {f['p50']:>8.1f} {f['p95']:>8.1f} {f['p99']:>8.1f}  "
                f"{f['items']:>5} {f['total'] if f['total'] is not None else '':>9}  "
                f"{'yes' if good else 'NO'}"
            )
    return ok


# --- SSE followers against an import ---------------------------------------------------------------


def import_definition(rows: int) -> dict[str, Any]:
    job_file = DATA / f"contacts-{rows}-import.yaml"
    if not job_file.exists():
        script = HERE / "gen_contacts.py"
        subprocess.run([sys.executable, str(script), str(rows)], check=True, timeout=STEP_DEADLINE_S)
    definition: dict[str, Any] = yaml.safe_load(job_file.read_text())
    definition["source"] = str(DATA / definition["source"])
    definition["target"]["table"] = "contacts_bench"
    definition["name"] = f"bench web {rows}"
    return definition


async def follow(client: httpx.AsyncClient, job_id: int, done: asyncio.Event) -> int:
    """One browser tab on the journal tab: follow the stream, reconnect with Last-Event-ID after
    the server's retry delay, until the job is over. Returns the events it received."""
    last, events = "0", 0
    while not done.is_set():
        try:
            url = f"/api/jobs/{job_id}/journal/stream"
            async with client.stream("GET", url, headers={"Last-Event-ID": last}) as response:
                async for line in response.aiter_lines():
                    if line.startswith("id: "):
                        last = line[4:]
                    elif line.startswith("event: "):
                        events += 1
        except httpx.TransportError:
            pass
        if not done.is_set():
            await asyncio.sleep(2.0)
    return events


async def import_round(base: str, token: str, definition: dict[str, Any], clients: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients + 10)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60, limits=limits) as client:
        created = await client.post("/api/jobs", json={"definition": definition})
        created.raise_for_status()
        job_id = created.json()["id"]
        (await client.post(f"/api/jobs/{job_id}/start")).raise_for_status()
        done = asyncio.Event()
        followers = [asyncio.create_task(follow(client, job_id, done)) for _ in range(clients)]
        deadline = time.monotonic() + STEP_DEADLINE_S
        job: dict[str, Any] = {}
        while time.monotonic() < deadline:
            job = (await client.get(f"/api/jobs/{job_id}")).json()
            if job["status"] not in {"queued", "running", "pausing", "canceling"}:
                break
            await asyncio.sleep(0.25)
        done.set()
        events = await asyncio.wait_for(asyncio.gather(*followers), timeout=30)
    run = job["run"]
    if job["status"] != "finished" or run["ended_at"] is None:
        raise SystemExit(f"the import ended {job['status']} (or not within {STEP_DEADLINE_S:.0f} s)")
    return {
        "seconds": run["ended_at"] - run["started_at"],
        "read": run["counters"]["read"],
        "events": sum(events),
    }


def run_sse(
    base: str, token: str, server_pid: int, data_dir: Path, args: argparse.Namespace, log: Path
) -> bool:
    definition = import_definition(args.import_rows)
    worker_env = impex_env(data_dir, IMPEX_PROGRESS_SECONDS="1", IMPEX_POLL_SECONDS="0.1")
    worker = start([sys.executable, "-m", "impex", "worker"], worker_env, log)
    results: dict[int, list[dict[str, Any]]] = {0: [], args.clients: []}
    try:
        for round_no in range(args.rounds):
            for clients in (0, args.clients) if round_no % 2 == 0 else (args.clients, 0):
                cpu_before = cpu_seconds(server_pid)
                r = asyncio.run(import_round(base, token, definition, clients))
                r["server_cpu"] = cpu_seconds(server_pid) - cpu_before
                results[clients].append(r)
                with sqlite3.connect(data_dir / "data.db") as con:
                    con.execute("DROP TABLE contacts_bench")
                print(
                    f"  round {round_no + 1}, {clients:>2} SSE clients: import {r['seconds']:.2f} s "
                    f"({r['read']:,} records), {r['events']:,} events received, "
                    f"server CPU {r['server_cpu']:.2f} s"
                )
    finally:
        stop(worker)
    alone = [r["seconds"] for r in results[0]]
    followed = [r["seconds"] for r in results[args.clients]]
    by_median = statistics.median(followed) / statistics.median(alone) - 1
    by_best = min(followed) / min(alone) - 1
    ok = by_median <= SLOWDOWN_TARGET
    print(
        f"import alone: median {statistics.median(alone):.2f} s, best {min(alone):.2f} s; "
        f"with {args.clients} SSE clients: median {statistics.median(followed):.2f} s, "
        f"best {min(followed):.2f} s"
    )
    print(
        f"slowdown: {by_median:+.1%} by median, {by_best:+.1%} by best "
        f"(target <= {SLOWDOWN_TARGET:.0%}): {'yes' if ok else 'NO'}"
    )
    return ok


# --- main -----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1,000 jobs, 100,000 journal lines and rejects")
    parser.add_argument("--requests", type=int, default=200, help="answers per latency variant")
    parser.add_argument("--variant-seconds", type=float, default=20.0, help="time limit per latency variant")
    parser.add_argument("--no-sse", action="store_true", help="skip the import with SSE followers")
    parser.add_argument("--no-latency", action="store_true", help="skip the latency part")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument(
        "--import-rows", type=int, default=1_000_000, help="rows of bench/data/contacts-N.csv"
    )
    parser.add_argument("--rounds", type=int, default=3, help="import rounds of each kind, interleaved")
    args = parser.parse_args()
    sizes = Sizes(1000, 100_000, 100_000) if args.quick else Sizes(10_000, 1_000_000, 1_000_000)
    print(f"{os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at start")
    with tempfile.TemporaryDirectory(prefix="impex-bench-web-") as tmp:
        data_dir = Path(tmp) / "impex-data"
        store_url = f"sqlite:///{data_dir / 'impex.db'}"
        token = make_token(store_url)  # also creates and migrates the store
        began = time.perf_counter()
        ids = fill(data_dir / "impex.db", sizes)
        size_mb = (data_dir / "impex.db").stat().st_size / 1e6
        print(
            f"store: {sizes.jobs:,} jobs, {sizes.journal:,} journal lines, {sizes.rejects:,} rejects "
            f"({int(sizes.rejects * sizes.big_run_share):,} in job {ids['big_job']}'s run), "
            f"filled in {time.perf_counter() - began:.1f} s, {size_mb:,.0f} MB"
        )
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = Path(tmp) / "serve.log"
        cmd = [
            sys.executable,
            "-m",
            "impex",
            "serve",
            "--no-worker",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
        server = start(cmd, impex_env(data_dir), log)
        try:
            wait_healthy(base, server, log)
            ok = args.no_latency or run_latency(base, token, ids, sizes, args)
            if not args.no_sse:
                rounds = f"{args.rounds} rounds of each"
                print(f"\nImport of {args.import_rows:,} records by `impex worker`, {rounds}")
                ok = run_sse(base, token, server.pid, data_dir, args, Path(tmp) / "worker.log") and ok
        finally:
            stop(server)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
