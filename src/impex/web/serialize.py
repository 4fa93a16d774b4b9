"""Jobs, runs, journal lines and rejects as JSON-ready dicts (the API's bodies, and the data the
pages render). Labels come in the caller's language; codes stay as they are for programs."""

from __future__ import annotations

from typing import Any

from impex.domain.definitions import with_offset
from impex.domain.status import allowed_actions
from impex.store.records import JobRecord, JournalLine, RejectRecord, RunRecord
from impex.web.i18n import Translator
from impex.web.labels import LEVEL_LABELS


def file_format(fmt: dict[str, Any], detected: dict[str, Any]) -> dict[str, Any]:
    """An import's file format as its runs read it: the definition's (every default spelled out),
    with what the latest run detected where the definition leaves it open (delimiter, encoding: None
    until a run reads the file). ``utc``: timestamps with an offset, stored converted to UTC."""
    shown = {**fmt, **{k: v for k, v in detected.items() if fmt.get(k) is None}}
    return {**shown, "utc": with_offset(str(shown.get("timestamp_format", "")))}


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


def run_dict(run: RunRecord, t: Translator) -> dict[str, Any]:
    return {
        "id": run.id,
        "run_no": run.run_no,
        "outcome": run.outcome.value if run.outcome else None,
        "outcome_label": t.status(run.outcome) if run.outcome else None,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "duration_seconds": round(run.active_seconds, 3),
        "worker": run.worker,
        "counters": run.counters.as_dict(),
        "progress": progress(run),
        "output_path": run.output_path,
    }


def job_summary(job: JobRecord, run: RunRecord | None, t: Translator) -> dict[str, Any]:
    """A job as the list shows it."""
    return {
        "id": job.id,
        "name": job.name,
        "kind": job.kind,
        "status": job.status.value,
        "status_label": t.status(job.status),
        "actions": [a.value for a in allowed_actions(job.status)],
        "queue": job.queue,
        "owner": job.owner,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "run": run_dict(run, t) if run is not None else None,
    }


def job_detail(job: JobRecord, runs: list[RunRecord], t: Translator) -> dict[str, Any]:
    """A job with its definition and every run, newest last."""
    current = next((r for r in runs if r.id == job.current_run_id), None)
    data = job_summary(job, current, t)
    data["definition"] = job.definition
    data["runs"] = [run_dict(r, t) for r in runs]
    return data


def journal_dict(line: JournalLine, t: Translator) -> dict[str, Any]:
    return {
        **line.as_dict(),
        "text": t.journal(line.code, line.params),
        "time": t.datetime(line.ts),
        "level_label": t.gettext(LEVEL_LABELS.get(line.level, line.level)),
    }


def reject_dict(reject: RejectRecord, encoding: str, t: Translator) -> dict[str, Any]:
    """A reject with its message's code and parameters (null for one stored before impex kept them),
    and ``text``, its message in the caller's language; ``message`` stays the English one."""
    return {
        **reject.as_dict(encoding),
        "message_code": reject.code,
        "message_params": reject.params,
        "text": t.reject(reject.code, reject.params, reject.message),
    }
