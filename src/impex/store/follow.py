"""Following a job's journal as lines arrive, without missing one committed out of id order.

On PostgreSQL, ids come from a sequence when a line is inserted, not when it commits: a line may
become visible after one with a higher id. So the follower keeps reading a little behind the highest id
it has shown, until lines that old can no longer be in flight, and never shows a line twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from impex.store.records import JournalLine
    from impex.store.store import Store

SETTLE_SECONDS = 10.0  # a line still uncommitted this long after a higher one showed is not waited for


class JournalFollower:
    def __init__(self, store: Store, job_id: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.job_id = job_id
        self.clock = clock
        self.floor = 0  # every line up to this id has been shown or will never come
        self.shown: dict[int, float] = {}  # ids above the floor already shown, with when

    def new_lines(self) -> list[JournalLine]:
        """The lines not shown yet, oldest id first."""
        now = self.clock()
        fresh = [
            line
            for line in self.store.journal_lines(self.job_id, after_id=self.floor, limit=10**6)
            if line.id not in self.shown
        ]
        for line in fresh:
            self.shown[line.id] = now
        settled = [i for i, seen in self.shown.items() if now - seen >= SETTLE_SECONDS]
        if settled:
            self.floor = max(self.floor, max(settled))
            self.shown = {i: seen for i, seen in self.shown.items() if i > self.floor}
        return fresh
