"""Journal streams share one poll per followed job: its feed holds the recent lines and the job's
state; a stream further behind than the feed keeps reads the journal itself, and misses nothing."""

from __future__ import annotations

import asyncio

from impex.domain.journal import Level
from impex.domain.status import A
from impex.web import feeds as feeds_module
from impex.web.feeds import JournalFeeds

DEFINITION = {"kind": "import", "name": "contacts", "queue": "default"}


async def until(feed, condition, seconds: float = 5.0) -> None:
    version = feed.version
    async with asyncio.timeout(seconds):
        while not condition():
            version = await feed.next(version)


def test_the_streams_of_a_job_share_one_feed_that_goes_with_the_last_of_them(store):
    job_id = store.create_job(DEFINITION)

    async def scenario() -> None:
        feeds = JournalFeeds(store.engine, poll_seconds=0.01)
        async with feeds.follow(job_id) as first, feeds.follow(job_id) as second:
            assert first is second and feeds.followed == {job_id}
            store.transition(job_id, A.START, actor="ana")
            await until(first, lambda: first.state is not None and first.state[0].status.value == "queued")
            assert [line.code for line in first.lines] == ["job.transition"]
        assert feeds.followed == set()

    asyncio.run(scenario())


def test_a_stream_behind_the_buffer_reads_the_journal_and_misses_no_line(store, monkeypatch):
    monkeypatch.setattr(feeds_module, "BUFFER_LINES", 2)
    monkeypatch.setattr(feeds_module, "CATCH_UP", 3)
    job_id = store.create_job(DEFINITION)
    start = store.journal_lines(job_id)[-1].id

    async def scenario() -> list[int]:
        feeds = JournalFeeds(store.engine, poll_seconds=0.01)
        async with feeds.follow(job_id) as feed:
            for n in range(6):
                level = Level.WARNING if n % 2 else Level.INFO
                store.log(job_id, None, level, "run.error", {"error": n})
            await until(feed, lambda: feed.high == store.journal_lines(job_id)[-1].id)
            assert len(feed.lines) == 2 and feed.floor > start
            received, cursor, behind = [], start, True
            while behind or cursor < feed.high:
                lines, cursor, behind = await feed.lines_since(cursor, Level.WARNING)
                received += [line.params["error"] for line in lines]
            return received

    assert asyncio.run(scenario()) == [1, 3, 5]
