"""The exit codes of ``impex``: one table, used by the commands and shown in their help, so that a
script can tell a run that finished with errors from one that was canceled, paused or never began."""

from __future__ import annotations

from enum import IntEnum

from impex.domain.status import S, Status


class Exit(IntEnum):
    FINISHED = 0
    FINISHED_WITH_ERRORS = 1
    BAD_ARGUMENTS = 2  # click's own usage errors have 2 too
    CANCELED = 3
    STOPPED = 4  # paused or shut down: the same command goes on from the checkpoint
    BAD_DEFINITION = 5
    NOT_ALLOWED = 6  # an operator action the job's status does not allow now


MEANING = {
    Exit.FINISHED: "finished",
    Exit.FINISHED_WITH_ERRORS: "finished_with_errors (a technical error or a reject threshold)",
    Exit.BAD_ARGUMENTS: "bad arguments: an option, a file that cannot be read or written; nothing was run",
    Exit.CANCELED: "canceled",
    Exit.STOPPED: "paused or shut down (Ctrl-C, SIGTERM): the same command goes on from its checkpoint",
    Exit.BAD_DEFINITION: "the job file is missing, unreadable or not a valid definition; nothing was run",
    Exit.NOT_ALLOWED: "jobs start|pause|cancel: the job's status does not allow that action now",
}

EXIT_CODES_HELP = "Exit codes: " + "; ".join(f"{code.value} {said}" for code, said in MEANING.items()) + "."

BY_STATUS = {
    S.FINISHED: Exit.FINISHED,
    S.FINISHED_WITH_ERRORS: Exit.FINISHED_WITH_ERRORS,
    S.CANCELED: Exit.CANCELED,
}


def exit_of(status: Status) -> Exit:
    """A foreground run's exit code: any status but an end (paused, shut down) is a stop it can go on from."""
    return BY_STATUS.get(status, Exit.STOPPED)
