"""Following a journal: every line shown once, even one committed after a line with a higher id.
On SQLite and on PostgreSQL (see conftest.py); the out-of-order commit needs PostgreSQL's sequences."""

import pytest
import sqlalchemy as sa

from impex.domain.journal import Level
from impex.store import follow
from impex.store.follow import JournalFollower
from impex.store.schema import journal

DEFINITION = {"kind": "import", "name": "contacts", "queue": "default"}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_new_lines_come_once_in_id_order(store):
    job_id = store.create_job(DEFINITION)
    clock = Clock()
    follower = JournalFollower(store, job_id, clock)
    first = [line.code for line in follower.new_lines()]
    assert first == ["job.created"]
    store.log(job_id, None, Level.INFO, "run.progress", {"read": 1})
    store.log(job_id, None, Level.INFO, "run.progress", {"read": 2})
    assert [line.params["read"] for line in follower.new_lines()] == [1, 2]
    assert follower.new_lines() == []
    clock.now += follow.SETTLE_SECONDS + 1
    assert follower.new_lines() == []  # the floor moves up; nothing comes twice
    store.log(job_id, None, Level.INFO, "run.progress", {"read": 3})
    assert [line.params["read"] for line in follower.new_lines()] == [3]


def test_a_line_committed_after_a_line_with_a_higher_id_is_still_shown(store):
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serializes writers: ids commit in order")
    job_id = store.create_job(DEFINITION)
    follower = JournalFollower(store, job_id, Clock())
    follower.new_lines()
    row = {"job_id": job_id, "run_id": None, "ts": 0.0, "level": "info", "params": "{}", "actor": "t"}
    with store.engine.connect() as slow:
        transaction = slow.begin()
        slow.execute(journal.insert().values(code="run.paused", **row))  # takes its id first…
        store.log(job_id, None, Level.INFO, "run.progress", {"read": 1})  # …commits second
        assert [line.code for line in follower.new_lines()] == ["run.progress"]
        transaction.commit()
    assert [line.code for line in follower.new_lines()] == ["run.paused"]
    with store.engine.connect() as c:
        ids = c.execute(sa.select(journal.c.id).where(journal.c.job_id == job_id).order_by(journal.c.id))
        assert len(ids.all()) == 3
