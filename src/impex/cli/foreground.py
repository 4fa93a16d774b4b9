"""Running one job in this process, with a Rich progress bar."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from impex.cli.context import AppContext, why_failed
from impex.cli.exit_codes import exit_of
from impex.cli.render import console, emit_json, show_job
from impex.domain.definitions import ExportJob, ImportJob
from impex.domain.status import S
from impex.engine import execution
from impex.engine.worker import Worker
from impex.store.shapes import current_run, job_shape


def run_foreground(
    app: AppContext,
    definition: ImportJob | ExportJob,
    *,
    as_json: bool,
    shown: dict[str, Any] | None = None,
) -> int:
    """Run the definition to its end here. A job of exactly this definition that did not end (a stop
    by Ctrl-C, a shutdown, a pause, a crash) goes on from its checkpoint rather than start over."""
    job_id, resumed = app.store.job_to_run(definition.model_dump(mode="json"), actor="cli")
    worker = Worker(app.store, app.settings, concurrency=1)
    worker.install_signal_handlers()
    if as_json:
        status = worker.run_one(job_id)
    else:
        was = resumed.value.replace("_", " ") if resumed else ""
        going_on = f" (it was {was}: it goes on from its checkpoint)" if resumed else ""
        console.print(f"job {job_id}: {escape(definition.name)}{going_on}")
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        ) as bar:
            task = bar.add_task(definition.kind, total=None, detail="")

            def show(p: execution.Progress) -> None:
                c = p.counters
                done = f"{c.written:,} written" if definition.kind == "export" else f"{c.rejected:,} rejected"
                detail = f"{c.read:,} read, {done}, {p.rate:,.0f}/s"
                bar.update(task, completed=p.bytes_done, total=p.bytes_total, detail=detail)

            worker.on_progress = show
            status = worker.run_one(job_id)
            if status is S.FINISHED:
                bar.update(task, completed=bar.tasks[0].total or 1, total=bar.tasks[0].total or 1)
    final = status or app.store.status_of(job_id)
    job = app.store.job(job_id)
    runs = app.store.runs_of(job_id)
    why = why_failed(app.store, runs[-1:])
    if as_json:
        data = job_shape(job, current_run(job, runs)) | (shown or {})
        if why:
            data["why"] = why[runs[-1].id]
        emit_json(data)
    else:
        show_job(job, runs[-1:], why)
        if runs and runs[-1].counters.rejected:
            console.print(f"rejects: impex jobs rejects {job_id}")
    return exit_of(final)
