"""Refusals as the REST API answers them and ``impex … --json`` prints them: one shape, one code per
kind of refusal, so that a script reads the same from either. (No SQLAlchemy here: the CLI loads it.)"""

from __future__ import annotations

from typing import Any

from impex.domain.status import IllegalTransition, StaleAction
from impex.store.errors import JobNotFound


def error_shape(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """A refusal: a stable code for programs, a sentence for people, and the values it is about."""
    return {"error": {"code": code, "message": message, "details": details}}


def refusal_shape(error: IllegalTransition | JobNotFound) -> dict[str, Any]:
    """An action the job's status does not allow, or a job that does not exist, in ``error_shape``."""
    if isinstance(error, JobNotFound):
        return error_shape("job_not_found", str(error), {"job_id": error.job_id})
    details: dict[str, Any] = {
        "job_id": error.job_id,
        "action": error.action.value,
        "status": error.status.value,
    }
    if isinstance(error, StaleAction):
        details["seen"] = error.seen.status.value
        return error_shape("stale_action", str(error), details)
    return error_shape("illegal_transition", str(error), details)
