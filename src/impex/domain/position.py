"""Where a run stands in its source: the checkpoint's coordinates."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Position:
    """After the last consumed record.

    ``offset`` counts bytes of the uncompressed stream (so .gz/.zip sources resume too),
    ``record_no`` the data records consumed (rejected ones included; blank lines are not records),
    ``line_no`` the physical lines consumed (header and skipped lines included).
    """

    offset: int = 0
    record_no: int = 0
    line_no: int = 0
