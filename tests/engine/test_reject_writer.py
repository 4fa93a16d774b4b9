"""The rejects of a run are stored in a thread of their own: flush() returns once all are stored (the
importer calls it before each target commit), a failure to store surfaces there, and forget() drops
what a lost transaction will never commit. Against a real SQLite store."""

import pytest
import sqlalchemy as sa

from impex.domain.rejects import Reason, Reject
from impex.domain.status import A
from impex.engine.reject_writer import RejectWriter


@pytest.fixture
def run_id(store):
    job_id = store.create_job({"kind": "import", "name": "people", "queue": "default"})
    store.transition(job_id, A.START, actor="ana")
    return store.claim_next("w", ["default"], 30).run.id


def rejects(first: int, count: int) -> list[Reject]:
    return [
        Reject(n, n + 1, b"raw", Reason.TYPE_ERROR, "age", "x", "column age: 'x' is no integer")
        for n in range(first, first + count)
    ]


def stored(store, run_id) -> list[int]:
    return [r.record_no for r in store.rejects_of(run_id, limit=10**6)]


def test_after_flush_every_reject_added_is_stored(store, run_id):
    with RejectWriter(store, run_id) as writer:
        for first in range(1, 5001, 500):
            writer.add(rejects(first, 500))
        writer.flush()
        assert stored(store, run_id) == list(range(1, 5001))


def test_a_failure_to_store_is_raised_by_the_next_flush_and_only_once(store, run_id):
    with RejectWriter(store, run_id) as writer:
        writer.add([Reject(1, 2, b"raw", Reason.TYPE_ERROR, None, None, None)])  # type: ignore[arg-type]
        with pytest.raises(sa.exc.IntegrityError):  # the message is NOT NULL
            writer.flush()
        writer.add(rejects(10, 2))
        writer.flush()
    assert stored(store, run_id) == [10, 11]


def test_forget_drops_what_is_not_stored_yet_and_close_stores_nothing_more(store, run_id):
    writer = RejectWriter(store, run_id)
    writer.add(rejects(1, 3))
    writer.flush()
    for first in range(100, 100_000, 1000):
        writer.add(rejects(first, 1000))
    writer.forget()
    after_forget = stored(store, run_id)
    writer.close()
    assert after_forget[:3] == [1, 2, 3]
    assert stored(store, run_id) == after_forget  # whatever was under way when forget began, no more
