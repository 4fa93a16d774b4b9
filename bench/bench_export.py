"""Export speed: ``impex export --table`` against the sqlite3 shell's ``-csv -header``, rounds interleaved.

Run from anywhere (paths are relative to this file):
  .venv/bin/python bench/bench_export.py                       # the table of bench_sqlite.py's full run
  .venv/bin/python bench/bench_export.py --db DATA.db --rounds 7
  .venv/bin/python bench/bench_export.py --before-src ../old/src   # also an older impex, same rounds

The machine may be busy with other work: each round runs every tool once, in turn, and the summary
gives each tool's best and median wall time, its peak RSS, and the ratio of impex's rows/s to the
shell's (best against best, median against median). It prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_DB = HERE / "out" / "sqlite-work" / "full" / "impex-data" / "data.db"


def measured(cmd: list[str], env: dict[str, str], stdout: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of ``cmd``, through bench/peak_rss.py."""
    with tempfile.NamedTemporaryFile(suffix=".json") as result, stdout.open("wb") as out:
        launcher = [sys.executable, "-S", str(HERE / "peak_rss.py"), result.name]
        done = subprocess.run(launcher + cmd, env=env, stdout=out, stderr=subprocess.PIPE, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd[:3])} … exited {done.returncode}: {done.stderr.decode()[-800:]}")
        m = json.loads(Path(result.name).read_text(encoding="utf-8"))
    return m["wall_s"], m["peak_rss_kib"] * 1024 / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help="SQLite file holding the table")
    parser.add_argument("--table", default="contacts")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before-src", type=Path, help="src folder of another impex to measure alongside")
    args = parser.parse_args()
    if not args.db.exists():
        raise SystemExit(f"{args.db} is missing: run bench/bench_sqlite.py first, or give --db")
    with sqlite3.connect(args.db) as conn:
        rows = int(conn.execute(f'SELECT count(*) FROM "{args.table}"').fetchone()[0])
    work = Path(tempfile.mkdtemp(prefix="impex-bench-export-"))
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
    walls: dict[str, list[float]] = {name: [] for name in tools}
    rss: dict[str, float] = dict.fromkeys(tools, 0.0)
    for _ in range(args.rounds):
        for name, (cmd, env, stdout) in tools.items():
            out.unlink(missing_ok=True)
            wall, peak = measured(cmd, env, stdout)
            walls[name].append(wall)
            rss[name] = max(rss[name], peak)
    shell = walls["sqlite3 shell"]
    print(
        f"{rows:,} rows of {args.table}, {args.rounds} rounds, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.2f}"
    )
    for name, times in walls.items():
        best, median = min(times), statistics.median(times)
        line = f"{name:>14}: best {best:.2f} s, median {median:.2f} s, peak RSS {rss[name]:.0f} MB"
        if name != "sqlite3 shell":
            ratios = min(shell) / best, statistics.median(shell) / median
            line += f", rows/s vs shell: best {ratios[0]:.2f}, median {ratios[1]:.2f}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
