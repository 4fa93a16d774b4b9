"""impex against the sqlite3 command-line shell: CSV import and export speed, peak memory, rejects.

Run from anywhere (paths are relative to this file):
  .venv/bin/python bench/bench_sqlite.py              # 1,000,000 records, RSS repeat at 5,000,000
  .venv/bin/python bench/bench_sqlite.py --quick      # 100,000 records smoke run
  .venv/bin/python bench/bench_sqlite.py --rows 2000000 --rss-rows 0   # 0: no RSS repeat
  .venv/bin/python bench/bench_sqlite.py --rounds 5   # ratios as medians of 5 back-to-back pairs

Steps: generate the data (bench/gen_contacts.py, skipped when present); import the dirty file with
``impex run`` (full validation and rejects; wall time and the process's own peak RSS from wait4);
import the clean file into the same typed table with ``sqlite3 .import`` (the anchor, DDL read back
from impex's database); check the table and the reject list against the generator's sidecar; repeat
the impex import at --rss-rows; export the table with both tools. Two more figures bound the import
ratio from above: impex's fixed cost (the same job on a one-record file) and SQLite's insert work
alone for the anchor's rows (bench/sqlite_insert_floor.py); however fast impex read and validated,
it could not beat the shell by more than ``import_ratio_ceiling``. With ``--rounds N`` the import
pair (impex, then the shell) and the export pair run N times back to back and each ratio is the
median of the N pairs' ratios: from one run to the next the shell's own time varies by a fifth here.
Prints a summary and writes it to bench/out/sqlite-results.json (sqlite-results-quick.json for
--quick).

This prints figures; it is not a test. Exit code 0 when every step ran, 1 when one failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # for gen_contacts, which sits next to this file

import gen_contacts  # noqa: E402
import yaml  # noqa: E402

REPO = HERE.parent
OUT = HERE / "out"
WORK = OUT / "sqlite-work"
TIMEOUT_S = 3600
IMPORT_RATIO_TARGET = 1.2
EXPORT_RATIO_TARGET = 1.0
RSS_TARGET_MB = 300.0
TABLE = "contacts"
IMPORT_CHUNK_ROWS = 20_833  # rows of an import's chunk of this file at the default chunk_bytes (3 MB)


class StepFailed(RuntimeError):
    """A step could not give its figure; the message says why (shown in the summary)."""


@dataclass
class Measure:
    wall_s: float
    peak_rss_mb: float
    exit_code: int
    log: str


@dataclass
class RejectCheck:
    expected: int
    found: int
    missing: int = 0  # bad records not in the reject list
    wrong_line: int = 0  # in the list, but with another line number
    wrong_reason: dict[str, int] = field(default_factory=dict)  # kind -> count with an unexpected reason
    unexpected: int = 0  # rejects of records that were good
    examples: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        doubles_ok = not self.wrong_reason.get("duplicate_id")
        return self.missing == 0 and self.wrong_line == 0 and doubles_ok


@dataclass
class ImpexImport:
    rows: int
    measure: Measure
    table_rows: int
    clean_rows: int
    rejects: RejectCheck
    data_dir: Path


# ---------------------------------------------------------------- processes


def impex_bin() -> str:
    local = REPO / ".venv" / "bin" / "impex"
    found = os.environ.get("IMPEX_BIN") or (str(local) if local.exists() else shutil.which("impex"))
    if not found:
        raise StepFailed("no impex executable (.venv/bin/impex, IMPEX_BIN or impex on PATH)")
    return found


def compile_impex() -> None:
    """Byte-compile impex's own modules, as ``pip install`` does for an installed package. An editable
    install under PYTHONDONTWRITEBYTECODE=1 would otherwise compile them at every start (~0.1 s)."""
    import compileall

    compileall.compile_dir(str(REPO / "src"), quiet=1)


def run_measured(cmd: list[str], log: Path, *, stdout: Path | None = None) -> Measure:
    """Run ``cmd`` through bench/peak_rss.py: wall time and the command's own peak RSS."""
    log.parent.mkdir(parents=True, exist_ok=True)
    result = log.with_suffix(".measure.json")
    fresh(result)
    launcher = [sys.executable, "-S", str(HERE / "peak_rss.py"), str(result)]
    os.sync()  # each step pays for its own writes, not for the previous step's still being flushed
    with log.open("wb") as err, (stdout or log.with_suffix(".out")).open("wb") as out:
        # its own session, so a timeout can stop the command with the launcher
        proc = subprocess.Popen(
            launcher + cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True
        )
        try:
            proc.wait(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise StepFailed(f"{Path(cmd[0]).name} still running after {TIMEOUT_S} s") from None
    if not result.exists():
        raise StepFailed(f"{Path(cmd[0]).name} could not be started; see {log.relative_to(REPO)}")
    m = json.loads(result.read_text(encoding="utf-8"))
    return Measure(m["wall_s"], m["peak_rss_kib"] * 1024 / 1e6, m["exit_code"], str(log.relative_to(REPO)))


def tail(path: str, lines: int = 15) -> str:
    text = (REPO / path).read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return "\n    ".join(text[-lines:])


def sqlite3_shell(*args: str) -> str:
    done = subprocess.run(["sqlite3", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise StepFailed(f"sqlite3 {' '.join(args[:2])}: {done.stderr.strip()}")
    return done.stdout


def fresh(path: Path) -> Path:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    return path


# ---------------------------------------------------------------- import


def impex_import(paths: gen_contacts.Paths, name: str) -> ImpexImport:
    data_dir = fresh(WORK / name / "impex-data")
    data_dir.mkdir(parents=True)
    logs = WORK / name / "logs"
    cmd = [impex_bin(), "--data-dir", str(data_dir), "run", str(paths.job), "--json"]
    measure = run_measured(cmd, logs / "impex-run.err", stdout=logs / "impex-run.json")
    if measure.exit_code not in (0, 1):  # 1: finished with rejects, expected here
        raise StepFailed(
            f"impex run exited {measure.exit_code}; last lines of {measure.log}:\n    "
            f"{tail(measure.log)}\n    {tail(str((logs / 'impex-run.json').relative_to(REPO)))}"
        )
    sidecar = json.loads(paths.sidecar.read_text(encoding="utf-8"))
    table_rows = count_rows(data_dir / "data.db")
    rejects = check_rejects(sidecar, read_rejects(data_dir / "impex.db"))
    return ImpexImport(sidecar["rows"], measure, table_rows, sidecar["clean_rows"], rejects, data_dir)


def count_rows(db: Path) -> int:
    if not db.exists():
        raise StepFailed(f"{db.relative_to(REPO)} was not created")
    with sqlite3.connect(db) as conn:
        try:
            return int(conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0])
        except sqlite3.OperationalError as e:
            raise StepFailed(f"{db.relative_to(REPO)}: {e}") from None


def read_rejects(store: Path) -> dict[int, tuple[int, str]]:
    """record_no -> (line_no, reason), straight from the store's rejects table."""
    if not store.exists():
        raise StepFailed(f"{store.relative_to(REPO)} was not created")
    with sqlite3.connect(store) as conn:
        try:
            rows = conn.execute("SELECT record_no, line_no, reason FROM rejects").fetchall()
        except sqlite3.OperationalError as e:
            raise StepFailed(f"{store.relative_to(REPO)}: {e}") from None
    return {int(r): (int(line), str(reason)) for r, line, reason in rows}


def check_rejects(sidecar: dict[str, Any], rejects: dict[int, tuple[int, str]]) -> RejectCheck:
    check = RejectCheck(expected=sidecar["bad_rows"], found=len(rejects))
    planted: set[int] = set()
    for kind, info in sidecar["kinds"].items():
        for record, line in zip(info["record_no"], info["line_no"], strict=True):
            planted.add(record)
            got = rejects.get(record)
            if got is None:
                check.missing += 1
                _example(check, f"{kind} record {record} line {line}: not rejected")
            elif got[0] != line:
                check.wrong_line += 1
                _example(check, f"{kind} record {record}: line {got[0]}, expected {line}")
            elif got[1] != info["reason"]:
                check.wrong_reason[kind] = check.wrong_reason.get(kind, 0) + 1
                _example(check, f"{kind} record {record}: reason {got[1]}, expected {info['reason']}")
    check.unexpected = len(rejects.keys() - planted)
    return check


def _example(check: RejectCheck, text: str) -> None:
    if len(check.examples) < 10:
        check.examples.append(text)


def table_ddl(impex_data_dir: Path | None, job: Path) -> tuple[str, str]:
    """The CREATE TABLE impex used (read back from its database), else one built the same way."""
    if impex_data_dir is not None and (impex_data_dir / "data.db").exists():
        ddl = sqlite3_shell(str(impex_data_dir / "data.db"), f".schema {TABLE}").strip()
        if ddl:
            return ddl, "read back from impex's data.db"
    return fallback_ddl(job), "built from the job definition (impex gave none)"


def fallback_ddl(job: Path) -> str:
    """Same rule as impex's SQLite target: a single integer key is the rowid; required -> NOT NULL."""
    definition = yaml.safe_load(job.read_text(encoding="utf-8"))
    types = {
        "string": "TEXT",
        "integer": "INTEGER",
        "float": "REAL",
        "decimal": "TEXT",
        "boolean": "INTEGER",
        "date": "TEXT",
        "timestamp": "TEXT",
    }
    keys = definition["reconciliation"]["keys"]
    parts = []
    for col in definition["columns"]:
        sql = f'"{col["name"]}" {types[col.get("type", "string")]}'
        if keys == [col["name"]] and col.get("type") == "integer":
            sql += " PRIMARY KEY"
        elif col.get("required") or col["name"] in keys:
            sql += " NOT NULL"
        parts.append(sql)
    return f'CREATE TABLE "{TABLE}" ({", ".join(parts)});'


def compare_with_anchor(impex_db: Path, anchor_db: Path, job: Path) -> int:
    """Rows of impex's table not in the anchor's, once the anchor's text is read as impex stores it:
    '' is NULL and true/false are 1/0 (the shell keeps every field as it is in the file)."""
    columns = yaml.safe_load(job.read_text(encoding="utf-8"))["columns"]
    anchor_side = ", ".join(
        f"CASE {c['name']} WHEN 'true' THEN 1 WHEN 'false' THEN 0 END"
        if c.get("type") == "boolean"
        else f"nullif({c['name']}, '')"
        for c in columns
    )
    names = ", ".join(c["name"] for c in columns)
    with sqlite3.connect(impex_db) as conn:
        conn.execute("ATTACH ? AS anchor", (str(anchor_db),))
        sql = f"SELECT {names} FROM {TABLE} EXCEPT SELECT {anchor_side} FROM anchor.{TABLE}"
        return int(conn.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0])


def shell_import(paths: gen_contacts.Paths, ddl: str, name: str) -> tuple[Measure, int]:
    db = fresh(WORK / name / "anchor.db")
    sqlite3_shell(str(db), ddl)
    cmd = ["sqlite3", str(db), f".import --csv --skip 1 {paths.clean} {TABLE}"]
    measure = run_measured(cmd, WORK / name / "logs" / "shell-import.err")
    if measure.exit_code != 0:
        raise StepFailed(f"sqlite3 .import exited {measure.exit_code}:\n    {tail(measure.log)}")
    return measure, count_rows(db)


def impex_startup(name: str) -> Measure:
    """``impex --help``: the floor under every impex figure (interpreter and imports)."""
    measure = run_measured([impex_bin(), "--help"], WORK / name / "logs" / "impex-help.err")
    if measure.exit_code != 0:
        raise StepFailed(f"impex --help exited {measure.exit_code}:\n    {tail(measure.log)}")
    return measure


def impex_fixed_cost(paths: gen_contacts.Paths, name: str) -> Measure:
    """``impex run`` of the same job on a one-record copy of the file, into a new data folder: what
    an import costs whatever its size (interpreter, imports, store, run bookkeeping)."""
    folder = WORK / name / "one-record"
    data_dir = fresh(folder / "impex-data")
    data_dir.mkdir(parents=True)
    with paths.dirty.open("rb") as source:
        head = source.readline() + source.readline()
    (folder / "one-record.csv").write_bytes(head)
    job = yaml.safe_load(paths.job.read_text(encoding="utf-8"))
    job["source"] = str(folder / "one-record.csv")
    (folder / "job.yaml").write_text(yaml.safe_dump(job), encoding="utf-8")
    cmd = [impex_bin(), "--data-dir", str(data_dir), "run", str(folder / "job.yaml"), "--json"]
    measure = run_measured(cmd, WORK / name / "logs" / "impex-one-record.err")
    if measure.exit_code != 0:
        raise StepFailed(f"impex run of one record exited {measure.exit_code}:\n    {tail(measure.log)}")
    return measure


def insert_floor(anchor: Path, name: str) -> dict[str, Any]:
    """SQLite's insert work alone for the anchor's rows (bench/sqlite_insert_floor.py)."""
    target = WORK / name / "insert-floor.db"
    script = str(HERE / "sqlite_insert_floor.py")
    cmd = [sys.executable, script, str(anchor), TABLE, str(target), str(IMPORT_CHUNK_ROWS)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=TIMEOUT_S)
    fresh(target)
    if done.returncode != 0:
        raise StepFailed(f"sqlite_insert_floor.py exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return dict(json.loads(done.stdout))


# ---------------------------------------------------------------- export


def impex_export(data_dir: Path, name: str) -> Measure:
    target = fresh(WORK / name / "export-impex.csv")
    cmd = [impex_bin(), "--data-dir", str(data_dir), "export", "--table", TABLE, str(target), "--json"]
    logs = WORK / name / "logs"
    measure = run_measured(cmd, logs / "impex-export.err", stdout=logs / "impex-export.json")
    if measure.exit_code != 0 or not target.exists():
        raise StepFailed(f"impex export exited {measure.exit_code}:\n    {tail(measure.log)}")
    return measure


def shell_export(db: Path, name: str) -> Measure:
    target = fresh(WORK / name / "export-shell.csv")
    cmd = ["sqlite3", "-csv", "-header", str(db), f"SELECT * FROM {TABLE}"]
    measure = run_measured(cmd, WORK / name / "logs" / "shell-export.err", stdout=target)
    if measure.exit_code != 0:
        raise StepFailed(f"sqlite3 export exited {measure.exit_code}:\n    {tail(measure.log)}")
    return measure


# ---------------------------------------------------------------- the run


@dataclass
class Results:
    rows: int
    rss_rows: int
    figures: dict[str, Any] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    def attempt(self, step: str, fn: Any, *args: Any) -> Any:
        print(f"-- {step} …", flush=True)
        try:
            return fn(*args)
        except StepFailed as e:
            self.failures[step] = str(e)
            print(f"   FAILED: {e}", flush=True)
            return None


def rate(rows: int, seconds: float) -> float:
    return rows / seconds if seconds > 0 else 0.0


def import_figures(run: ImpexImport) -> dict[str, Any]:
    return {
        "records": run.rows,
        "wall_s": round(run.measure.wall_s, 2),
        "rows_per_s": round(rate(run.rows, run.measure.wall_s)),
        "peak_rss_mb": round(run.measure.peak_rss_mb, 1),
        "exit_code": run.measure.exit_code,
        "table_rows": run.table_rows,
        "table_rows_ok": run.table_rows == run.clean_rows,
        "rejects": {**asdict(run.rejects), "complete": run.rejects.complete},
    }


def run(rows: int, rss_rows: int, name: str, rounds: int) -> Results:
    res = Results(rows, rss_rows)
    paths = res.attempt("generate", gen_contacts.generate, rows)
    sidecar = json.loads(paths.sidecar.read_text(encoding="utf-8"))
    startup = res.attempt("impex --help (startup floor)", impex_startup, name)
    if startup is not None:
        res.figures["impex_startup"] = export_figures(startup, 0)
    imp: ImpexImport | None = res.attempt("impex import", impex_import, paths, name)
    if imp is not None:
        res.figures["impex_import"] = import_figures(imp)
    ddl, origin = table_ddl(imp.data_dir if imp else None, paths.job)
    res.figures["ddl"] = {"sql": ddl, "origin": origin}
    shell = res.attempt("sqlite3 shell import (anchor)", shell_import, paths, ddl, name)
    if shell is not None:
        measure, table_rows = shell
        res.figures["shell_import"] = {
            "records": sidecar["clean_rows"],
            "wall_s": round(measure.wall_s, 2),
            "rows_per_s": round(rate(sidecar["clean_rows"], measure.wall_s)),
            "peak_rss_mb": round(measure.peak_rss_mb, 1),
            "table_rows": table_rows,
        }
        if imp is not None:
            differ = compare_with_anchor(imp.data_dir / "data.db", WORK / name / "anchor.db", paths.job)
            res.figures["impex_import"]["rows_differing_from_anchor"] = differ
    fixed = res.attempt("impex run, one record (fixed cost)", impex_fixed_cost, paths, name)
    if fixed is not None:
        res.figures["impex_fixed_cost"] = export_figures(fixed, 1)
    if shell is not None:
        floor = res.attempt("SQLite insert alone (floor)", insert_floor, WORK / name / "anchor.db", name)
        if floor is not None:
            res.figures["insert_floor"] = floor
    if rss_rows:
        big = res.attempt(f"generate {rss_rows:,}", gen_contacts.generate, rss_rows)
        big_run = res.attempt(f"impex import {rss_rows:,}", impex_import, big, f"{name}-rss") if big else None
        if big_run is not None:
            res.figures["impex_import_rss"] = import_figures(big_run)
    export_db = imp.data_dir / "data.db" if imp else WORK / name / "anchor.db"
    table_rows = count_rows(export_db) if export_db.exists() else 0
    shell_out = res.attempt("sqlite3 shell export", shell_export, export_db, name) if table_rows else None
    if shell_out is not None:
        res.figures["shell_export"] = export_figures(shell_out, table_rows)
    impex_out = res.attempt("impex export", impex_export, imp.data_dir, name) if imp else None
    if impex_out is not None:
        res.figures["impex_export"] = export_figures(impex_out, table_rows)
    if imp is not None and shell is not None:
        res.figures["rounds"] = more_rounds(res, paths, ddl, name, rounds)
    res.figures["verdict"] = verdict(res.figures)
    return res


def more_rounds(res: Results, paths: gen_contacts.Paths, ddl: str, name: str, rounds: int) -> dict[str, Any]:
    """Rounds 2..N of the import pair and the export pair, each pair back to back; round 1's are the
    figures above. Every impex import is checked as the first one was."""
    f = res.figures
    imports = [(f["impex_import"]["wall_s"], f["shell_import"]["wall_s"])]
    exports = [(f["impex_export"]["wall_s"], f["shell_export"]["wall_s"])] if "impex_export" in f else []
    for k in range(2, rounds + 1):
        imp = res.attempt(f"round {k}: impex import", impex_import, paths, name)
        shell = res.attempt(f"round {k}: sqlite3 shell import", shell_import, paths, ddl, name)
        if imp is None or shell is None:
            continue
        if not (imp.rejects.complete and imp.table_rows == imp.clean_rows):
            res.failures[f"round {k}: impex import"] = "rejects or table differ from round 1's"
        imports.append((imp.measure.wall_s, shell[0].wall_s))
        if exports:
            impex_out = res.attempt(f"round {k}: impex export", impex_export, imp.data_dir, name)
            shell_out = res.attempt(
                f"round {k}: sqlite3 shell export", shell_export, imp.data_dir / "data.db", name
            )
            if impex_out is not None and shell_out is not None:
                exports.append((impex_out.wall_s, shell_out.wall_s))

    def pairs(walls: list[tuple[float, float]], records: int, anchor_records: int) -> dict[str, Any]:
        # each pair's ratio of rows/s: impex's records over its time against the anchor's
        ratios = [rate(records, mine) / rate(anchor_records, theirs) for mine, theirs in walls]
        return {
            "impex_s": [round(m, 2) for m, _ in walls],
            "anchor_s": [round(t, 2) for _, t in walls],
            "ratios": [round(r, 3) for r in ratios],
            "median_ratio": round(statistics.median(ratios), 3),
        }

    out = {"import": pairs(imports, f["impex_import"]["records"], f["shell_import"]["records"])}
    if exports:
        rows = f["impex_export"]["rows"]
        out["export"] = pairs(exports, rows, rows)
    return out


def export_figures(measure: Measure, rows: int) -> dict[str, Any]:
    return {
        "rows": rows,
        "wall_s": round(measure.wall_s, 2),
        "rows_per_s": round(rate(rows, measure.wall_s)),
        "peak_rss_mb": round(measure.peak_rss_mb, 1),
    }


def verdict(f: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    imp, shell = f.get("impex_import"), f.get("shell_import")
    rounds = f.get("rounds", {})
    if imp and shell:
        ratio = (
            rounds["import"]["median_ratio"]
            if "import" in rounds
            else imp["rows_per_s"] / shell["rows_per_s"]
        )
        out["import_ratio"] = {
            "value": round(ratio, 2),
            "target": f">= {IMPORT_RATIO_TARGET}",
            "ok": ratio >= IMPORT_RATIO_TARGET,
        }
    for key, label in (("impex_import", "import_rss_mb"), ("impex_import_rss", "import_rss_big_mb")):
        if f.get(key):
            rss = f[key]["peak_rss_mb"]
            out[label] = {"value": rss, "target": f"< {RSS_TARGET_MB:.0f}", "ok": rss < RSS_TARGET_MB}
    for key in ("impex_import", "impex_import_rss"):
        if f.get(key):
            complete = f[key]["rejects"]["complete"]
            out[f"{key}_rejects_complete"] = {"value": complete, "ok": complete}
            out[f"{key}_table_rows"] = {"value": f[key]["table_rows"], "ok": f[key]["table_rows_ok"]}
    if imp and "rows_differing_from_anchor" in imp:
        differ = imp["rows_differing_from_anchor"]
        out["impex_rows_differing_from_anchor"] = {"value": differ, "target": "0", "ok": differ == 0}
    fixed, floor = f.get("impex_fixed_cost"), f.get("insert_floor")
    if fixed and floor and shell:
        # an import can be no faster than its fixed cost plus SQLite's inserts, however fast it reads
        best = fixed["wall_s"] + floor["ingest_s"]
        records = imp["records"] if imp else floor["rows"]
        ceiling = rate(records, best) / shell["rows_per_s"]
        out["import_ratio_ceiling"] = {"value": round(ceiling, 2), "ok": True}
    ie, se = f.get("impex_export"), f.get("shell_export")
    if ie and se:
        ratio = (
            rounds["export"]["median_ratio"] if "export" in rounds else ie["rows_per_s"] / se["rows_per_s"]
        )
        out["export_ratio"] = {
            "value": round(ratio, 2),
            "target": f">= {EXPORT_RATIO_TARGET}",
            "ok": ratio >= EXPORT_RATIO_TARGET,
        }
    return out


# ---------------------------------------------------------------- report


def print_summary(res: Results) -> None:
    f = res.figures
    print(f"\n== impex vs sqlite3 shell, {res.rows:,} records (RSS repeat at {res.rss_rows:,}) ==")
    print(f"table DDL ({f['ddl']['origin']}):\n  {f['ddl']['sql']}")
    print(f"\n{'step':<34}{'records':>11}{'wall s':>9}{'rows/s':>12}{'peak RSS MB':>13}")
    for key, label in (
        ("impex_startup", "startup impex --help"),
        ("impex_fixed_cost", "import  impex run (one record)"),
        ("shell_import", "import  sqlite3 .import (clean)"),
        ("impex_import", "import  impex run (dirty)"),
        ("impex_import_rss", "import  impex run (dirty, big)"),
        ("shell_export", "export  sqlite3 -csv"),
        ("impex_export", "export  impex export"),
    ):
        row = f.get(key)
        if row:
            n = row.get("records", row.get("rows"))
            print(
                f"{label:<34}{n:>11,}{row['wall_s']:>9.2f}{row['rows_per_s']:>12,}{row['peak_rss_mb']:>13.1f}"
            )
        else:
            print(f"{label:<34}{'—':>11}   (not measured)")
    floor = f.get("insert_floor")
    if floor:
        print(f"{'import  SQLite inserts alone':<34}{floor['rows']:>11,}{floor['ingest_s']:>9.2f}")
    for kind, r in f.get("rounds", {}).items():
        if len(r["ratios"]) > 1:
            walls = ", ".join(f"{m:.2f}/{t:.2f}" for m, t in zip(r["impex_s"], r["anchor_s"], strict=True))
            print(f"{kind} rounds, impex/shell s: {walls}; ratios {r['ratios']}, median {r['median_ratio']}")
    print(f"\n{'check':<40}{'value':>10}  {'target':<10}ok")
    for name, v in f["verdict"].items():
        print(f"{name:<40}{v['value']!s:>10}  {v.get('target', ''):<10}{'yes' if v['ok'] else 'NO'}")
    for key in ("impex_import", "impex_import_rss"):
        rej = f.get(key, {}).get("rejects")
        if rej:
            print(
                f"{key} rejects: {rej['found']:,} found / {rej['expected']:,} planted; "
                f"missing {rej['missing']}, wrong line {rej['wrong_line']}, "
                f"wrong reason {rej['wrong_reason'] or 0}, unexpected {rej['unexpected']}"
            )
            for example in rej["examples"]:
                print(f"    {example}")
    for step, why in res.failures.items():
        print(f"FAILED {step}: {why}")


def main() -> int:
    parser = argparse.ArgumentParser(description="impex vs the sqlite3 shell: import/export speed, memory.")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rss-rows", type=int, default=5_000_000, help="Records, RSS repeat (0: none).")
    parser.add_argument("--quick", action="store_true", help="Smoke run: 100,000 records, RSS at 200,000.")
    parser.add_argument(
        "--rounds", type=int, default=3, help="Import and export pairs; each ratio is their median."
    )
    args = parser.parse_args()
    compile_impex()
    if shutil.which("sqlite3") is None:
        print("the sqlite3 command-line shell is needed (apt-get install sqlite3)", file=sys.stderr)
        return 1
    rows, rss_rows = (100_000, 200_000) if args.quick else (args.rows, args.rss_rows)
    load = [round(x, 2) for x in os.getloadavg()]
    print(f"{os.cpu_count()} CPUs, load average {load[0]} (other work on the machine skews the timings)")
    res = run(rows, rss_rows, "quick" if args.quick else "full", max(1, args.rounds))
    print_summary(res)
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / ("sqlite-results-quick.json" if args.quick else "sqlite-results.json")
    report = {
        "rows": rows,
        "rss_rows": rss_rows,
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "sqlite3": sqlite3_shell("--version").split()[0],
        "cpus": os.cpu_count(),
        "load_avg_before": load,
        **res.figures,
        "failures": res.failures,
    }
    target.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"\nwritten: {target.relative_to(REPO)}")
    return 1 if res.failures else 0


if __name__ == "__main__":
    sys.exit(main())
