"""Following a journal: every line shown once and none missed, even when two processes write lines
at the same time. On SQLite and on PostgreSQL (see conftest.py); PostgreSQL's sequences give ids at
insert time, so there the store must make ids visible in their order."""

import threading

import pytest

from impex.domain.journal import Level
from impex.store import follow
from impex.store.follow import JournalFollower

DEFINITION = {"kind": "import", "name": "contacts", "queue": "default"}


def test_new_lines_come_once_in_id_order(store):
    job_id = store.create_job(DEFINITION)
    follower = JournalFollower(store, job_id)
    assert [line.code for line in follower.new_lines()] == ["job.created"]
    store.log(job_id, None, Level.INFO, "run.progress", {"read": 1})
    store.log(job_id, None, Level.INFO, "run.progress", {"read": 2})
    assert [line.params["read"] for line in follower.new_lines()] == [1, 2]
    assert follower.new_lines() == []
    store.log(job_id, None, Level.INFO, "run.progress", {"read": 3})
    assert [line.params["read"] for line in follower.new_lines()] == [3]


def test_a_long_journal_comes_a_page_at_a_time_without_a_gap(store, monkeypatch):
    monkeypatch.setattr(follow, "PAGE_LINES", 2)
    job_id = store.create_job(DEFINITION)
    for n in range(4):
        store.log(job_id, None, Level.INFO, "run.progress", {"read": n})
    follower = JournalFollower(store, job_id)
    pages = [follower.new_lines() for _ in range(4)]
    assert [len(p) for p in pages] == [2, 2, 1, 0]
    assert [line.params.get("read") for page in pages for line in page] == [None, 0, 1, 2, 3]


def test_a_line_written_while_another_is_uncommitted_becomes_visible_after_it(store):
    """The writer that took its id first commits first: a follower that saw the later line can never
    have skipped the earlier one."""
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: ids commit in order")
    job_id = store.create_job(DEFINITION)
    follower = JournalFollower(store, job_id)
    follower.new_lines()
    second_done = threading.Event()

    def second_writer() -> None:
        store.log(job_id, None, Level.INFO, "run.progress", {"read": 1})
        second_done.set()

    with store.engine.connect() as slow:
        transaction = slow.begin()
        store._journal(slow, job_id, None, Level.INFO, "run.paused", {}, "slow")  # takes its id first
        writer = threading.Thread(target=second_writer)
        writer.start()
        assert not second_done.wait(0.5)  # the second writer waits for the first one's commit…
        assert follower.new_lines() == []  # …so no later id is visible before it
        transaction.commit()
    writer.join(5)
    assert second_done.is_set()
    assert [line.code for line in follower.new_lines()] == ["run.paused", "run.progress"]
