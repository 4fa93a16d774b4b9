"""impex into PostgreSQL against COPY FROM STDIN and pgloader, and two workers against one.

Run from anywhere (paths are relative to this file):
  .venv/bin/python bench/bench_postgres.py                  # 1,000,000 records; 5,000,000 for the workers
  .venv/bin/python bench/bench_postgres.py --quick          # 100,000 / 200,000 records smoke run
  .venv/bin/python bench/bench_postgres.py --multi-rows 0   # no worker comparison
  .venv/bin/python bench/bench_postgres.py --rounds 5       # the import and COPY ratio over 5 rounds

The server is IMPEX_BENCH_POSTGRES_URL (default: the local test server); everything goes in the
schema impex_bench (tables) and impex_bench_store (the workers' store), both dropped first.

Steps, in one run on the same machine: (a) ``impex run`` of the dirty file (validation, rejects,
checkpoints) into PostgreSQL through a named connection (IMPEX_CONNECTIONS_FILE; the job is the
generated one with its target connection switched); its reject list is checked against the
generator's sidecar (every bad record, with its line number). (b) ``psql \\copy … FROM STDIN`` of
the clean file into the same, emptied table: the practical upper bound. (b') insert-or-update of
the same file into that full table: SQL's own way (COPY into a temporary table, INSERT … ON CONFLICT
DO UPDATE), then ``impex run`` with operation insert_or_update (no target; it shows what comparing
with a full table costs, which a first load never pays). (b'') what a resume pays once: the seen
keys rebuilt from that full table, against psql reading the same keys (no target). (b3) the dirty
file into the table holding only its first 1,000 ids: every key looked up (no target). (c) pgloader
on the dirty file, if it is installed (``apt-get install -y pgloader``): time and what it rejected. (d) one
``impex worker`` importing the --multi-rows file, then two workers importing it twice at once (two
jobs, two tables) against a PostgreSQL store (IMPEX_DATABASE_URL): total rows/s ratio.

Prints figures and the load average; writes them to bench/out/postgres-results.json. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # for gen_contacts and bench_sqlite, which sit next to this file

import gen_contacts  # noqa: E402
import psycopg  # noqa: E402
import yaml  # noqa: E402
from bench_sqlite import (  # noqa: E402
    Measure,
    StepFailed,
    check_rejects,
    compile_impex,
    fresh,
    impex_bin,
    read_rejects,
    run_measured,
    tail,
)

OUT = HERE / "out"
WORK = OUT / "postgres-work"
SERVER = os.environ.get("IMPEX_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SCHEMA, STORE_SCHEMA = "impex_bench", "impex_bench_store"
TABLE = "contacts"
COPY_RATIO_TARGET = 0.8
WORKERS_RATIO_TARGET = 1.5


def in_schema(schema: str) -> str:
    sep = "&" if "?" in SERVER else "?"
    return f"{SERVER}{sep}options={quote(f'-csearch_path={schema}')}"


def sql(query: str, schema: str = SCHEMA) -> list[tuple[Any, ...]]:
    with psycopg.connect(SERVER, autocommit=True, options=f"-csearch_path={schema}") as conn:
        cur = conn.execute(query)
        return cur.fetchall() if cur.description else []


def reset_schema(schema: str) -> None:
    sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    sql(f"CREATE SCHEMA {schema}")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"


def rate(rows: int, seconds: float) -> float:
    return rows / seconds if seconds > 0 else 0.0


def pg_job(paths: gen_contacts.Paths, table: str, name: str) -> Path:
    """The generated import job, its target switched to the 'pg' connection (and ``table``)."""
    job = yaml.safe_load(paths.job.read_text(encoding="utf-8"))
    job["name"] = name
    job["source"] = str(paths.dirty)
    job["target"] = {**job.get("target", {}), "connection": "pg", "table": table}
    out = WORK / f"{name}.yaml"
    out.write_text(yaml.safe_dump(job, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return out


def impex_env(data_dir: Path, store_url: str | None = None) -> dict[str, str]:
    connections = WORK / "connections.yaml"
    connections.write_text(f"pg: {in_schema(SCHEMA)}\n", encoding="utf-8")
    env = {**os.environ, "IMPEX_CONNECTIONS_FILE": str(connections), "IMPEX_DATA_DIR": str(data_dir)}
    env.pop("IMPEX_DATABASE_URL", None)
    if store_url:
        env["IMPEX_DATABASE_URL"] = store_url
    return env


def measured(cmd: list[str], log: Path, env: dict[str, str], **kw: Any) -> Measure:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        return run_measured(cmd, log, **kw)
    finally:
        os.environ.clear()
        os.environ.update(saved)


# ---------------------------------------------------------------- (a) (b) (c)


def impex_run(job: Path, name: str) -> tuple[Measure, Path, dict[str, Any]]:
    """``impex run JOB`` with a fresh data folder (its store): the measure, the folder, the run's JSON."""
    data_dir = fresh(WORK / f"{name}-data")
    data_dir.mkdir(parents=True)
    out = WORK / "logs" / f"{name}.json"
    measure = measured(
        [impex_bin(), "run", str(job), "--json"], out.with_suffix(".err"), impex_env(data_dir), stdout=out
    )
    if measure.exit_code not in (0, 1):
        raise StepFailed(f"{name} exited {measure.exit_code}:\n    {tail(measure.log)}")
    return measure, data_dir, json.loads(out.read_text(encoding="utf-8"))


def impex_import(paths: gen_contacts.Paths) -> dict[str, Any]:
    reset_schema(SCHEMA)
    measure, data_dir, _ = impex_run(pg_job(paths, TABLE, "bench-pg"), "impex-run")
    sidecar = json.loads(paths.sidecar.read_text(encoding="utf-8"))
    check = check_rejects(sidecar, read_rejects(data_dir / "impex.db"))
    rows = int(sql(f"SELECT count(*) FROM {TABLE}")[0][0])
    return {
        "wall_s": round(measure.wall_s, 2),
        "rows_per_s": round(rate(sidecar["rows"], measure.wall_s)),
        "peak_rss_mb": round(measure.peak_rss_mb),
        "table_rows": rows,
        "clean_rows": sidecar["clean_rows"],
        "rejects_expected": check.expected,
        "rejects_found": check.found,
        "rejects_missing": check.missing,
        "rejects_wrong_line": check.wrong_line,
        "rejects_wrong_reason": check.wrong_reason,
        "rejects_unexpected": check.unexpected,
        "reject_list_complete": check.complete,
        "examples": check.examples,
    }


def copy_clean(paths: gen_contacts.Paths) -> dict[str, Any]:
    """psql's \\copy of the clean file into impex's table, emptied (same DDL, same indexes)."""
    sql(f"TRUNCATE {TABLE}")
    columns = gen_contacts.HEADER
    command = f"\\copy {SCHEMA}.{TABLE} ({columns}) FROM '{paths.clean}' WITH (FORMAT csv, HEADER true)"
    psql = shutil.which("psql")
    if psql is None:
        raise StepFailed("no psql on PATH")
    measure = run_measured(
        [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", SERVER, "-c", command], WORK / "logs" / "psql-copy.err"
    )
    if measure.exit_code != 0:
        raise StepFailed(f"psql \\copy exited {measure.exit_code}:\n    {tail(measure.log)}")
    sidecar = json.loads(paths.sidecar.read_text(encoding="utf-8"))
    rows = int(sql(f"SELECT count(*) FROM {TABLE}")[0][0])
    return {
        "wall_s": round(measure.wall_s, 2),
        "rows_per_s": round(rate(sidecar["clean_rows"], measure.wall_s)),
        "table_rows": rows,
    }


def resume_keys(paths: gen_contacts.Paths) -> dict[str, Any]:
    """What a resume pays once before its first chunk when the table itself holds the keys applied
    so far: impex reads the table's keys and rebuilds its set of seen keys (in this process, through
    impex's own target code), against psql writing the same keys to /dev/null. Best of 3 each."""
    from impex.engine.keyset import KeySet
    from impex.engine.reconcile import key_hashes
    from impex.targets.base import RunSpec
    from impex.targets.postgres import PostgresTarget

    rows = int(sql(f"SELECT count(*) FROM {TABLE}")[0][0])
    psql = shutil.which("psql")
    if psql is None:
        raise StepFailed("no psql on PATH")
    command = f"\\copy (SELECT id FROM {SCHEMA}.{TABLE}) TO '/dev/null'"
    anchor = min(
        run_measured([psql, "-X", "-q", SERVER, "-c", command], WORK / "logs" / "psql-keys.err").wall_s
        for _ in range(3)
    )
    target = PostgresTarget(in_schema(SCHEMA))
    try:
        run = target.open_run(RunSpec("bench-resume", "bench", TABLE, ("id",)), {})
        spent = []
        for _ in range(3):
            began = time.perf_counter()
            seen = KeySet(key_hashes(run.table_keys(), ("id",)))
            spent.append(time.perf_counter() - began)
        target.execute("DELETE FROM _impex_checkpoint WHERE run_key = 'bench-resume'")
        target.execute(f"DROP TABLE IF EXISTS {run.seen_table}")
    finally:
        target.close()
    return {
        "table_rows": rows,
        "impex_s": round(min(spent), 3),
        "psql_s": round(anchor, 3),
        "intervals": len(seen),
    }


def not_empty(paths: gen_contacts.Paths) -> dict[str, Any]:
    """The dirty file again, into the table holding only its first 1,000 ids: every key is looked
    up in the table (those 1,000 come back as duplicates, rejected), which a load into an empty
    table never needs."""
    sql(f"DELETE FROM {TABLE} WHERE id > 1000")
    sql(f"VACUUM {TABLE}")
    measure, _, out = impex_run(pg_job(paths, TABLE, "bench-pg"), "impex-not-empty")
    counters = out["run"]["counters"]
    sidecar = json.loads(paths.sidecar.read_text(encoding="utf-8"))
    return {
        "wall_s": round(measure.wall_s, 2),
        "rows_per_s": round(rate(sidecar["rows"], measure.wall_s)),
        "counters": {k: counters[k] for k in ("read", "inserted", "duplicates", "rejected")},
    }


def upserts(paths: gen_contacts.Paths) -> dict[str, Any]:
    """Insert-or-update of the same file into the table as loaded by the COPY step (every key there
    already, the values the same): SQL's own way (COPY into a temporary table, then one INSERT … ON
    CONFLICT DO UPDATE of the rows that differ), then impex (validation, rejects, checkpoints). The
    cost of comparing with a full table, which a first load into an empty one never pays."""
    before = int(sql(f"SELECT count(*) FROM {TABLE}")[0][0])
    columns = gen_contacts.HEADER.split(",")
    values = [c for c in columns if c != "id"]
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in values)
    mine = ", ".join(f"{TABLE}.{c}" for c in values)
    theirs = ", ".join(f"EXCLUDED.{c}" for c in values)
    differ = f"({mine}) IS DISTINCT FROM ({theirs})"
    psql = shutil.which("psql")
    if psql is None:
        raise StepFailed("no psql on PATH")
    commands = [
        f"SET search_path = {SCHEMA}",
        f"CREATE TEMPORARY TABLE incoming (LIKE {TABLE})",
        f"\\copy incoming ({gen_contacts.HEADER}) FROM '{paths.clean}' WITH (FORMAT csv, HEADER true)",
        f"INSERT INTO {TABLE} SELECT * FROM incoming ON CONFLICT (id) DO UPDATE SET {sets} WHERE {differ}",
    ]
    args = [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", SERVER]
    for command in commands:
        args += ["-c", command]
    anchor = run_measured(args, WORK / "logs" / "psql-upsert.err")
    if anchor.exit_code != 0:
        raise StepFailed(f"psql upsert exited {anchor.exit_code}:\n    {tail(anchor.log)}")
    job = pg_job(paths, TABLE, "bench-pg-upsert")
    definition = yaml.safe_load(job.read_text(encoding="utf-8"))
    definition.setdefault("reconciliation", {})["operation"] = "insert_or_update"
    job.write_text(yaml.safe_dump(definition, sort_keys=False, allow_unicode=True), encoding="utf-8")
    measure, _, shown = impex_run(job, "impex-upsert")
    counters = shown["run"]["counters"]
    sidecar = json.loads(paths.sidecar.read_text(encoding="utf-8"))
    return {
        "table_rows_before": before,
        "sql_wall_s": round(anchor.wall_s, 2),
        "sql_rows_per_s": round(rate(sidecar["clean_rows"], anchor.wall_s)),
        "impex_wall_s": round(measure.wall_s, 2),
        "impex_rows_per_s": round(rate(sidecar["rows"], measure.wall_s)),
        "impex_counters": {k: counters[k] for k in ("read", "inserted", "updated", "unchanged", "rejected")},
    }


def pgloader(paths: gen_contacts.Paths, timeout_s: int) -> dict[str, Any]:
    """pgloader on the dirty file into the same table, emptied; its reject file counted."""
    binary = shutil.which("pgloader")
    if binary is None:
        raise StepFailed("pgloader is not installed (apt-get install -y pgloader); skipped")
    sql(f"TRUNCATE {TABLE}")
    root = fresh(WORK / "pgloader")
    root.mkdir(parents=True)
    columns = ", ".join(gen_contacts.HEADER.split(","))
    load = root / "contacts.load"
    load.write_text(
        f"LOAD CSV FROM '{paths.dirty}' ({columns})\n"
        f"  INTO {SERVER} TARGET TABLE {SCHEMA}.{TABLE} ({columns})\n"
        "  WITH skip header = 1, fields optionally enclosed by '\"', fields escaped by double-quote,\n"
        "       fields terminated by ','\n"
        "  SET client_encoding to 'utf8';\n",
        encoding="utf-8",
    )
    began = time.perf_counter()
    try:
        done = subprocess.run(
            [binary, "--root-dir", str(root), str(load)],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {
            "finished": False,
            "note": f"stopped after {timeout_s} s",
            "table_rows": int(sql(f"SELECT count(*) FROM {TABLE}")[0][0]),
        }
    wall = time.perf_counter() - began
    (WORK / "logs" / "pgloader.out").write_text(done.stdout + done.stderr, encoding="utf-8")
    sidecar = json.loads(paths.sidecar.read_text(encoding="utf-8"))
    rejected = sum(1 for f in root.rglob("*.dat") for _ in f.open("rb"))
    rows = int(sql(f"SELECT count(*) FROM {TABLE}")[0][0])
    return {
        "finished": done.returncode == 0,
        "exit_code": done.returncode,
        "wall_s": round(wall, 2),
        "rows_per_s": round(rate(sidecar["rows"], wall)),
        "table_rows": rows,
        "reject_file_lines": rejected,  # its reject file holds the raw data, no line numbers
        "bad_rows_planted": sidecar["bad_rows"],
        "rows_beyond_clean": rows - sidecar["clean_rows"],  # > 0: bad records loaded; < 0: rows lost
    }


def _beyond(extra: int) -> str:
    if extra >= 0:
        return f"{extra:,} rows more than the clean file (bad records loaded)"
    return f"{-extra:,} rows fewer than the clean file (good records lost)"


# ---------------------------------------------------------------- (d)


def workers(paths: gen_contacts.Paths, how_many: int) -> dict[str, Any]:
    """``how_many`` jobs (the same file into as many tables) run by as many single-job workers at once."""
    reset_schema(SCHEMA)
    reset_schema(STORE_SCHEMA)
    data_dir = fresh(WORK / f"workers-{how_many}")
    data_dir.mkdir(parents=True)
    env = impex_env(data_dir, in_schema(STORE_SCHEMA))
    env["IMPEX_WORKER_CONCURRENCY"] = "1"
    for n in range(how_many):
        job = pg_job(paths, f"{TABLE}_{n}", f"bench-workers-{how_many}-{n}")
        subprocess.run([impex_bin(), "submit", str(job)], env=env, check=True, capture_output=True)
    os.sync()
    busy_before = machine_busy_seconds()
    began = time.perf_counter()
    procs = [
        subprocess.Popen(
            [impex_bin(), "worker", "--exit-when-idle"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(WORK / "logs" / f"worker-{how_many}-{n}.err").open("wb"),
        )
        for n in range(how_many)
    ]
    codes = [p.wait() for p in procs]
    wall = time.perf_counter() - began
    busy = machine_busy_seconds() - busy_before
    if any(codes):
        raise StepFailed(f"a worker exited {codes}; see bench/out/postgres-work/logs/worker-*.err")
    listed = subprocess.run([impex_bin(), "jobs", "list", "--json"], env=env, check=True, capture_output=True)
    statuses = sorted(j["status"] for j in json.loads(listed.stdout))
    rows = json.loads(paths.sidecar.read_text(encoding="utf-8"))["rows"] * how_many
    return {
        "wall_s": round(wall, 2),
        "rows": rows,
        "rows_per_s": round(rate(rows, wall)),
        "statuses": statuses,
        # CPU seconds the whole machine spent (the workers, PostgreSQL's server processes, the rest)
        "cores_busy": round(busy / wall, 2),
        "cpu_s_per_million_rows": round(busy / rows * 1e6, 2),
    }


def machine_busy_seconds() -> float:
    """CPU seconds spent on all cores, not idle (from /proc/stat: user, nice, system, irq, softirq)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = stat.readline().split()
    user, nice, system, _idle, _iowait, irq, softirq = (int(f) for f in fields[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- the run


def attempt(results: dict[str, Any], step: str, fn: Any, *args: Any) -> Any:
    print(f"-- {step} … (load average {load_average()})", flush=True)
    try:
        results[step] = fn(*args)
    except (StepFailed, subprocess.CalledProcessError, psycopg.Error) as e:
        results.setdefault("failures", {})[step] = str(e)
        print(f"   {step}: {e}", flush=True)
        return None
    print(f"   {json.dumps(results[step])}", flush=True)
    return results[step]


def main() -> int:
    parser = argparse.ArgumentParser(
        description="impex into PostgreSQL vs COPY and pgloader; two workers vs one."
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--multi-rows", type=int, default=5_000_000, help="Records per worker job (0: none).")
    parser.add_argument(
        "--pgloader-timeout", type=int, default=1200, help="Seconds before pgloader is stopped."
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="Rounds of the impex import and the COPY, one after the other; the ratio is their median.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="Smoke run: 100,000 records, workers at 200,000."
    )
    args = parser.parse_args()
    compile_impex()
    if args.quick:
        args.rows, args.multi_rows = 100_000, 200_000
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "logs").mkdir(exist_ok=True)
    results: dict[str, Any] = {
        "rows": args.rows,
        "multi_rows": args.multi_rows,
        "server": SERVER,
        "cpus": os.cpu_count(),
        "load_average_at_start": load_average(),
    }
    paths = gen_contacts.generate(args.rows)
    impex = attempt(results, "impex_import", impex_import, paths)
    copy = attempt(results, "copy_from_stdin", copy_clean, paths)
    rounds = [(impex, copy)]
    for k in range(2, args.rounds + 1):  # the anchor's own time varies by a quarter from run to run
        rounds.append(
            (
                attempt(results, f"impex_import_{k}", impex_import, paths),
                attempt(results, f"copy_from_stdin_{k}", copy_clean, paths),
            )
        )
    ratios = [i["rows_per_s"] / c["rows_per_s"] for i, c in rounds if i and c]
    if ratios:
        results["impex_vs_copy"] = round(statistics.median(ratios), 3)
        results["impex_vs_copy_rounds"] = [round(r, 3) for r in ratios]
    if copy:
        attempt(results, "resume_keys", resume_keys, paths)
    upsert = attempt(results, "upsert", upserts, paths) if copy else None
    if upsert:
        results["impex_vs_sql_upsert"] = round(upsert["impex_rows_per_s"] / upsert["sql_rows_per_s"], 3)
    if copy:
        attempt(results, "not_empty", not_empty, paths)
    loader = attempt(results, "pgloader", pgloader, paths, args.pgloader_timeout)
    if impex and loader and loader.get("rows_per_s"):
        results["impex_vs_pgloader"] = round(impex["rows_per_s"] / loader["rows_per_s"], 2)
    if args.multi_rows:
        big = gen_contacts.generate(args.multi_rows)
        one = attempt(results, "one_worker", workers, big, 1)
        two = attempt(results, "two_workers", workers, big, 2)
        if one and two:
            results["two_workers_vs_one"] = round(two["rows_per_s"] / one["rows_per_s"], 2)
            # CPU-bound, two workers can gain at most the cores one worker left idle
            results["two_workers_cpu_ceiling"] = round((os.cpu_count() or 1) / one["cores_busy"], 2)
    results["load_average_at_end"] = load_average()
    (OUT / "postgres-results.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print_summary(results)
    return 1 if results.get("failures") else 0


def print_summary(r: dict[str, Any]) -> None:
    print(
        f"\n== impex into PostgreSQL, {r['rows']:,} records (1% bad); {r['cpus']} CPUs; "
        f"load average {r['load_average_at_start']} at start, {r['load_average_at_end']} at end"
    )
    if "impex_import" in r:
        i = r["impex_import"]
        print(
            f"impex run        {i['wall_s']:>8.2f} s  {i['rows_per_s']:>10,} rows/s  "
            f"peak RSS {i['peak_rss_mb']} MB  table {i['table_rows']:,} (clean rows {i['clean_rows']:,})"
        )
        print(
            f"  reject list: {i['rejects_found']:,} of {i['rejects_expected']:,} bad records; missing "
            f"{i['rejects_missing']}, wrong line {i['rejects_wrong_line']}, "
            f"unexpected {i['rejects_unexpected']}"
            f" -> {'complete' if i['reject_list_complete'] else 'INCOMPLETE'}"
        )
    if "copy_from_stdin" in r:
        c = r["copy_from_stdin"]
        print(
            f"psql \\copy clean {c['wall_s']:>8.2f} s  {c['rows_per_s']:>10,} rows/s  "
            f"table {c['table_rows']:,}"
        )
    if "impex_vs_copy" in r:
        ok = "met" if r["impex_vs_copy"] >= COPY_RATIO_TARGET else "NOT met"
        each = r["impex_vs_copy_rounds"]
        rounds = f" (median of {len(each)} rounds: {', '.join(map(str, each))})" if len(each) > 1 else ""
        print(f"  impex / COPY = {r['impex_vs_copy']}{rounds} (target >= {COPY_RATIO_TARGET}: {ok})")
    if "resume_keys" in r:
        k = r["resume_keys"]
        print(
            f"resume, seen keys rebuilt from the {k['table_rows']:,}-row table: impex {k['impex_s']:.2f} s; "
            f"psql writing the same keys to /dev/null {k['psql_s']:.2f} s (no target; for regressions)"
        )
    if "upsert" in r:
        u = r["upsert"]
        print(
            f"upsert into the {u['table_rows_before']:,}-row table: SQL (COPY to a temporary table, INSERT … "
            f"ON CONFLICT DO UPDATE) {u['sql_wall_s']:.2f} s; impex {u['impex_wall_s']:.2f} s "
            f"({', '.join(f'{k} {v:,}' for k, v in u['impex_counters'].items())})"
        )
        print(f"  impex / SQL upsert = {r['impex_vs_sql_upsert']} (no target; for regressions)")
    if "not_empty" in r and "impex_import" in r:
        n, i = r["not_empty"], r["impex_import"]
        counted = ", ".join(f"{k} {v:,}" for k, v in n["counters"].items())
        print(
            f"impex into the table holding 1,000 of the ids (every key looked up) {n['wall_s']:.2f} s, "
            f"into the empty table {i['wall_s']:.2f} s ({counted}; no target)"
        )
    if "pgloader" in r:
        p = r["pgloader"]
        if p.get("wall_s"):
            print(
                f"pgloader dirty   {p['wall_s']:>8.2f} s  {p['rows_per_s']:>10,} rows/s  "
                f"table {p['table_rows']:,}; "
                f"reject file {p['reject_file_lines']:,} lines for {p['bad_rows_planted']:,} bad records, "
                f"table {_beyond(p['rows_beyond_clean'])}; no line numbers"
            )
        else:
            print(f"pgloader: {p.get('note')}")
    for step in ("one_worker", "two_workers"):
        if step in r:
            w = r[step]
            print(
                f"{step.replace('_', ' '):<16} {w['wall_s']:>8.2f} s  {w['rows_per_s']:>10,} rows/s total "
                f"({w['rows']:,} rows; {', '.join(w['statuses'])})"
            )
    if "two_workers_vs_one" in r:
        ok = "met" if r["two_workers_vs_one"] >= WORKERS_RATIO_TARGET else "NOT met"
        print(f"  two workers / one = {r['two_workers_vs_one']} (target >= {WORKERS_RATIO_TARGET}: {ok})")
    if "two_workers_cpu_ceiling" in r:
        print(
            f"  one worker keeps {r['one_worker']['cores_busy']} of {os.cpu_count()} cores busy (its threads"
            f" and PostgreSQL's): two at once can be at most {r['two_workers_cpu_ceiling']} x as fast here"
        )
    for step, why in r.get("failures", {}).items():
        print(f"FAILED {step}: {why}")


if __name__ == "__main__":
    sys.exit(main())
