"""The job lifecycle: statuses, actions and the one transition table.

Every status change in impex is looked up here; the store persists it as a guarded write
(``UPDATE … WHERE status IN (allowed sources)``), so no other code decides what may follow what.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    EDITING = "editing"
    QUEUED = "queued"
    RUNNING = "running"
    PAUSING = "pausing"
    PAUSED = "paused"
    CANCELING = "canceling"
    CANCELED = "canceled"
    FINISHED = "finished"
    FINISHED_WITH_ERRORS = "finished_with_errors"
    SERVER_SHUTDOWN = "server_shutdown"


class Action(StrEnum):
    """What can happen to a job. The first three are the operator's buttons."""

    START = "start"
    PAUSE = "pause"
    CANCEL = "cancel"
    CLAIM = "claim"  # a worker takes a queued job
    CHUNK_BOUNDARY_PAUSE = "paused"  # the runner reached a chunk boundary after a pause request
    CHUNK_BOUNDARY_CANCEL = "canceled"  # ... after a cancel request
    FINISH = "finish"
    FAIL = "fail"  # technical error or reject threshold
    SHUTDOWN = "shutdown"  # the process running the job is stopping (SIGTERM/SIGINT)
    RECOVER = "recover"  # a job left running/shut down by a dead or stopped process is queued again


S = Status
A = Action

OPERATOR_ACTIONS = (A.START, A.PAUSE, A.CANCEL)
ACTIVE = frozenset({S.QUEUED, S.RUNNING, S.PAUSING, S.CANCELING})
TERMINAL = frozenset({S.CANCELED, S.FINISHED, S.FINISHED_WITH_ERRORS})

# (action, from) -> to. Absent pairs are refused.
TRANSITIONS: dict[tuple[Action, Status], Status] = {
    (A.START, S.EDITING): S.QUEUED,
    (A.START, S.PAUSED): S.QUEUED,  # resume from the checkpoint
    (A.START, S.FINISHED): S.QUEUED,  # a new run
    (A.START, S.FINISHED_WITH_ERRORS): S.QUEUED,  # a new run
    (A.START, S.CANCELED): S.QUEUED,  # a new run
    (A.START, S.SERVER_SHUTDOWN): S.QUEUED,  # resume now rather than wait for a worker restart
    (A.CLAIM, S.QUEUED): S.RUNNING,
    (A.PAUSE, S.RUNNING): S.PAUSING,
    (A.PAUSE, S.QUEUED): S.PAUSED,
    (A.PAUSE, S.SERVER_SHUTDOWN): S.PAUSED,  # held: no resume when impex starts again, until Start
    (A.CHUNK_BOUNDARY_PAUSE, S.PAUSING): S.PAUSED,
    (A.CANCEL, S.QUEUED): S.CANCELED,
    (A.CANCEL, S.RUNNING): S.CANCELING,
    (A.CANCEL, S.PAUSING): S.CANCELING,
    (A.CANCEL, S.PAUSED): S.CANCELED,
    (A.CANCEL, S.SERVER_SHUTDOWN): S.CANCELED,
    (A.CHUNK_BOUNDARY_CANCEL, S.CANCELING): S.CANCELED,
    (A.FINISH, S.RUNNING): S.FINISHED,
    (A.FINISH, S.PAUSING): S.FINISHED,  # the last chunk ended before the pause took effect
    (A.FINISH, S.CANCELING): S.FINISHED,  # ... or before the cancel did
    (A.FAIL, S.RUNNING): S.FINISHED_WITH_ERRORS,
    (A.FAIL, S.PAUSING): S.FINISHED_WITH_ERRORS,
    (A.FAIL, S.CANCELING): S.FINISHED_WITH_ERRORS,
    (A.SHUTDOWN, S.RUNNING): S.SERVER_SHUTDOWN,
    (A.SHUTDOWN, S.PAUSING): S.PAUSED,  # the pause was asked for; honour it
    (A.SHUTDOWN, S.CANCELING): S.CANCELED,
    (A.RECOVER, S.RUNNING): S.QUEUED,
    (A.RECOVER, S.SERVER_SHUTDOWN): S.QUEUED,
    (A.RECOVER, S.PAUSING): S.PAUSED,
    (A.RECOVER, S.CANCELING): S.CANCELED,
}

# Which transitions begin a new run rather than continue the current one.
NEW_RUN_FROM = frozenset({S.EDITING, S.FINISHED, S.FINISHED_WITH_ERRORS, S.CANCELED})


@dataclass(frozen=True)
class Transition:
    action: Action
    source: Status
    target: Status

    @property
    def starts_new_run(self) -> bool:
        return self.action is A.START and self.source in NEW_RUN_FROM


class IllegalTransition(Exception):
    """An action the current status does not allow, e.g. pausing a finished job."""

    def __init__(self, job_id: int | None, action: Action, status: Status) -> None:
        self.job_id = job_id
        self.action = action
        self.status = status
        allowed = ", ".join(a.value for a in allowed_actions(status)) or "none"
        who = f"job {job_id}" if job_id is not None else "the job"
        super().__init__(
            f"cannot {action.value} {who}: it is {status.value} (operator actions allowed now: {allowed})"
        )


@dataclass(frozen=True)
class Seen:
    """The job as a person saw it when choosing an action: its status and current run."""

    status: Status
    run_id: int | None


class StaleAction(IllegalTransition):
    """An action chosen on a view of the job that is no longer true (another tab or person acted
    meanwhile): a Start meant as a resume would otherwise begin a new run, or start a job again."""

    def __init__(self, job_id: int, action: Action, status: Status, seen: Seen) -> None:
        super().__init__(job_id, action, status)
        self.seen = seen
        now = f"it is {status.value} now" if seen.status is not status else "it ran again since"
        self.args = (
            f"did not {action.value} job {job_id}: it changed since it was shown (it was "
            f"{seen.status.value}, {now}); nothing was done",
        )


def next_status(action: Action, source: Status) -> Status:
    try:
        return TRANSITIONS[(action, source)]
    except KeyError:
        raise IllegalTransition(None, action, source) from None


def sources_for(action: Action) -> frozenset[Status]:
    """Every status from which ``action`` is allowed: the guard of the store's update."""
    return frozenset(src for (act, src) in TRANSITIONS if act is action)


def allowed_actions(status: Status) -> tuple[Action, ...]:
    """The operator buttons to show for a job in ``status``."""
    return tuple(a for a in OPERATOR_ACTIONS if (a, status) in TRANSITIONS)
