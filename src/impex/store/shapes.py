"""Jobs and runs as JSON-ready dicts: one shape for the REST API and for ``impex … --json``, so that a
script reads the same fields from either. The web adds labels in the caller's language."""

from __future__ import annotations

from typing import Any

from impex.domain.status import allowed_actions
from impex.store.records import JobRecord, RunRecord


def progress(run: RunRecord | None) -> dict[str, Any]:
    """How far the current run is: a fraction of the source's bytes when known."""
    if run is None:
        return {"fraction": None, "rate": None, "eta_seconds": None, "bytes_done": 0, "bytes_total": None}
    fraction = None
    if run.bytes_total:
        fraction = min(1.0, run.bytes_done / run.bytes_total)
    elif run.outcome is not None and run.outcome.value == "finished":
        fraction = 1.0
    return {
        "fraction": fraction,
        "rate": run.rate,
        "eta_seconds": run.eta_seconds,
        "bytes_done": run.bytes_done,
        "bytes_total": run.bytes_total,
    }


def run_shape(run: RunRecord) -> dict[str, Any]:
    return {
        "id": run.id,
        "run_no": run.run_no,
        "outcome": run.outcome.value if run.outcome else None,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "duration_seconds": round(run.active_seconds, 3),
        "worker": run.worker,
        "counters": run.counters.as_dict(),
        "progress": progress(run),
        "output_path": run.output_path,
    }


def job_shape(job: JobRecord, run: RunRecord | None) -> dict[str, Any]:
    """A job as the list shows it, with its current run (None before the first)."""
    return {
        "id": job.id,
        "name": job.name,
        "kind": job.kind,
        "status": job.status.value,
        "actions": [a.value for a in allowed_actions(job.status)],
        "queue": job.queue,
        "owner": job.owner,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "run": run_shape(run) if run is not None else None,
    }


def current_run(job: JobRecord, runs: list[RunRecord]) -> RunRecord | None:
    return next((r for r in runs if r.id == job.current_run_id), None)
