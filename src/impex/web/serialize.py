"""Jobs, runs, journal lines and rejects as JSON-ready dicts (the API's bodies, and the data the
pages render). Labels come in the caller's language; codes stay as they are for programs."""

from __future__ import annotations

from typing import Any

from impex.domain.definitions import with_offset
from impex.store.records import JobRecord, JournalLine, RejectRecord, RunRecord
from impex.store.shapes import current_run, job_shape, run_shape
from impex.web.i18n import Translator
from impex.web.labels import LEVEL_LABELS


def file_format(fmt: dict[str, Any], detected: dict[str, Any]) -> dict[str, Any]:
    """An import's file format as its runs read it: the definition's (every default spelled out),
    with what the latest run detected where the definition leaves it open (delimiter, encoding: None
    until a run reads the file). ``utc``: timestamps with an offset, stored converted to UTC."""
    shown = {**fmt, **{k: v for k, v in detected.items() if fmt.get(k) is None}}
    return {**shown, "utc": with_offset(str(shown.get("timestamp_format", "")))}


def run_dict(run: RunRecord, t: Translator) -> dict[str, Any]:
    data = run_shape(run)
    data["outcome_label"] = t.status(run.outcome) if run.outcome else None
    return data


def job_summary(job: JobRecord, run: RunRecord | None, t: Translator) -> dict[str, Any]:
    """A job as the list shows it."""
    data = job_shape(job, run)
    data["status_label"] = t.status(job.status)
    if run is not None:
        data["run"] = run_dict(run, t)
    return data


def job_detail(job: JobRecord, runs: list[RunRecord], t: Translator) -> dict[str, Any]:
    """A job with its definition and every run, newest last."""
    data = job_summary(job, current_run(job, runs), t)
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
