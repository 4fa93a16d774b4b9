"""The English source strings of statuses, actions, tabs and journal levels (the gettext msgids;
see ../shared STATUS-LABELS for their translations), and the icon of each status."""

from __future__ import annotations

from markupsafe import Markup

from impex.domain.rejects import Reason
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
    Action.CLAIM: N_("Claimed"),
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

# Why a record was rejected, as the Rejects tab names it; the reject's message says the details.
REASON_LABELS: dict[Reason, str] = {
    Reason.TYPE_ERROR: N_("Wrong type"),
    Reason.MISSING_REQUIRED: N_("Value required"),
    Reason.TOO_LONG: N_("Too long"),
    Reason.WRONG_FIELD_COUNT: N_("Wrong number of fields"),
    Reason.BAD_ENCODING: N_("Bad encoding"),
    Reason.UNTERMINATED_QUOTE: N_("Unterminated quote"),
    Reason.DUPLICATE_KEY: N_("Key already in the table"),
    Reason.DOUBLE: N_("Key earlier in the file"),
    Reason.KEY_NOT_FOUND: N_("Key not in the table"),
    Reason.MISSING_KEY: N_("Key missing"),
    Reason.CONSTRAINT: N_("Refused by the database"),
}

LEVEL_LABELS: dict[str, str] = {
    "debug": N_("Debug"),
    "info": N_("Information"),
    "warning": N_("Warning"),
    "error": N_("Error"),
}

# A shape per status, so that no status is told by colour alone (the label is always next to it). Each is
# the inside of a 16×16 inline SVG drawn in currentColor: no glyph, so no font can be missing it.
_STROKE = 'fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"'
_BOLD_STROKE = _STROKE.replace('stroke-width="2"', 'stroke-width="2.4"')
_BARS = "M4 2.5h2.5v11H4zM9.5 2.5H12v11H9.5z"
_NO = f'<circle cx="8" cy="8" r="5.8" {_STROKE}/><path d="M4 12 12 4" {_STROKE}/>'
STATUS_ICONS: dict[Status, Markup] = {
    Status.EDITING: Markup(
        '<path d="M11.3 1.6l3.1 3.1-8.6 8.6-4 .9.9-4zM9.8 3.1l3.1 3.1" fill="currentColor"/>'
    ),
    Status.QUEUED: Markup(
        f'<path d="M3.5 1.5h9M3.5 14.5h9M4.5 1.5c0 4 7 4 7 13M11.5 1.5c0 4-7 4-7 13" {_STROKE}/>'
    ),
    Status.RUNNING: Markup('<path d="M4 2l10 6-10 6z" fill="currentColor"/>'),
    Status.PAUSING: Markup(f'<path d="{_BARS}" fill="none" stroke="currentColor" stroke-width="1.5"/>'),
    Status.PAUSED: Markup(f'<path d="{_BARS}" fill="currentColor"/>'),
    Status.CANCELING: Markup(f'<g opacity=".6">{_NO}</g>'),
    Status.CANCELED: Markup(_NO),
    Status.FINISHED: Markup(f'<path d="M2.5 8.5l3.5 3.5 7.5-8" {_BOLD_STROKE}/>'),
    Status.FINISHED_WITH_ERRORS: Markup(f'<path d="M3.5 3.5l9 9M12.5 3.5l-9 9" {_BOLD_STROKE}/>'),
    Status.SERVER_SHUTDOWN: Markup(f'<path d="M8 1.5v6M4.6 3.8a5.5 5.5 0 1 0 6.8 0" {_STROKE}/>'),
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

# Separators one cannot see, by name.
SPACE_LABELS: dict[str, str] = {
    " ": N_("Space"),
    "\u00a0": N_("No-break space"),
    "\u202f": N_("Narrow no-break space"),
}

# The title of an error page, by HTTP status.
ERROR_TITLES: dict[int, str] = {
    400: N_("Bad request"),
    401: N_("Not signed in"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    409: N_("Not possible now"),
    410: N_("No longer there"),
    413: N_("Too large"),
    415: N_("Not a file impex reads"),
    422: N_("Not valid"),
    500: N_("Server error"),
}
