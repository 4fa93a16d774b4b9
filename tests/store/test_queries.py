"""The web's reject and journal queries: keyset and offset pages agree, filters count what they show,
the filter menus list each value once, and (SQLite) each filter is read from an index.
Each test runs on SQLite and on PostgreSQL (see conftest.py)."""

import pytest
import sqlalchemy as sa

from impex.domain.journal import Level
from impex.domain.rejects import Reason, Reject
from impex.domain.status import A
from impex.store import queries

DEFINITION = {"kind": "import", "name": "contacts", "queue": "default"}
REASONS = [Reason.TYPE_ERROR, Reason.TOO_LONG, Reason.MISSING_REQUIRED]
COLUMNS = ["id", "email", None, "city"]


@pytest.fixture
def run_with_rejects(store):
    """A run with 60 rejects: record numbers 10, 20, …, 600; reasons and columns in turn."""
    job_id = store.create_job(DEFINITION)
    store.transition(job_id, A.START, actor="ana")
    run_id = store.claim_next("w", ["default"], 30).run.id
    rejects = [
        Reject(n * 10, n * 10 + 1, b"raw", REASONS[n % 3], COLUMNS[n % 4], "v", "m") for n in range(1, 61)
    ]
    store.add_rejects(run_id, rejects)
    return job_id, run_id


def record_numbers(page):
    return [r.record_no for r in page.items]


def test_keyset_pages_give_the_same_rejects_as_offset_pages(store, run_with_rejects):
    _job, run_id = run_with_rejects
    by_offset = [
        queries.list_rejects(store.engine, run_id, queries.RejectFilter(limit=7, offset=o)) for o in (0, 7)
    ]
    first = queries.list_rejects(store.engine, run_id, queries.RejectFilter(limit=7))
    second = queries.list_rejects(
        store.engine, run_id, queries.RejectFilter(limit=7, after=first.items[-1].record_no)
    )
    assert record_numbers(first) == record_numbers(by_offset[0]) == [10, 20, 30, 40, 50, 60, 70]
    assert record_numbers(second) == record_numbers(by_offset[1]) == [80, 90, 100, 110, 120, 130, 140]
    assert first.total == second.total == 60


@pytest.mark.parametrize(
    ("reason", "column"),
    [(Reason.TOO_LONG, None), (None, "email"), (Reason.TYPE_ERROR, "city"), (None, None)],
)
def test_a_filter_counts_exactly_the_rejects_it_pages_through(store, run_with_rejects, reason, column):
    _job, run_id = run_with_rejects
    f = queries.RejectFilter(reason=reason, column=column, limit=1000)
    page = queries.list_rejects(store.engine, run_id, f)
    expected = [
        n * 10
        for n in range(1, 61)
        if (reason is None or REASONS[n % 3] == reason) and (column is None or COLUMNS[n % 4] == column)
    ]
    assert (record_numbers(page), page.total) == (expected, len(expected))
    deep = queries.list_rejects(
        store.engine, run_id, queries.RejectFilter(reason, column, 2, 3, after=expected[0])
    )
    assert record_numbers(deep) == expected[4:6]


def test_the_filter_menus_list_each_reason_and_column_once_in_order(store, run_with_rejects):
    _job, run_id = run_with_rejects
    assert queries.reject_facets(store.engine, run_id) == (
        sorted(r.value for r in REASONS),
        ["city", "email", "id"],
    )
    assert queries.reject_facets(store.engine, run_id + 1) == ([], [])


def test_job_state_reads_the_job_with_its_current_run(store, run_with_rejects):
    job_id, run_id = run_with_rejects
    job, run = queries.job_state(store.engine, job_id)
    assert (job.id, run.id if run else None) == (job_id, run_id)
    assert queries.job_state(store.engine, job_id + 99) is None
    assert queries.last_journal_id(store.engine, job_id) == store.journal_lines(job_id)[-1].id
    store.log(job_id, run_id, Level.WARNING, "run.error", {"error": "x"})
    assert queries.last_journal_id(store.engine, job_id) == store.journal_lines(job_id)[-1].id


@pytest.mark.parametrize(
    ("where", "index"),
    [
        ("reason = 'too_long'", "ix_rejects_run_reason"),
        ("column_name = 'email'", "ix_rejects_run_column"),
        ("reason = 'too_long' AND column_name = 'email'", "ix_rejects_run_reason_column"),
    ],
)
def test_each_reject_filter_is_counted_from_its_own_index(store, run_with_rejects, where, index):
    if store.engine.dialect.name != "sqlite":
        pytest.skip("query plans are checked on SQLite")
    sql = f"EXPLAIN QUERY PLAN SELECT count(*) FROM rejects WHERE run_id = 1 AND {where}"
    with store.engine.connect() as c:
        plan = " ".join(str(row[-1]) for row in c.execute(sa.text(sql)))
    assert f"COVERING INDEX {index} (" in plan


def listed(store, sort: queries.JobSort, descending: bool) -> list[int]:
    f = queries.JobFilter(sort=sort, descending=descending)
    return [job.id for job, _run in queries.list_jobs(store.engine, f).items]


@pytest.mark.parametrize("descending", [False, True])
def test_the_job_list_sorts_statuses_in_their_lifecycle_order_the_same_in_every_language(store, descending):
    """Sorted by their codes, the statuses came in an order no language reads (German: Abgebrochen,
    Wird abgebrochen, In Bearbeitung, Abgeschlossen …)."""
    draft, queued, paused = (store.create_job(DEFINITION) for _ in range(3))
    store.transition(queued, A.START, actor="ana")
    store.transition(paused, A.START, actor="ana")
    store.transition(paused, A.PAUSE, actor="ana")
    lifecycle = [draft, queued, paused]  # editing, queued, paused
    assert listed(store, queries.JobSort.STATUS, descending) == (lifecycle[::-1] if descending else lifecycle)


@pytest.mark.parametrize("descending", [False, True])
def test_jobs_never_started_come_last_when_sorted_by_start_on_either_store(store, descending):
    """PostgreSQL puts nulls first in a descending order, SQLite last: hundreds of drafts hid the
    jobs that did run, on one store only."""
    never = store.create_job(DEFINITION)
    ran = []
    for _ in range(2):
        job_id = store.create_job(DEFINITION)
        store.transition(job_id, A.START, actor="ana")
        store.claim_job(job_id, "w", 30)
        ran.append(job_id)
    started = listed(store, queries.JobSort.STARTED, descending)
    assert started[-1] == never and sorted(started[:2]) == ran
