"""How the CLI shows jobs, runs, journals and rejects (Rich), or JSON for scripts."""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from impex.domain.status import allowed_actions

PIPED_WIDTH = 10_000

if TYPE_CHECKING:  # the records module loads SQLAlchemy, which `impex --help` need not
    from impex.domain.counters import Counters
    from impex.store.records import JobRecord, JournalLine, RejectRecord, RunRecord

# Into a pipe or a file, lines are not cut at 80 columns: a script greps whole lines.
console = Console() if sys.stdout.isatty() else Console(width=PIPED_WIDTH)
errors = Console(stderr=True) if sys.stderr.isatty() else Console(stderr=True, width=PIPED_WIDTH)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Say what went wrong on stderr (as text: a file named ``[x].csv`` is not markup) and give the
    exit to raise."""
    errors.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def refuse(body: dict[str, Any], code: int, *, as_json: bool) -> typer.Exit:
    """A refusal in ``error_shape``: with --json the body itself on stdout, as the API answers it (a
    script reads its code); else its message on stderr."""
    if not as_json:
        return fail(body["error"]["message"], code)
    emit_json(body)
    return typer.Exit(code)


def stamp(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "—"


def emit_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def emit_json_line(data: Any) -> None:
    """One compact JSON object per line (JSON Lines), for streams such as a followed journal."""
    print(json.dumps(data, default=str), flush=True)


def jobs_table(rows: list[tuple[JobRecord, RunRecord | None]]) -> Table:
    table = Table("ID", "Name", "Kind", "Status", "Read", "Rejected", "Started", "Duration")
    for job, run in rows:
        c = run.counters if run else None
        table.add_row(
            str(job.id),
            escape(job.name),
            job.kind,
            job.status.value,
            str(c.read) if c else "",
            str(c.rejected) if c else "",
            stamp(run.started_at) if run else "—",
            f"{run.active_seconds:.1f}s" if run else "",
        )
    return table


def show_job(job: JobRecord, runs: list[RunRecord], why: dict[int, list[str]] | None = None) -> None:
    """The job and its runs; ``why`` gives, per run id, what ended it with errors."""
    console.print(
        f"[bold]Job {job.id}[/bold] {escape(job.name)} ({job.kind})  status: [bold]{job.status.value}[/bold]"
    )
    console.print(f"actions allowed: {', '.join(a.value for a in allowed_actions(job.status)) or 'none'}")
    for run in runs:
        c = run.counters
        console.print(
            f"  run {run.run_no}: {run.outcome.value if run.outcome else 'current'}  "
            f"{counted(job.kind, c)}; {run.active_seconds:.1f}s"
            + (f"; file {escape(run.output_path)}" if run.output_path else "")
        )
        if job.kind == "import" and job.definition.get("commit") == "atomic" and not run.outcome:
            console.print("    all or nothing: the table receives these rows only when the run finishes")
        for cause in (why or {}).get(run.id, []):
            console.print(f"    [red]why:[/red] {escape(cause)}", highlight=False, soft_wrap=True)


def counted(kind: str, c: Counters) -> str:
    """A run's counters as a line says them: an export's rows read and written, an import's outcomes."""
    if kind == "export":
        return f"read {c.read}, written {c.written}"
    return (
        f"read {c.read}, inserted {c.inserted}, updated {c.updated}, unchanged {c.unchanged}, "
        f"deleted {c.deleted}, rejected {c.rejected}, doubles {c.doubles}, duplicates {c.duplicates}"
    )


def journal_line(line: JournalLine) -> str:
    return f"{stamp(line.ts)} {line.level.upper():7} {line.code:18} {line.text}"


def rejects_table(rows: list[RejectRecord], encoding: str) -> Table:
    table = Table("Record", "Line", "Reason", "Column", "Value", "Message", "Raw record")
    for r in rows:
        shown = (r.column or "", r.value or "", r.message, r.raw_text(encoding))
        table.add_row(str(r.record_no), str(r.line_no), r.reason, *map(escape, shown))
    return table
