"""Rate and ETA of a run, from what it has done in this process and before."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Clock:
    """Active time of a run: what earlier processes recorded plus this one's."""

    before: float = 0.0
    since: float = field(default_factory=time.monotonic)
    records_at_start: int = 0
    bytes_at_start: int = 0

    def active(self) -> float:
        return self.before + (time.monotonic() - self.since)

    def rate(self, records: int) -> float:
        elapsed = time.monotonic() - self.since
        return (records - self.records_at_start) / elapsed if elapsed > 0 else 0.0

    def eta(self, bytes_done: int, bytes_total: int | None) -> float | None:
        elapsed = time.monotonic() - self.since
        done_here = bytes_done - self.bytes_at_start
        if not bytes_total or done_here <= 0 or elapsed <= 0:
            return None
        return max(0.0, (bytes_total - bytes_done) * elapsed / done_here)


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    return format_eta(seconds)
