"""Read-only queries for the web UI and the REST API: filtered, sorted, paged job and reject lists."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from impex.domain.journal import Level
from impex.domain.status import Status
from impex.store.connect import read_connection
from impex.store.records import (
    JobRecord,
    JournalLine,
    RejectRecord,
    RunRecord,
    job_record,
    journal_line,
    reject_record,
    run_record,
)
from impex.store.schema import jobs, journal, rejects, runs


class JobSort(StrEnum):
    ID = "id"
    NAME = "name"
    KIND = "kind"
    STATUS = "status"
    OWNER = "owner"
    CREATED = "created_at"
    UPDATED = "updated_at"
    STARTED = "started_at"
    ENDED = "ended_at"


_SORT_COLUMNS: dict[JobSort, Any] = {
    JobSort.ID: jobs.c.id,
    JobSort.NAME: jobs.c.name,
    JobSort.KIND: jobs.c.kind,
    # in the order of the lifecycle, as the statuses are declared: the same in every language
    JobSort.STATUS: sa.case({s.value: i for i, s in enumerate(Status)}, value=jobs.c.status),
    JobSort.OWNER: jobs.c.owner,
    JobSort.CREATED: jobs.c.created_at,
    JobSort.UPDATED: jobs.c.updated_at,
    JobSort.STARTED: runs.c.started_at,
    JobSort.ENDED: runs.c.ended_at,
}


@dataclass(frozen=True)
class JobFilter:
    statuses: tuple[Status, ...] = ()
    kind: str | None = None
    owner: str | None = None
    text: str | None = None  # in the name, case-insensitive
    sort: JobSort = JobSort.ID
    descending: bool = True
    limit: int = 50
    offset: int = 0


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_jobs(engine: sa.Engine, f: JobFilter) -> Page[tuple[JobRecord, RunRecord | None]]:
    """Jobs matching ``f``, each with its current run (None before the first start)."""
    where: list[Any] = []
    if f.statuses:
        where.append(jobs.c.status.in_([s.value for s in f.statuses]))
    if f.kind:
        where.append(jobs.c.kind == f.kind)
    if f.owner:
        where.append(jobs.c.owner == f.owner)
    if f.text:
        where.append(sa.func.lower(jobs.c.name).like(_like(f.text.lower()), escape="\\"))
    joined = jobs.outerjoin(runs, runs.c.id == jobs.c.current_run_id)
    column = _SORT_COLUMNS[f.sort]
    # Jobs never started (or not ended) last either way, on both stores (PostgreSQL puts nulls first
    # in a descending order, SQLite last).
    order = [(column.desc() if f.descending else column.asc()).nulls_last(), jobs.c.id.desc()]
    query = sa.select(jobs).select_from(joined).where(*where).order_by(*order).limit(f.limit).offset(f.offset)
    with read_connection(engine) as c:
        total = int(c.scalar(sa.select(sa.func.count()).select_from(jobs).where(*where)) or 0)
        found = [job_record(r) for r in c.execute(query)]
        run_ids = [j.current_run_id for j in found if j.current_run_id is not None]
        by_id = {r.id: run_record(r) for r in c.execute(sa.select(runs).where(runs.c.id.in_(run_ids)))}
    return Page([(j, by_id.get(j.current_run_id or 0)) for j in found], total)


@dataclass(frozen=True)
class RejectFilter:
    reason: str | None = None
    column: str | None = None
    limit: int = 100
    offset: int = 0
    after: int | None = None  # only records after this number (keyset paging: as quick at any depth)


def reject_conditions(run_id: int, reason: str | None, column: str | None) -> list[Any]:
    """A run's rejects, only one reason and/or one column when given."""
    where: list[Any] = [rejects.c.run_id == run_id]
    if reason:
        where.append(rejects.c.reason == reason)
    if column:
        where.append(rejects.c.column_name == column)
    return where


def list_rejects(engine: sa.Engine, run_id: int, f: RejectFilter) -> Page[RejectRecord]:
    """A run's rejects in record order, optionally only one reason and/or one column."""
    where = reject_conditions(run_id, f.reason, f.column)
    keys = sa.select(rejects.c.record_no).where(*where).order_by(rejects.c.record_no)
    if f.after is not None:
        keys = keys.where(rejects.c.record_no > f.after)
    # Deferred join: an offset is walked in an index of (run, filter, record number) alone, and only
    # the page's own rows are read from the table.
    keys = keys.limit(f.limit).offset(f.offset)
    query = (
        sa.select(rejects)
        .where(rejects.c.run_id == run_id, rejects.c.record_no.in_(keys))
        .order_by(rejects.c.record_no)
    )
    with read_connection(engine) as c:
        total = int(c.scalar(sa.select(sa.func.count()).select_from(rejects).where(*where)) or 0)
        items = [reject_record(r) for r in c.execute(query)]
    return Page(items, total)


def reject_facets(engine: sa.Engine, run_id: int) -> tuple[list[str], list[str]]:
    """The reasons and the columns a run's rejects have, for the filter menus."""
    with read_connection(engine) as c:
        return _distinct(c, run_id, rejects.c.reason), _distinct(c, run_id, rejects.c.column_name)


def _distinct(c: sa.Connection, run_id: int, column: Any) -> list[str]:
    """The column's distinct non-null values among a run's rejects, in order. A loose index scan:
    each value is one seek in an index that starts (run_id, column), however many rejects share it."""

    def first_above(floor: Any) -> Any:
        query = sa.select(column).where(rejects.c.run_id == run_id, column.is_not(None))
        if floor is not None:
            query = query.where(column > floor)
        return query.order_by(column).limit(1).scalar_subquery()

    found = sa.select(first_above(None).label("value")).cte("found", recursive=True)
    previous = found.alias("previous")
    found = found.union_all(sa.select(first_above(previous.c.value)).where(previous.c.value.is_not(None)))
    return [str(v) for v in c.scalars(sa.select(found.c.value).where(found.c.value.is_not(None)))]


def journal_page(
    engine: sa.Engine,
    job_id: int,
    *,
    after_id: int = 0,
    min_level: Level | None = None,
    run_id: int | None = None,
    limit: int = 200,
    tail: bool = False,
    before_id: int | None = None,
) -> list[JournalLine]:
    """A job's journal lines after ``after_id`` (and before ``before_id``) in order; with ``tail``,
    the last ``limit`` of them. ``min_level`` keeps that level and the more severe ones."""
    where: list[Any] = [journal.c.job_id == job_id, journal.c.id > after_id]
    if before_id is not None:
        where.append(journal.c.id < before_id)
    if min_level is not None:
        levels = list(Level)
        where.append(journal.c.level.in_([lv.value for lv in levels[levels.index(min_level) :]]))
    if run_id is not None:
        where.append(journal.c.run_id == run_id)
    order = journal.c.id.desc() if tail else journal.c.id.asc()
    with read_connection(engine) as c:
        rows = list(c.execute(sa.select(journal).where(*where).order_by(order).limit(limit)))
    if tail:
        rows.reverse()
    return [journal_line(r) for r in rows]


def last_journal_id(engine: sa.Engine, job_id: int) -> int:
    """The id of the job's newest journal line (0 when it has none)."""
    with read_connection(engine) as c:
        return int(c.scalar(sa.select(sa.func.max(journal.c.id)).where(journal.c.job_id == job_id)) or 0)


def job_state(engine: sa.Engine, job_id: int) -> tuple[JobRecord, RunRecord | None] | None:
    """The job and its current run, read together (None when there is no such job)."""
    with read_connection(engine) as c:
        row = c.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
        if row is None:
            return None
        job = job_record(row)
        if job.current_run_id is None:
            return job, None
        return job, run_record(c.execute(sa.select(runs).where(runs.c.id == job.current_run_id)).one())
