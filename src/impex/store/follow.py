"""Following a job's journal as lines arrive: each poll reads the lines after the last one shown.

That misses none because journal ids become visible in the order they were given (on PostgreSQL the
store makes journal writers take turns until their commit; SQLite has one writer at a time).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from impex.store.records import JournalLine
    from impex.store.store import Store

PAGE_LINES = 10_000


class JournalFollower:
    def __init__(self, store: Store, job_id: int) -> None:
        self.store = store
        self.job_id = job_id
        self.last = 0  # the id of the last line shown

    def new_lines(self) -> list[JournalLine]:
        """The lines not shown yet, oldest first (at most a page; the next call gives the rest)."""
        lines = self.store.journal_lines(self.job_id, after_id=self.last, limit=PAGE_LINES)
        if lines:
            self.last = lines[-1].id
        return lines
