"""Journal message codes. Each line is stored as (level, code, params) so a UI can translate it;
``render`` gives the English text."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from impex.domain import messages


class Level(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


MESSAGES: dict[str, str] = {
    "job.created": "Job created by {by}",
    "job.transition": "{action} by {by}: {source} → {target}",
    "run.started": "Run {run} started by {by} with options: {options}",
    "run.resumed": "Run {run} resumed from record {record_no} (line {line_no}) after {reason}",
    "run.progress": "{read} records read, {rate} records/s, {percent}% of the file, ETA {eta}",
    "run.progress_unsized": "{read} records read, {rate} records/s",
    "export.progress": "{rows} rows written, {rate} rows/s",
    "export.summary": "Summary: read {read}, written {written}, duration {duration}",
    "export.empty_texts": (
        "Row {row} holds an empty text: quoting 'none' writes it as an empty field, as it writes a "
        "null, so the two read back alike (quoting 'minimal' keeps them apart)"
    ),
    "run.summary": (
        "Summary: read {read}, inserted {inserted}, updated {updated}, unchanged {unchanged}, "
        "deleted {deleted}, rejected {rejected}, doubles {doubles}, duplicates {duplicates}, "
        "duration {duration}"
    ),
    "run.error": "Technical error: {error}",
    "run.threshold": "Stopped: {rejected} rejects exceed the limit ({limit})",
    "run.first_error": "Stopped at the first error: record {record_no}: {message}",
    "run.source_changed": (
        "The source file {path} changed since the run began (it had {size_then} bytes, it has "
        "{size_now}): the run stops rather than read on in another file. Start the job again to import "
        "the file as it is now, in a new run"
    ),
    "run.source_gone": (
        "The source file {path} was deleted or moved while the run read it; the run had it open and "
        "read all of it"
    ),
    "run.atomic_rolled_back": "Atomic mode: nothing was written to {table}",
    "run.paused": "Paused at record {record_no} (line {line_no})",
    "run.canceled": "Canceled at record {record_no} (line {line_no})",
    "run.shutdown": "Stopped by {signal} at record {record_no}; it resumes when impex starts again",
    "format.detected": "Detected format: delimiter {delimiter!r}, encoding {encoding}, header {header}",
    "run.time_zone": (
        "Timestamps without an offset ({columns}) go into a timestamptz column: PostgreSQL reads them "
        "in the session's time zone, {zone}"
    ),
    "table.created": "Table {table} created with columns {columns}",
    "table.sequence_moved": (
        "Sequence {sequence} of column {column} moved on to {value}, the largest value the table holds: "
        "the next number it gives is not one of an imported row"
    ),
    "table.sequence_unmoved": (
        "Sequence {sequence} numbers column {column}, which the job writes, and this connection may not "
        "move it on (no UPDATE privilege on it): a row it numbers later may take the number of an "
        "imported row"
    ),
    "export.file": "File written: {path} ({rows} rows, {bytes} bytes)",
    "export.restarted": (
        "The source no longer gives its first {rows} rows as the file holds them (its order is not "
        "total): the file is written again from the first row"
    ),
    "run.leftovers": "What the canceled run left could not all be removed: {error}",
    "worker.takeover": "Taken over by {worker} after {reason} (its previous worker: {previous})",
}


# Why a run stopped, as a takeover or resume line names it (its ``reason``, stored as English text):
# the UI finds the one a stored reason was made from, to say it in the reader's language.
STOPPED = "a stop"
PAUSED = "a pause"
SERVER_SHUTDOWN = "a server shutdown"
LEASE_RAN_OUT = "its lease ran out"
SHUTDOWN_BY = "a shutdown ({signal})"
WORKER_CRASHED = "a crash of its worker ({worker}: its lease ran out)"
PART_GONE = "{reason}, but {path} is gone"
PART_SHORTER = "{reason}, but {path} is shorter than recorded"
STOP_REASONS = (
    STOPPED,
    PAUSED,
    SERVER_SHUTDOWN,
    LEASE_RAN_OUT,
    SHUTDOWN_BY,
    WORKER_CRASHED,
    PART_GONE,
    PART_SHORTER,
)


def render(code: str, params: dict[str, Any]) -> str:
    return messages.render(MESSAGES, code, params)
