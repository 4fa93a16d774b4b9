"""A chunk's rejects as records: from frame rows to :class:`Reject` (record number, physical line,
raw bytes), and to and from the JSON a checkpoint keeps them in."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import numpy as np

from impex.domain.rejects import Reason, Reject, said
from impex.formats.reader import RecordChunk
from impex.targets.base import Refusal


def rejects_at(
    chunk: RecordChunk,
    rows: np.ndarray,
    reasons: list[Reason],
    columns: list[str | None],
    values: list[str | None],
    codes: list[str],
    params: list[Mapping[str, Any]],
) -> list[Reject]:
    """The rejects of a chunk's frame ``rows``, each with its record number, the line where it
    starts and its raw bytes; each message (``codes`` with ``params``) is about that line."""
    raws = chunk.raw(rows)
    lines = chunk.line_nos(rows).tolist()
    records = chunk.record_nos[rows].tolist()
    return [
        said(
            int(records[i]),
            int(lines[i]),
            raws[i],
            reasons[i],
            columns[i],
            values[i],
            codes[i],
            {**params[i], "line": int(lines[i])},
        )
        for i in range(len(raws))
    ]


def refused_rejects(chunk: RecordChunk, refused: list[Refusal]) -> list[Reject]:
    """The rows the database refused as ``constraint`` rejects, with the column it names and its value."""
    if not refused:
        return []
    rows = np.array([r.row for r in refused], dtype=np.int64)
    raws = chunk.raw(rows)
    lines = chunk.line_nos(rows).tolist()
    records = chunk.record_nos[rows].tolist()
    return [
        refused_reject(int(records[i]), int(lines[i]), raws[i], r.column, r.value, r.message)
        for i, r in enumerate(refused)
    ]


def refused_reject(
    record_no: int, line_no: int, raw: bytes, column: str | None, value: str | None, error: str
) -> Reject:
    """A record the database refused: a ``constraint`` reject quoting the database's words."""
    params = {"line": line_no, "error": error}
    return said(record_no, line_no, raw, Reason.CONSTRAINT, column, value, "constraint", params)


def as_json(r: Reject) -> dict[str, Any]:
    """A reject as JSON, to be kept in a checkpoint's state until the store has it."""
    return {
        "record_no": r.record_no,
        "line_no": r.line_no,
        "raw": base64.b64encode(r.raw).decode(),
        "reason": r.reason.value,
        "column": r.column,
        "value": r.value,
        "message": r.message,
        "code": r.code,
        "params": dict(r.params),
    }


def from_json(d: dict[str, Any]) -> Reject:
    return Reject(
        d["record_no"],
        d["line_no"],
        base64.b64decode(d["raw"]),
        Reason(d["reason"]),
        d["column"],
        d["value"],
        d["message"],
        d.get("code"),  # None in a checkpoint an older impex wrote
        d.get("params") or {},
    )
