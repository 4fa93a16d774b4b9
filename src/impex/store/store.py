"""The metadata store: jobs, runs, journal, rejects, leases.

The only place that persists a status: ``transition`` looks the change up in the domain's table,
writes it as a guarded UPDATE and writes its journal line in the same transaction.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa

from impex.domain.counters import Counters
from impex.domain.journal import LEASE_RAN_OUT, PAUSED, SHUTDOWN_BY, STOPPED, WORKER_CRASHED, Level
from impex.domain.rejects import Reject
from impex.domain.status import (
    TERMINAL,
    A,
    Action,
    IllegalTransition,
    S,
    Seen,
    StaleAction,
    Status,
    Transition,
    next_status,
    sources_for,
)
from impex.store import migrate, queries
from impex.store.connect import create_store_engine, read_connection
from impex.store.errors import JobNotFound, LeaseLost, StoreUnavailable, database_message
from impex.store.records import (
    Claim,
    JobRecord,
    JournalLine,
    RejectRecord,
    RunRecord,
    job_record,
    journal_line,
    reject_record,
    run_record,
)
from impex.store.schema import jobs, journal, meta, rejects, runs
from impex.urls import masked, passwords_in, redact_url

JOURNAL_ORDER_LOCK = 0x1A9E7_0003  # advisory lock key (migrations take ..._0001, table creations ..._0002)
WHY_LINES = 20  # the last error lines of a run that say why it ended with errors


class Recovered(NamedTuple):
    """A job queued again (or settled) because the process that ran it is gone."""

    job_id: int
    transition: Transition
    previous_worker: str | None  # who held it; None after a clean shutdown
    run_id: int


class Store:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.store_id = self._store_id()

    @classmethod
    def open(cls, url: str) -> Store:
        """Open the store at ``url`` (``sqlite:///…`` or ``postgresql://…``), migrating it to the head."""
        try:
            engine = create_store_engine(url)
        except OSError as error:  # the folder of a store file cannot be made
            cause = f"{error.strerror}: {error.filename}" if error.strerror else str(error)
            raise StoreUnavailable(f"cannot open the store {redact_url(url)}: {cause}") from None
        try:
            migrate.upgrade(engine)
            return cls(engine)
        except sa.exc.OperationalError as error:
            engine.dispose()
            cause = masked(database_message(error), passwords_in(url))
            raise StoreUnavailable(f"cannot open the store {redact_url(url)}: {cause}") from None

    def close(self) -> None:
        self.engine.dispose()

    def _store_id(self) -> str:
        with self.engine.begin() as c:
            value = c.scalar(sa.select(meta.c.value).where(meta.c.key == "store_id"))
            if value is None:  # first opening; several processes may race here, one id wins
                c.execute(_insert_ignore(c, meta).values(key="store_id", value=uuid.uuid4().hex[:12]))
                value = c.scalar(sa.select(meta.c.value).where(meta.c.key == "store_id"))
            return str(value)

    # --- jobs and transitions -------------------------------------------------------------

    def create_job(self, definition: dict[str, Any], *, owner: str = "system", actor: str = "system") -> int:
        with self.engine.begin() as c:
            return self._create_job(c, definition, owner=owner, actor=actor)

    def _create_job(self, c: sa.Connection, definition: dict[str, Any], *, owner: str, actor: str) -> int:
        now = time.time()
        job_id = c.execute(
            jobs.insert().values(
                name=definition["name"],
                kind=definition["kind"],
                definition=json.dumps(definition),
                status=S.EDITING.value,
                queue=definition.get("queue", "default"),
                owner=owner,
                created_at=now,
                updated_at=now,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        self._journal(c, job_id, None, Level.INFO, "job.created", {"by": actor}, actor)
        return int(job_id)

    def job_to_run(self, definition: dict[str, Any], *, actor: str) -> tuple[int, Status | None]:
        """The job a foreground run of ``definition`` runs, queued: the newest one of exactly this
        definition that can still go on (paused, shut down, queued, or running in a process that
        may have died), else a new one. Also its status before, None for a new job. One transaction,
        serialised with any other such call, so that two runs started at once take one job."""
        with self.engine.begin() as c:
            if c.dialect.name == "postgresql":  # SQLite: BEGIN IMMEDIATE serialises already
                c.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(definition["name"]))))
            resumable = [S.PAUSED, S.SERVER_SHUTDOWN, S.QUEUED, S.RUNNING]
            query = (
                sa.select(jobs.c.id, jobs.c.definition, jobs.c.status)
                .where(
                    jobs.c.name == definition["name"],
                    jobs.c.status.in_([s.value for s in resumable]),
                    jobs.c.current_run_id.is_not(None),
                )
                .order_by(jobs.c.id.desc())
            )
            for job_id, saved, status in c.execute(query).all():
                if json.loads(saved) == definition:
                    before = S(status)
                    if before in (S.PAUSED, S.SERVER_SHUTDOWN):
                        self._transition(c, job_id, A.START, actor=actor, params={})
                    return int(job_id), before
            job_id = self._create_job(c, definition, owner=actor, actor=actor)
            self._transition(c, job_id, A.START, actor=actor, params={})
            return job_id, None

    def transition(
        self,
        job_id: int,
        action: Action,
        *,
        actor: str,
        lease_token: str | None = None,
        seen: Seen | None = None,
        **params: Any,
    ) -> Transition:
        """Apply ``action`` to the job, or raise IllegalTransition naming the job and its status.

        A worker passes its ``lease_token``: if another worker has taken the run over meanwhile,
        nothing changes and LeaseLost is raised (fencing, as the target's checkpoint row does).
        With ``seen``, the job must still be as the caller saw it, else StaleAction is raised."""
        with self.engine.begin() as c:
            return self._transition(
                c, job_id, action, actor=actor, params=params, lease_token=lease_token, seen=seen
            )

    def _transition(
        self,
        c: sa.Connection,
        job_id: int,
        action: Action,
        *,
        actor: str,
        params: dict[str, Any],
        lease_token: str | None = None,
        seen: Seen | None = None,
    ) -> Transition:
        # FOR UPDATE (PostgreSQL): a concurrent transition of this job waits for ours, then reads the
        # status we wrote, instead of both reading the same status and one failing its guard.
        row = c.execute(
            _for_update(c, sa.select(jobs.c.status, jobs.c.current_run_id).where(jobs.c.id == job_id))
        ).first()
        if row is None:
            raise JobNotFound(job_id)
        if lease_token is not None:
            holder = c.scalar(sa.select(runs.c.lease_token).where(runs.c.id == row.current_run_id))
            if holder != lease_token:
                raise LeaseLost(f"job {job_id}: another worker took it over; {action.value} not applied")
        source = Status(row.status)
        if seen is not None and (seen.status, seen.run_id) != (source, row.current_run_id):
            raise StaleAction(job_id, action, source, seen)
        try:
            target = next_status(action, source)
        except IllegalTransition:
            raise IllegalTransition(job_id, action, source) from None
        now = time.time()
        transition = Transition(action, source, target)
        run_id = row.current_run_id
        if transition.starts_new_run:
            run_id = self._new_run(c, job_id, now)
        updated = c.execute(
            jobs.update()
            .where(
                jobs.c.id == job_id,
                jobs.c.status == source.value,
                jobs.c.status.in_(_values(sources_for(action))),
            )
            .values(status=target.value, updated_at=now, current_run_id=run_id)
        )
        if updated.rowcount != 1:  # another process changed it between our read and write
            raise IllegalTransition(job_id, action, source)
        if run_id is not None:
            self._run_bookkeeping(c, run_id, source, target, now)
        journal_params = {"action": action.value, "by": actor, "source": source.value, "target": target.value}
        journal_params.update(params)
        level = Level.ERROR if target is S.FINISHED_WITH_ERRORS else Level.INFO
        self._journal(c, job_id, run_id, level, "job.transition", journal_params, actor)
        return transition

    def _new_run(self, c: sa.Connection, job_id: int, now: float) -> int:
        last = c.scalar(sa.select(sa.func.max(runs.c.run_no)).where(runs.c.job_id == job_id)) or 0
        return int(
            c.execute(
                runs.insert().values(job_id=job_id, run_no=last + 1, created_at=now)
            ).inserted_primary_key[0]  # type: ignore[index]
        )

    def _run_bookkeeping(
        self, c: sa.Connection, run_id: int, source: Status, target: Status, now: float
    ) -> None:
        values: dict[str, Any] = {}
        run = c.execute(sa.select(runs.c.started_at).where(runs.c.id == run_id)).one()
        if target is S.RUNNING and run.started_at is None:
            values["started_at"] = now
        if target in TERMINAL:
            values.update(outcome=target.value, ended_at=now)
        if target in TERMINAL or target in {S.PAUSED, S.SERVER_SHUTDOWN}:
            values.update(worker=None, lease_token=None, lease_expires_at=None)
        if values:
            c.execute(runs.update().where(runs.c.id == run_id).values(**values))

    def status_of(self, job_id: int) -> Status:
        with read_connection(self.engine) as c:
            value = c.scalar(sa.select(jobs.c.status).where(jobs.c.id == job_id))
        if value is None:
            raise JobNotFound(job_id)
        return Status(value)

    def job(self, job_id: int) -> JobRecord:
        if not 0 < job_id < 2**63:  # no such id, and the drivers refuse one past 64 bits
            raise JobNotFound(job_id)
        with read_connection(self.engine) as c:
            row = c.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
        if row is None:
            raise JobNotFound(job_id)
        return job_record(row)

    def list_jobs(
        self, *, status: Status | None = None, limit: int = 100, offset: int = 0
    ) -> list[JobRecord]:
        query = sa.select(jobs).order_by(jobs.c.id.desc()).limit(limit).offset(offset)
        if status is not None:
            query = query.where(jobs.c.status == status.value)
        with read_connection(self.engine) as c:
            return [job_record(r) for r in c.execute(query)]

    # --- runs ---------------------------------------------------------------------------------

    def run(self, run_id: int) -> RunRecord:
        with read_connection(self.engine) as c:
            return run_record(c.execute(sa.select(runs).where(runs.c.id == run_id)).one())

    def runs_of(self, job_id: int) -> list[RunRecord]:
        with read_connection(self.engine) as c:
            return [
                run_record(r)
                for r in c.execute(sa.select(runs).where(runs.c.job_id == job_id).order_by(runs.c.run_no))
            ]

    def replaced_by(self, run: RunRecord) -> RunRecord | None:
        """A run that finished after ``run`` writing the same output file, if any: the file is its."""
        query = (
            sa.select(runs)
            .where(
                runs.c.output_path == run.output_path,
                runs.c.outcome == S.FINISHED.value,
                runs.c.ended_at > (run.ended_at or 0),
                runs.c.id != run.id,
            )
            .order_by(runs.c.ended_at.desc())
            .limit(1)
        )
        with read_connection(self.engine) as c:
            row = c.execute(query).first()
        return run_record(row) if row is not None else None

    def claim_next(self, worker: str, queues: Sequence[str], lease_seconds: float) -> Claim | None:
        """Take the oldest queued job of ``queues`` for ``worker``, with a fresh lease."""
        query = (
            sa.select(jobs.c.id)
            .where(jobs.c.status == S.QUEUED.value, jobs.c.queue.in_(list(queues)))
            .order_by(jobs.c.updated_at, jobs.c.id)
            .limit(1)
        )
        return self._claim(query, worker, lease_seconds)

    def claim_job(self, job_id: int, worker: str, lease_seconds: float) -> Claim | None:
        """Take one particular job if it is queued (the foreground ``impex run``)."""
        query = sa.select(jobs.c.id).where(jobs.c.id == job_id, jobs.c.status == S.QUEUED.value)
        return self._claim(query, worker, lease_seconds)

    def has_work(self, queues: Sequence[str]) -> bool:
        """Queued jobs, or active ones a dead worker may have left, in these queues."""
        waiting = [S.QUEUED.value, S.RUNNING.value, S.PAUSING.value, S.CANCELING.value]
        query = (
            sa.select(jobs.c.id).where(jobs.c.status.in_(waiting), jobs.c.queue.in_(list(queues))).limit(1)
        )
        with read_connection(self.engine) as c:
            return c.scalar(query) is not None

    def _claim(self, query: sa.Select[Any], worker: str, lease_seconds: float) -> Claim | None:
        with self.engine.begin() as c:
            # SKIP LOCKED: workers claiming at the same moment each get a different job, none waits.
            job_id = c.scalar(_for_update(c, query, skip_locked=True))
            if job_id is None:
                return None
            token = secrets.token_hex(8)
            run_id = c.scalar(sa.select(jobs.c.current_run_id).where(jobs.c.id == job_id))
            c.execute(
                runs.update()
                .where(runs.c.id == run_id)
                .values(worker=worker, lease_token=token, lease_expires_at=_clock(c) + lease_seconds)
            )
            self._transition(c, job_id, A.CLAIM, actor=f"worker {worker}", params={})
            job = job_record(c.execute(sa.select(jobs).where(jobs.c.id == job_id)).one())
            run = run_record(c.execute(sa.select(runs).where(runs.c.id == run_id)).one())
        return Claim(job=job, run=run, lease_token=token)

    def heartbeat(self, worker: str, run_ids: Iterable[int], lease_seconds: float) -> set[int]:
        """Renew leases; returns the runs whose lease this worker no longer holds."""
        ids = set(run_ids)
        if not ids:
            return set()
        with self.engine.begin() as c:
            renewed = c.scalars(
                runs.update()
                .where(runs.c.id.in_(ids), runs.c.worker == worker)
                .values(lease_expires_at=_clock(c) + lease_seconds)
                .returning(runs.c.id)
            )
            return ids - set(renewed)

    def recover(self, *, actor: str, include_shutdown: bool, only: int | None = None) -> list[Recovered]:
        """Queue again the jobs whose worker stopped heartbeating (and the jobs a server shutdown
        left behind), or just job ``only``. Returns what was recovered.

        The job and run rows are locked (PostgreSQL: FOR UPDATE … SKIP LOCKED) and the lease is
        checked against the database's clock, so two workers never recover the same job, and a
        heartbeat that lands first keeps its job."""
        active = [S.RUNNING.value, S.PAUSING.value, S.CANCELING.value]
        recovered: list[Recovered] = []
        with self.engine.begin() as c:
            stale = sa.and_(
                jobs.c.status.in_(active),
                sa.or_(runs.c.lease_expires_at.is_(None), runs.c.lease_expires_at < _clock(c)),
            )
            if include_shutdown:
                stale = sa.or_(stale, jobs.c.status == S.SERVER_SHUTDOWN.value)
            if only is not None:
                stale = sa.and_(stale, jobs.c.id == only)
            query = (
                sa.select(jobs.c.id, runs.c.id.label("run_id"), runs.c.worker)
                .join(runs, runs.c.id == jobs.c.current_run_id)
                .where(stale)
                .order_by(jobs.c.id)
            )
            for job_id, run_id, previous in c.execute(
                _for_update(c, query, skip_locked=True, of=(jobs, runs))
            ):
                t = self._transition(c, job_id, A.RECOVER, actor=actor, params={})
                c.execute(
                    runs.update()
                    .where(runs.c.id == run_id)
                    .values(worker=None, lease_token=None, lease_expires_at=None)
                )
                recovered.append(Recovered(job_id, t, previous, run_id))
        return recovered

    def record_progress(
        self,
        run_id: int,
        counters: Counters,
        *,
        bytes_done: int | None = None,
        bytes_total: int | None = None,
        rate: float | None = None,
        eta_seconds: float | None = None,
        active_seconds: float | None = None,
        output_path: str | None = None,
        lease_token: str | None = None,
    ) -> None:
        """Set (never add) a run's counters: replaying a chunk cannot count it twice.
        With ``lease_token``, only while that lease holds the run (else LeaseLost)."""
        values: dict[str, Any] = counters.as_dict()
        extras = {
            "bytes_done": bytes_done,
            "bytes_total": bytes_total,
            "rate": rate,
            "eta_seconds": eta_seconds,
            "active_seconds": active_seconds,
            "output_path": output_path,
        }
        values.update({k: v for k, v in extras.items() if v is not None})
        fence = [runs.c.lease_token == lease_token] if lease_token is not None else []
        with self.engine.begin() as c:
            done = c.execute(runs.update().where(runs.c.id == run_id, *fence).values(**values))
        if fence and done.rowcount != 1:
            raise LeaseLost(f"run {run_id}: another worker took it over; progress not recorded")

    # --- journal ------------------------------------------------------------------------------

    def log(
        self,
        job_id: int,
        run_id: int | None,
        level: Level,
        code: str,
        params: dict[str, Any],
        actor: str = "system",
    ) -> None:
        with self.engine.begin() as c:
            self._journal(c, job_id, run_id, level, code, params, actor)

    def _journal(
        self,
        c: sa.Connection,
        job_id: int,
        run_id: int | None,
        level: Level,
        code: str,
        params: dict[str, Any],
        actor: str,
    ) -> None:
        if c.dialect.name == "postgresql":
            # A sequence hands out ids at insert, not at commit: without this a line could become
            # visible after one with a higher id, and a reader going on from the last id it saw (the
            # CLI's --follow, the web's live journal, the API's paging) would never see it. Writers
            # of journal lines take turns from here to their commit, so ids become visible in order.
            # Holding it, a transaction waits for no row: it writes its journal lines last, and their
            # foreign-key checks do not wait for the row locks taken by ``_for_update``.
            c.execute(sa.select(sa.func.pg_advisory_xact_lock(JOURNAL_ORDER_LOCK)))
        c.execute(
            journal.insert().values(
                job_id=job_id,
                run_id=run_id,
                ts=time.time(),
                level=level.value,
                code=code,
                params=json.dumps(params, default=str),
                actor=actor,
            )
        )

    def journal_lines(
        self, job_id: int, *, run_id: int | None = None, after_id: int = 0, limit: int = 1000
    ) -> list[JournalLine]:
        query = (
            sa.select(journal)
            .where(journal.c.job_id == job_id, journal.c.id > after_id)
            .order_by(journal.c.id)
            .limit(limit)
        )
        if run_id is not None:
            query = query.where(journal.c.run_id == run_id)
        with read_connection(self.engine) as c:
            return [journal_line(r) for r in c.execute(query)]

    def why_failed(self, run: RunRecord) -> list[JournalLine]:
        """Why a run ended with errors: its journal's error lines, status changes left out; none for
        a run that did not end so."""
        if run.outcome is not S.FINISHED_WITH_ERRORS:
            return []
        lines = queries.journal_page(
            self.engine, run.job_id, run_id=run.id, min_level=Level.ERROR, limit=WHY_LINES, tail=True
        )
        return [line for line in lines if line.code != "job.transition"]

    def stop_reason(self, run_id: int) -> str:
        """How the run last stopped, for its resume line: a pause, a shutdown by a signal, a worker
        that died (its lease ran out) …"""
        codes = ("run.paused", "run.shutdown", "worker.takeover")
        with read_connection(self.engine) as c:
            rows = c.execute(
                sa.select(journal.c.code, journal.c.params)
                .where(journal.c.run_id == run_id, journal.c.code.in_(codes))
                .order_by(journal.c.id.desc())
                .limit(2)
            ).all()
        if not rows:
            return STOPPED
        if len(rows) == 2 and rows[0][0] == "worker.takeover" and rows[1][0] == "run.shutdown":
            rows = rows[1:]  # the pickup after a shutdown: the shutdown says more
        code, params = rows[0][0], json.loads(rows[0][1] or "{}")
        if code == "run.paused":
            return PAUSED
        if code == "run.shutdown":
            return SHUTDOWN_BY.format(signal=params.get("signal", "a signal"))
        if params.get("reason") == LEASE_RAN_OUT:
            return WORKER_CRASHED.format(worker=params.get("previous", "unknown"))
        return str(params.get("reason") or STOPPED)

    def detected_format(self, run_id: int) -> dict[str, Any]:
        """What the run found its file to be, as its journal says (delimiter, encoding, header);
        empty before it read the file."""
        with read_connection(self.engine) as c:
            params = c.scalar(
                sa.select(journal.c.params)
                .where(journal.c.run_id == run_id, journal.c.code == "format.detected")
                .limit(1)
            )
        return dict(json.loads(params)) if params else {}

    def source_encoding(self, run_id: int) -> str:
        """The encoding the run read its file in (as its journal says), to show raw records in."""
        encoding = self.detected_format(run_id).get("encoding")
        return "utf-8" if not encoding or encoding == "utf-8-sig" else str(encoding)

    # --- rejects ------------------------------------------------------------------------------

    def add_rejects(self, run_id: int, items: Sequence[Reject]) -> None:
        """Store rejects keyed by (run, record number): storing the same ones again changes nothing."""
        if not items:
            return
        rows = [
            (
                *(run_id, r.record_no, r.line_no, r.raw, r.reason.value, r.column, r.value, r.message),
                *(r.code, json.dumps(r.params) if r.code is not None else None),
            )
            for r in items
        ]
        with self.engine.begin() as c:
            # Straight to the driver: SQLAlchemy's processing of each row's parameters cost as much
            # as the database's own work (a run that rejects a million records stores them all).
            c.exec_driver_sql(_reject_insert(c.dialect.paramstyle), rows)

    def drop_rejects_after(self, run_id: int, record_no: int) -> None:
        """Forget rejects past a checkpoint (stored by a chunk whose target commit never happened)."""
        with self.engine.begin() as c:
            c.execute(rejects.delete().where(rejects.c.run_id == run_id, rejects.c.record_no > record_no))

    def rejects_of(
        self,
        run_id: int,
        *,
        after_record: int = 0,
        limit: int = 1000,
        reason: str | None = None,
        column: str | None = None,
    ) -> list[RejectRecord]:
        """A run's rejects in record order; with ``reason`` and/or ``column``, only those."""
        query = (
            sa.select(rejects)
            .where(*queries.reject_conditions(run_id, reason, column), rejects.c.record_no > after_record)
            .order_by(rejects.c.record_no)
            .limit(limit)
        )
        with read_connection(self.engine) as c:
            return [reject_record(r) for r in c.execute(query)]


def _values(statuses: Iterable[Status]) -> list[str]:
    return [s.value for s in statuses]


def _for_update(
    c: sa.Connection, query: sa.Select[Any], *, skip_locked: bool = False, of: Any = None
) -> sa.Select[Any]:
    """Lock the selected rows on PostgreSQL. SQLite needs nothing: BEGIN IMMEDIATE already made
    the whole transaction exclusive.

    FOR NO KEY UPDATE: the ids never change, so the foreign-key checks of journal lines written
    meanwhile need not wait (a journal writer waiting for a job row while holding the journal's
    turn, see ``_journal``, would deadlock with the holder of that row waiting for its turn)."""
    if c.dialect.name != "postgresql":
        return query
    return query.with_for_update(skip_locked=skip_locked, of=of, key_share=True)


def _clock(c: sa.Connection) -> Any:
    """Now, in seconds since the epoch, for leases. On PostgreSQL the server's clock, so that
    workers on hosts whose clocks disagree still agree on when a lease expires."""
    if c.dialect.name == "postgresql":
        return sa.cast(sa.func.extract("epoch", sa.func.clock_timestamp()), sa.Float)
    return sa.literal(time.time(), sa.Float)


_REJECT_COLUMNS = (
    *("run_id", "record_no", "line_no", "raw", "reason", "column_name", "value", "message"),
    *("message_code", "message_params"),
)
assert set(_REJECT_COLUMNS) == set(rejects.c.keys())  # the schema's own columns, in the rows' order


def _reject_insert(paramstyle: str) -> str:
    """The INSERT of a reject, ignored when stored already (both databases spell it the same)."""
    mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}[paramstyle]
    names = ", ".join(_REJECT_COLUMNS)
    marks = ", ".join([mark] * len(_REJECT_COLUMNS))
    return f"INSERT INTO rejects ({names}) VALUES ({marks}) ON CONFLICT DO NOTHING"


def _insert_ignore(c: sa.Connection, table: sa.Table) -> Any:
    # The engine has loaded its own dialect; importing PostgreSQL's at module level would add ~25 ms
    # to every command on a SQLite store.
    if c.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table).on_conflict_do_nothing()
