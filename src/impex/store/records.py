"""Typed rows the store hands out."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from impex.domain.counters import Counters
from impex.domain.journal import render
from impex.domain.status import Status
from impex.store.schema import COUNTER_COLUMNS


@dataclass(frozen=True)
class JobRecord:
    id: int
    name: str
    kind: str
    definition: dict[str, Any]
    status: Status
    queue: str
    owner: str
    current_run_id: int | None
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class RunRecord:
    id: int
    job_id: int
    run_no: int
    outcome: Status | None
    created_at: float
    started_at: float | None
    ended_at: float | None
    active_seconds: float
    worker: str | None
    lease_token: str | None
    lease_expires_at: float | None
    counters: Counters
    bytes_total: int | None
    bytes_done: int
    rate: float | None
    eta_seconds: float | None
    output_path: str | None


@dataclass(frozen=True)
class JournalLine:
    id: int
    job_id: int
    run_id: int | None
    ts: float
    level: str
    code: str
    params: dict[str, Any]
    actor: str

    @property
    def text(self) -> str:
        return render(self.code, self.params)

    def as_dict(self) -> dict[str, Any]:
        """The line's own fields for JSON output (the reader knows the job); texts are added by it."""
        return {
            "id": self.id,
            "run_id": self.run_id,
            "ts": self.ts,
            "level": self.level,
            "code": self.code,
            "params": self.params,
            "actor": self.actor,
        }


@dataclass(frozen=True)
class RejectRecord:
    run_id: int
    record_no: int
    line_no: int
    raw: bytes
    reason: str
    column: str | None
    value: str | None
    message: str  # in English
    code: str | None = None  # the message's code and parameters; None in a reject stored before them
    params: dict[str, Any] | None = None

    def raw_text(self, encoding: str = "utf-8") -> str:
        """The raw record as text, read in its file's encoding (bytes it cannot read shown as �)."""
        try:
            return self.raw.decode(encoding, errors="replace")
        except LookupError:
            return self.raw.decode("utf-8", errors="replace")

    def as_dict(self, encoding: str = "utf-8") -> dict[str, Any]:
        """As the CLI and the API show it."""
        return {
            "record_no": self.record_no,
            "line_no": self.line_no,
            "reason": self.reason,
            "column": self.column,
            "value": self.value,
            "message": self.message,
            "raw": self.raw_text(encoding),
        }


@dataclass(frozen=True)
class Claim:
    job: JobRecord
    run: RunRecord
    lease_token: str


def job_record(row: Any) -> JobRecord:
    """A ``jobs`` row as a record."""
    return JobRecord(
        id=row.id,
        name=row.name,
        kind=row.kind,
        definition=json.loads(row.definition),
        status=Status(row.status),
        queue=row.queue,
        owner=row.owner,
        current_run_id=row.current_run_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def run_record(row: Any) -> RunRecord:
    """A ``runs`` row as a record."""
    return RunRecord(
        id=row.id,
        job_id=row.job_id,
        run_no=row.run_no,
        outcome=Status(row.outcome) if row.outcome else None,
        created_at=row.created_at,
        started_at=row.started_at,
        ended_at=row.ended_at,
        active_seconds=row.active_seconds,
        worker=row.worker,
        lease_token=row.lease_token,
        lease_expires_at=row.lease_expires_at,
        counters=Counters(**{name: getattr(row, name) for name in COUNTER_COLUMNS}),
        bytes_total=row.bytes_total,
        bytes_done=row.bytes_done,
        rate=row.rate,
        eta_seconds=row.eta_seconds,
        output_path=row.output_path,
    )


def reject_record(row: Any) -> RejectRecord:
    return RejectRecord(
        run_id=row.run_id,
        record_no=row.record_no,
        line_no=row.line_no,
        raw=bytes(row.raw),
        reason=row.reason,
        column=row.column_name,
        value=row.value,
        message=row.message,
        code=row.message_code,
        params=json.loads(row.message_params) if row.message_params is not None else None,
    )


def journal_line(row: Any) -> JournalLine:
    return JournalLine(
        id=row.id,
        job_id=row.job_id,
        run_id=row.run_id,
        ts=row.ts,
        level=row.level,
        code=row.code,
        params=json.loads(row.params),
        actor=row.actor,
    )
