"""Journal streams that share their polling: however many browsers follow a job, the server reads the
job's new journal lines and its state once per interval. One ``JobFeed`` per followed job holds what
the last poll saw; each SSE stream takes from it what it has not sent yet."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool

from impex.domain.journal import Level
from impex.store import queries
from impex.store.records import JobRecord, JournalLine, RunRecord

BUFFER_LINES = 2000  # recent lines kept per feed; a stream further behind reads the journal itself
POLL_LINES = 1000
CATCH_UP = 500  # lines a stream far behind reads at a time


def at_least(level: Level | None) -> list[Level]:
    """``level`` and the more severe ones (every level when None)."""
    levels = list(Level)
    return levels[levels.index(level) :] if level is not None else levels


@dataclass
class JobFeed:
    """The recent journal lines and the state of one job, as of its last poll. Every line of the job
    with ``floor < id <= high`` is in ``lines``."""

    engine: sa.Engine
    job_id: int
    poll_seconds: float
    floor: int
    high: int
    lines: list[JournalLine] = field(default_factory=list)
    state: tuple[JobRecord, RunRecord | None] | None = None
    version: int = 0  # polls done
    followers: int = 0
    _tick: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._poll(), name=f"journal-feed-{self.job_id}")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def next(self, seen: int) -> int:
        """Wait for a poll newer than version ``seen`` (or a few intervals); the feed's version."""
        if self.version == seen:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._tick.wait(), self.poll_seconds * 4)
        return self.version

    async def lines_since(self, cursor: int, level: Level | None) -> tuple[list[JournalLine], int, bool]:
        """The lines after ``cursor`` (of ``level`` and the more severe ones), the cursor past them,
        and whether more are waiting. A stream further behind than the buffer reads the journal."""
        if cursor >= self.floor:
            levels = {lv.value for lv in at_least(level)}
            return (
                [ln for ln in self.lines if ln.id > cursor and ln.level in levels],
                max(cursor, self.high),
                False,
            )
        high = self.high
        lines = await run_in_threadpool(
            queries.journal_page, self.engine, self.job_id, after_id=cursor, min_level=level, limit=CATCH_UP
        )
        if len(lines) == CATCH_UP:
            return lines, lines[-1].id, True
        return lines, max([high, *(ln.id for ln in lines)]), False

    async def _poll(self) -> None:
        while True:
            full = False
            try:
                lines, self.state = await run_in_threadpool(self._read, self.high)
                full = len(lines) == POLL_LINES
                self._add(lines)
            except sa.exc.SQLAlchemyError:
                pass  # the store is busy or away for a moment: the streams wait for the next poll
            self.version += 1
            tick, self._tick = self._tick, asyncio.Event()
            tick.set()
            if not full:
                await asyncio.sleep(self.poll_seconds)

    def _read(self, after: int) -> tuple[list[JournalLine], tuple[JobRecord, RunRecord | None] | None]:
        lines = queries.journal_page(self.engine, self.job_id, after_id=after, limit=POLL_LINES)
        return lines, queries.job_state(self.engine, self.job_id)

    def _add(self, lines: list[JournalLine]) -> None:
        if not lines:
            return
        self.lines.extend(lines)
        self.high = lines[-1].id
        if len(self.lines) > BUFFER_LINES:
            dropped = len(self.lines) - BUFFER_LINES
            self.floor = self.lines[dropped - 1].id
            del self.lines[:dropped]


class JournalFeeds:
    """The feeds of the jobs being followed: made for a job's first follower, dropped after its last."""

    def __init__(self, engine: sa.Engine, poll_seconds: float) -> None:
        self.engine = engine
        self.poll_seconds = poll_seconds
        self._feeds: dict[int, JobFeed] = {}

    @property
    def followed(self) -> set[int]:
        """The jobs that streams follow now."""
        return set(self._feeds)

    @contextlib.asynccontextmanager
    async def follow(self, job_id: int) -> AsyncIterator[JobFeed]:
        if job_id not in self._feeds:
            high = await run_in_threadpool(queries.last_journal_id, self.engine, job_id)
            if job_id not in self._feeds:  # another stream may have made it while we read
                self._feeds[job_id] = JobFeed(self.engine, job_id, self.poll_seconds, high, high)
                self._feeds[job_id].start()
        feed = self._feeds[job_id]
        feed.followers += 1
        try:
            yield feed
        finally:
            feed.followers -= 1
            if feed.followers == 0 and self._feeds.get(job_id) is feed:
                del self._feeds[job_id]
                feed.stop()
