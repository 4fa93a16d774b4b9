"""The English source strings of statuses, actions, tabs and journal levels (the gettext msgids;
see ../shared STATUS-LABELS for their translations), and the icon of each status."""

from __future__ import annotations

from impex.domain.status import Action, Status


def N_(message: str) -> str:
    """Mark a string for the catalogs; it is translated where it is shown."""
    return message


STATUS_LABELS: dict[Status, str] = {
    Status.EDITING: N_("Editing"),
    Status.QUEUED: N_("Queued"),
    Status.RUNNING: N_("Execution in progress"),
    Status.PAUSING: N_("Pause in progress"),
    Status.PAUSED: N_("Paused"),
    Status.CANCELING: N_("Cancellation in progress"),
    Status.CANCELED: N_("Canceled"),
    Status.FINISHED: N_("Finished"),
    Status.FINISHED_WITH_ERRORS: N_("Finished with errors"),
    Status.SERVER_SHUTDOWN: N_("Server shutdown in progress"),
}

# The operator's buttons. The other actions (claim, finish, …) are the system's and appear in the
# journal under their code.
ACTION_LABELS: dict[Action, str] = {
    Action.START: N_("Start"),
    Action.PAUSE: N_("Pause"),
    Action.CANCEL: N_("Cancel"),
}

# Every action as the journal names it ("Start by ana: Paused → Queued").
JOURNAL_ACTION_LABELS: dict[Action, str] = {
    **ACTION_LABELS,
    Action.CLAIM: N_("Taken by a worker"),
    Action.CHUNK_BOUNDARY_PAUSE: N_("Paused at a chunk boundary"),
    Action.CHUNK_BOUNDARY_CANCEL: N_("Canceled at a chunk boundary"),
    Action.FINISH: N_("Finish"),
    Action.FAIL: N_("Failure"),
    Action.SHUTDOWN: N_("Shutdown"),
    Action.RECOVER: N_("Recovery"),
}

TAB_LABELS: dict[str, str] = {
    "general": N_("General"),
    "journal": N_("Journal"),
    "rejects": N_("Rejects"),
}

ROLE_LABELS: dict[str, str] = {
    "viewer": N_("Viewer"),
    "operator": N_("Operator"),
    "admin": N_("Administrator"),
}

LEVEL_LABELS: dict[str, str] = {
    "debug": N_("Debug"),
    "info": N_("Information"),
    "warning": N_("Warning"),
    "error": N_("Error"),
}

# A shape per status, so that no status is told by colour alone (the label is always next to it).
STATUS_ICONS: dict[Status, str] = {
    Status.EDITING: "✎",
    Status.QUEUED: "⧗",
    Status.RUNNING: "▶",
    Status.PAUSING: "⏸",
    Status.PAUSED: "⏸",
    Status.CANCELING: "⊘",
    Status.CANCELED: "⊘",
    Status.FINISHED: "✔",
    Status.FINISHED_WITH_ERRORS: "✖",
    Status.SERVER_SHUTDOWN: "⏻",
}

# The choices of the new-job forms, keyed by the definition's codes.
TYPE_LABELS: dict[str, str] = {
    "string": N_("Text"),
    "integer": N_("Integer"),
    "float": N_("Floating-point number"),
    "decimal": N_("Exact decimal"),
    "boolean": N_("Yes/no"),
    "date": N_("Date"),
    "timestamp": N_("Date and time"),
}

OPERATION_LABELS: dict[str, str] = {
    "insert": N_("Insert"),
    "update": N_("Update"),
    "insert_or_update": N_("Insert or update"),
    "insert_only_new": N_("Insert only new"),
    "delete": N_("Delete"),
}

DOUBLES_LABELS: dict[str, str] = {
    "last_wins": N_("Keep the last"),
    "ignore": N_("Keep the first"),
    "reject": N_("Reject"),
}

DUPLICATES_LABELS: dict[str, str] = {
    "reject": N_("Reject"),
    "ignore": N_("Skip"),
    "update": N_("Update"),
}

COMMIT_LABELS: dict[str, str] = {
    "incremental": N_("Each chunk"),
    "atomic": N_("All or nothing"),
}

DELIMITER_LABELS: dict[str, str] = {
    ",": N_("Comma"),
    ";": N_("Semicolon"),
    "\t": N_("Tab"),
    "|": N_("Vertical bar"),
}
