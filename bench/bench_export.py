"""Export speed: ``impex export --table`` against the sqlite3 shell's ``-csv -header``, rounds interleaved.

Run from anywhere (paths are relative to this file):
  .venv/bin/python bench/bench_export.py                       # the table of bench_sqlite.py's full run
  .venv/bin/python bench/bench_export.py --db DATA.db --rounds 7
  .venv/bin/python bench/bench_export.py --before-src ../old/src   # also an older impex, same rounds

The machine may be busy with other work: each round runs every tool once, in turn, and the summary
gives each tool's best and median wall time, its least CPU time (user + system), its peak RSS, and
the ratio of impex's rows/s to the shell's (best against best, median against median). It prints
figures; it is not a test.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_DB = HERE / "out" / "sqlite-work" / "full" / "impex-data" / "data.db"
sys.path.insert(0, str(HERE))  # for bench_sqlite, which sits next to this file

from bench_sqlite import compile_impex  # noqa: E402


@dataclass
class Measure:
    wall_s: float
    cpu_s: float  # user + system: less sensitive than wall time to other work on the machine
    peak_rss_mb: float


def measured(cmd: list[str], env: dict[str, str], stdout: Path) -> Measure:
    """Run ``cmd``; its wall time, CPU time and peak RSS (this small process forks it: see peak_rss.py)."""
    with stdout.open("wb") as out:
        os.sync()  # each run pays for its own writes, not for the previous one's still being flushed
        began = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.PIPE)
        assert proc.stderr is not None
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - began
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} … exited {proc.returncode}: {err.decode()[-800:]}")
    return Measure(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024 / 1e6)


def figures(measures: list[Measure]) -> dict[str, float]:
    walls = [m.wall_s for m in measures]
    return {
        "best": min(walls),
        "median": statistics.median(walls),
        "cpu": min(m.cpu_s for m in measures),
        "rss": max(m.peak_rss_mb for m in measures),
    }


def run_rounds(args: argparse.Namespace, work: Path) -> dict[str, list[Measure]]:
    """Every tool once per round, in turn; the files they write stay in ``work``."""
    data_dir = work / "impex-data"
    data_dir.mkdir()
    (data_dir / "data.db").symlink_to(args.db.resolve())
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("IMPEX_")}
    tools: dict[str, tuple[list[str], dict[str, str], Path]] = {
        "sqlite3 shell": (
            ["sqlite3", "-csv", "-header", str(args.db), f"SELECT * FROM {args.table}"],
            base_env,
            work / "shell.csv",
        ),
    }
    out = work / "impex.csv"
    impex_args = [
        "-m",
        "impex",
        "--data-dir",
        str(data_dir),
        "export",
        "--table",
        args.table,
        str(out),
        "--json",
    ]
    tools["impex"] = ([sys.executable, *impex_args], base_env, work / "impex.json")
    if args.before_src:
        env = {**base_env, "PYTHONPATH": str(args.before_src.resolve())}
        tools["impex before"] = ([sys.executable, *impex_args], env, work / "before.json")
    runs: dict[str, list[Measure]] = {name: [] for name in tools}
    for _ in range(args.rounds):
        for name, (cmd, env, stdout) in tools.items():
            out.unlink(missing_ok=True)
            runs[name].append(measured(cmd, env, stdout))
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help="SQLite file holding the table")
    parser.add_argument("--table", default="contacts")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before-src", type=Path, help="src folder of another impex to measure alongside")
    args = parser.parse_args()
    compile_impex()
    if not args.db.exists():
        raise SystemExit(f"{args.db} is missing: run bench/bench_sqlite.py first, or give --db")
    with sqlite3.connect(args.db) as conn:
        rows = int(conn.execute(f'SELECT count(*) FROM "{args.table}"').fetchone()[0])
    with tempfile.TemporaryDirectory(prefix="impex-bench-export-") as tmp:
        runs = run_rounds(args, Path(tmp))
    print(
        f"{rows:,} rows of {args.table}, {args.rounds} rounds, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.2f} after"
    )
    shell = figures(runs["sqlite3 shell"])
    for name, measures in runs.items():
        fig = figures(measures)
        line = (
            f"{name:>14}: wall best {fig['best']:.2f} s, median {fig['median']:.2f} s; "
            f"CPU best {fig['cpu']:.2f} s; peak RSS {fig['rss']:.0f} MB"
        )
        if name != "sqlite3 shell":
            line += (
                f"; rows/s vs shell: best {shell['best'] / fig['best']:.2f}, "
                f"median {shell['median'] / fig['median']:.2f}"
            )
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
