"""The import run: the chunk loop from file to table.

Per chunk: parse (formats) → validate → reconcile → rejects to the store (keyed by run and record
number, so a replay cannot store them twice) → rows + checkpoint in one target transaction →
counters to the store (set, never added). A resume starts at the checkpoint the target holds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from impex.domain.counters import Counters
from impex.domain.definitions import ColumnType, CommitMode, DoublesPolicy, ImportJob, Operation
from impex.domain.journal import Level
from impex.domain.position import Position
from impex.domain.rejects import Reason, Reject
from impex.domain.status import A, S, Status
from impex.engine.chunk_rejects import as_json, from_json, refused_reject, refused_rejects, rejects_at
from impex.engine.connections import connection_url
from impex.engine.execution import STOP_CODES, Execution, Progress, ends_the_run, technical_error
from impex.engine.keyset import KeySet
from impex.engine.prefetch import Prefetch
from impex.engine.progress import Clock, format_duration, format_eta
from impex.engine.reconcile import Existing, Reconciled, key_hashes, reconcile
from impex.engine.reject_writer import RejectWriter
from impex.formats.fingerprint import Fingerprint
from impex.formats.reader import DelimitedReader, RecordChunk
from impex.targets import open_target
from impex.targets.base import (
    Checkpoint,
    ChunkResult,
    ColumnDef,
    KeyLookup,
    RunSpec,
    RunTarget,
    TargetError,
    TargetSession,
    lacking_columns,
)
from impex.validate import Plan, Validated, build_plan, target_schema, utc_columns, validate
from impex.validate.plan import PlanError, check_keys

PROGRESS_WRITE_SECONDS = 0.25
INSERTING = (Operation.INSERT, Operation.UPSERT, Operation.INSERT_NEW)  # operations that insert new keys
# A run's first chunk: an eighth of chunk_rows, when that is still 10,000 records or more (a smaller
# chunk is read too quickly for the wait to matter).
FIRST_CHUNK_SHARE = 8
FIRST_CHUNK_MIN = 10_000


class ImportFailed(RuntimeError):
    """The run cannot go on: a technical error, the reject threshold, or the first error."""

    def __init__(self, code: str, params: dict[str, Any]) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass
class Prepared:
    """A chunk ready to write: its reconciled rows and all its rejects."""

    chunk: RecordChunk
    rec: Reconciled
    rejects: list[Reject]


class ImportRun:
    def __init__(self, ex: Execution) -> None:
        self.ex = ex
        self.job = ImportJob.model_validate(ex.claim.job.definition)
        self.store = ex.store
        self.token = ex.claim.lease_token  # fences every write: a run taken over cannot change a thing
        self.last_progress_log = time.monotonic()
        self.last_progress_write = 0.0
        self.target: RunTarget | None = None
        # How the reading thread reconciles, decided once per run (see _reconciling).
        self.reconciles_here = False
        self.existing_here: Existing | None = None
        self.group_started: float | None = None  # when the chunks not committed yet began
        self.rejects: RejectWriter  # stores each chunk's rejects while its rows go in
        self.clock = Clock()  # replaced by one that knows the run's earlier active time
        self.total_bytes: int | None = None
        self.holds_nan = False  # the target's float columns keep a NaN (known once it is open)

    def log(self, code: str, level: Level = Level.INFO, /, **params: Any) -> None:
        self.store.log(self.ex.job_id, self.ex.run_id, level, code, params, self.ex.actor)

    def execute(self) -> Status:
        session: TargetSession | None = None
        with RejectWriter(self.store, self.ex.run_id) as self.rejects:
            try:
                session = open_target(connection_url(self.ex.settings, self.job.target.connection))
                return self._execute(session)
            except ImportFailed as failure:
                return self._fail(failure.code, failure.params)
            except BaseException as error:  # a Polars panic too: it is no Exception
                if not ends_the_run(error):
                    raise
                return self._fail("run.error", {"error": technical_error(error)})
            finally:
                if session is not None:
                    session.close()

    def _fail(self, code: str, params: dict[str, Any]) -> Status:
        self._settle()
        counters = Counters()
        if self.target is not None:  # the counters of what the table holds
            checkpoint = self.target.checkpoint
            if self.job.commit is CommitMode.ATOMIC:  # the staged rows go: none of them is in it
                unapplied = dataclasses.replace(checkpoint.counters, inserted=0, updated=0, deleted=0)
                checkpoint = dataclasses.replace(checkpoint, counters=unapplied)
            counters = checkpoint.counters
            self._progress(checkpoint, force=True)
            # The run is over (Start begins a new one): its seen keys and staged rows are of no more use.
            with contextlib.suppress(TargetError, OSError):
                self.target.drop_run_tables()
        self.log(code, Level.ERROR, **params)
        self.log("run.summary", **counters.as_dict(), duration=format_duration(self.clock.active()))
        return self.store.transition(
            self.ex.job_id, A.FAIL, actor=self.ex.actor, lease_token=self.token, cause=code
        ).target

    def _execute(self, session: TargetSession) -> Status:
        job = self.job
        self.holds_nan = session.holds_nan
        with DelimitedReader(job.source, job.format) as probe:
            header, n_fields = probe.header, probe.n_fields
            detected = {"delimiter": probe.delimiter, "encoding": probe.encoding, "header": job.format.header}
            self.total_bytes = probe.total_bytes
        try:
            plan = build_plan(job.columns, header, n_fields)
            check_keys(plan, job.reconciliation.keys)
        except PlanError as error:  # said of the file: which one
            raise PlanError(f"{job.source}: {error}") from None
        created = self._ensure_table(session, plan)
        source = Fingerprint.of(job.source).as_dict()
        # Kept only by a new run: the state of things when it began.
        first_state = {"table_was_empty": session.is_empty(job.target.table), "source": source}
        keys = job.reconciliation.keys
        atomic = job.commit is CommitMode.ATOMIC
        rules = job.reconciliation
        # A double whose key has no row (the copy before it was refused) goes in, if the run inserts.
        inserts_missing = rules.doubles is DoublesPolicy.LAST_WINS and rules.operation in INSERTING
        utc = utc_columns(plan, job.format)
        spec = RunSpec(
            self.ex.run_key,
            self.ex.claim.lease_token,
            job.target.table,
            keys,
            atomic,
            inserts_missing=inserts_missing,
            utc_columns=utc,
        )
        target = session.open_run(spec, first_state)
        self.target = target
        checkpoint = target.checkpoint
        if checkpoint.state.get("done"):
            return self._finish(target, checkpoint, already_applied=True)
        self._announce(target, detected, plan, utc)
        checkpoint = self._same_source(checkpoint, source)
        if created:
            self.log("table.created", table=job.target.table, columns=", ".join(plan.names))
        seen = self._seen_keys(target, checkpoint)
        run = self.store.run(self.ex.run_id)
        self.clock = Clock(
            before=run.active_seconds,
            records_at_start=checkpoint.counters.read,
            bytes_at_start=checkpoint.position.offset,
        )
        start = checkpoint.position if checkpoint.position.offset else None
        block = max(64 * 1024, job.chunk_bytes // 4)
        with (
            self._reconciling(target, checkpoint),
            DelimitedReader(
                job.source, job.format, start=start, max_chunk_bytes=job.chunk_bytes, block_size=block
            ) as reader,
        ):
            first = checkpoint  # not the loop's variable: the producer thread reads this one
            # A smaller first chunk: the target's thread waits for it with nothing else to do. Not
            # when resuming: chunks must end where they ended in the run before (a threshold stop,
            # a deferred foreign key's check are decided at chunk ends).
            first_rows = max(job.chunk_rows // FIRST_CHUNK_SHARE, min(job.chunk_rows, FIRST_CHUNK_MIN))
            chunks_read = reader.chunks(job.chunk_rows, first=first_rows if start is None else None)
            stages = (self._stage(chunk, plan, seen, first) for chunk in chunks_read)
            with Prefetch(stages, ahead=2) as chunks:
                for ready in chunks:
                    stop = self.ex.requested_stop()
                    if stop is not None:
                        return self._stop(stop, target, self._commit(target))
                    checkpoint = self._chunk(ready, target, checkpoint, seen)
                    # Chunks go in as they come but commit together: a commit waits for the disk.
                    if time.monotonic() - (self.group_started or 0.0) >= self.ex.settings.commit_seconds:
                        checkpoint = self._commit(target)
                    self._progress(checkpoint)
                    self._check_threshold(checkpoint)
        self._unchanged_since_begun(source)
        return self._finish(target, self._commit(target))

    def _commit(self, target: RunTarget) -> Checkpoint:
        """Commit the chunks applied since the last commit, then store the rows the database refused
        in them (kept in the checkpoint's state, so that a crash in between loses none). Their other
        rejects are all in the store first: a replay after a crash in between stores them again (keyed
        by record), and a resume drops those past the checkpoint."""
        if not target.pending:  # a stop right after a commit: nothing new
            return target.checkpoint
        self.rejects.flush()
        committed = target.commit()
        self.group_started = None
        self._store_refused(committed)
        return committed

    def _settle(self) -> None:
        """On a failure: commit the chunks applied so far if the transaction still can; if it was lost,
        drop the rejects of its chunks, so that the reject list matches the table."""
        target = self.target
        if target is None or self.group_started is None:
            return
        if target.pending:
            try:
                self._commit(target)
                return
            except (TargetError, OSError):
                pass
        self.group_started = None
        self.rejects.forget()
        self.store.drop_rejects_after(self.ex.run_id, target.checkpoint.position.record_no)

    def _same_source(self, checkpoint: Checkpoint, now: dict[str, Any]) -> Checkpoint:
        """The checkpoint to go on from, if the source file is still the one its byte offset points
        into (in another file it points at other records, or into one); else the run stops. A run that
        has committed no record yet takes the file as it is now."""
        then = checkpoint.state.get("source")
        if then == now:
            return checkpoint
        if not checkpoint.position.offset:
            return dataclasses.replace(checkpoint, state=dict(checkpoint.state, source=now))
        if then is None:  # begun by an impex that kept no fingerprint: nothing to compare
            return checkpoint
        raise self._source_changed(then, now)

    def _unchanged_since_begun(self, then: dict[str, Any]) -> None:
        """The run read the file as it was when it began (a plain file up to the size it had); if it has
        changed since (another program writes it still), the run stops with errors rather than finish
        as if it had imported the file as it is."""
        try:
            now = Fingerprint.of(self.job.source).as_dict()
        except FileNotFoundError:  # read to its end through the open file all the same
            self.log("run.source_gone", Level.WARNING, path=self.job.source)
            return
        if now != then:
            raise self._source_changed(then, now)

    def _source_changed(self, then: dict[str, Any], now: dict[str, Any]) -> ImportFailed:
        params = {"path": self.job.source, "size_then": then["size"], "size_now": now["size"]}
        return ImportFailed("run.source_changed", params)

    def _persist_seen(self, checkpoint: Checkpoint) -> bool:
        """Keys applied by this run are kept in the target for a resume, unless the table was empty
        when the run began and rows go straight in: then the table itself holds them, but for the
        rows the database refused (ChunkWrite.refusable_keys)."""
        rebuildable = checkpoint.state.get("table_was_empty") and self.job.commit is CommitMode.INCREMENTAL
        return bool(self.job.reconciliation.keys) and not rebuildable

    def _seen_keys(self, target: RunTarget, checkpoint: Checkpoint) -> KeySet:
        keys = self.job.reconciliation.keys
        if not keys or not checkpoint.position.offset:
            return KeySet()  # no chunk committed yet: none applied (they commit with the position)
        if self._persist_seen(checkpoint):
            return KeySet(target.seen_hashes())
        # the keys of the refused rows are not in the table
        return KeySet(np.concatenate([key_hashes(target.table_keys(), keys), target.seen_hashes()]))

    def _ensure_table(self, session: TargetSession, plan: Plan) -> bool:
        """Create the table when missing (True), or check it has the planned columns."""
        table = self.job.target.table
        wanted = [
            ColumnDef(c.name, c.type, c.required, c.max_length, c.precision, c.scale)
            for c in target_schema(plan)
        ]
        if session.is_view(table):
            raise ImportFailed("run.error", {"error": f"{table} is a view, not a table: impex loads tables"})
        if not session.table_exists(table):
            committed = session.committed_records(self.ex.run_key)
            if committed:  # a new table would get the rest of the file only, and be said to hold it all
                session.drop_run_tables(self.ex.run_key)
                raise ImportFailed(
                    "run.error",
                    {
                        "error": f"table {table} is gone: it was dropped or renamed since the run began, "
                        f"after its first {committed} records had gone through; Start begins a new run "
                        "that imports the whole file again"
                    },
                )
            if not self.job.target.create:
                raise ImportFailed(
                    "run.error", {"error": f"table {table} does not exist and target.create is false"}
                )
            session.create_table(table, wanted, self.job.reconciliation.keys)
            return True
        key = session.name_key
        self._refuse_computed(session, [c.name for c in wanted])
        missing, has = lacking_columns(session, table, [c.name for c in wanted])
        if missing:
            raise ImportFailed(
                "run.error",
                {"error": f"table {table} has no column(s) {', '.join(missing)} (it has: {', '.join(has)})"},
            )
        filled = {key(w.name) for w in wanted}
        unfilled = [c for c in session.required_columns(table) if key(c) not in filled]
        if unfilled and self.job.reconciliation.operation not in (Operation.UPDATE, Operation.DELETE):
            raise ImportFailed(
                "run.error",
                {
                    "error": f"table {table} needs a value in column(s) {', '.join(unfilled)} (NOT NULL, "
                    "no default), which the job does not fill: add them to its columns (a constant "
                    "or a default will do)"
                },
            )
        return False

    def _refuse_computed(self, session: TargetSession, columns: list[str]) -> None:
        """Refuse a job that would write a column the database fills itself (a generated column, an
        identity GENERATED ALWAYS), before a row is read. Keys an update or a delete only matches on."""
        table, rec = self.job.target.table, self.job.reconciliation
        if rec.operation is Operation.DELETE:
            return
        matched = {session.name_key(k) for k in rec.keys} if rec.operation is Operation.UPDATE else set()
        computed = {
            session.name_key(name): (name, how) for name, how in session.computed_columns(table).items()
        }
        written = [computed[k] for k in map(session.name_key, columns) if k in computed and k not in matched]
        if not written:
            return
        error = (
            f"table {table} fills column(s) {', '.join(f'{name} ({how})' for name, how in written)} itself: "
            "take them out of the job's columns"
        )
        if any(how.endswith("IDENTITY") for _, how in written):
            error += (
                " (to load the file's numbers into an identity column, make it GENERATED BY DEFAULT, "
                "then move its sequence past them)"
            )
        raise ImportFailed("run.error", {"error": error})

    def _announce(
        self, target: RunTarget, detected: dict[str, Any], plan: Plan, utc: tuple[str, ...]
    ) -> None:
        run_no = self.ex.claim.run.run_no
        checkpoint = target.checkpoint
        p = checkpoint.position
        if target.resumed:  # maybe from the start: a stop before the first commit
            # Rejects a crashed chunk stored before its target commit are redone by the replay.
            self.store.drop_rejects_after(self.ex.run_id, p.record_no)
            self._store_refused(checkpoint)
            reason = self.store.stop_reason(self.ex.run_id)
            self.log("run.resumed", run=run_no, record_no=p.record_no, line_no=p.line_no, reason=reason)
            return
        options = self.job.model_dump(mode="json", exclude={"name", "kind"}, exclude_defaults=True)
        self.log("run.started", run=run_no, by=self.ex.actor, options=options)
        self.log("format.detected", **detected)
        for column, sequence in target.unmovable_sequences(tuple(plan.names)):
            self.log("table.sequence_unmoved", Level.WARNING, column=column, sequence=sequence)
        local = tuple(c.name for c in plan.columns if c.type is ColumnType.TIMESTAMP and c.name not in utc)
        zoned, zone = target.read_in_zone(local) if local else ((), "")
        if zoned:
            self.log("run.time_zone", columns=", ".join(zoned), zone=zone)

    def _stage(
        self, chunk: RecordChunk, plan: Plan, seen: KeySet, checkpoint: Checkpoint
    ) -> Prepared | tuple[RecordChunk, Validated]:
        """In the producer thread: validate, and reconcile too unless that must ask the table on the
        target's own connection (see ``_reconciling``), so that the target's thread does little but
        write."""
        validated = validate(
            chunk.frame, plan, self.job.format, plain=chunk.plain, quoting=chunk, nan=self.holds_nan
        )
        chunk = chunk.parsed()
        if not self.reconciles_here:
            return chunk, validated
        ready = self._prepare(chunk, validated, seen, self.existing_here, checkpoint)
        seen.add(ready.rec.new_keys)  # the next chunk's doubles; only this thread uses the set then
        return ready

    @contextlib.contextmanager
    def _reconciling(self, target: RunTarget, checkpoint: Checkpoint) -> Iterator[None]:
        """While the chunks go through: whether the reading thread reconciles, and how it asks the
        table. It need not ask when the table was empty when the run began, nor when every row goes
        out as an upsert (the target tells the inserted rows from the updated ones); else it asks
        over a connection of its own if the target gives one, and if not, the target's thread
        reconciles."""
        lookup: KeyLookup | None = None
        if checkpoint.state.get("table_was_empty") or not self.job.reconciliation.keys:
            self.reconciles_here, self.existing_here = True, None
        elif self._upserts_only():
            self.reconciles_here, self.existing_here = True, _never_asked
        else:
            lookup = target.key_lookup()
            self.reconciles_here = lookup is not None
            self.existing_here = lookup.existing if lookup is not None else None
        try:
            yield
        finally:
            if lookup is not None:
                lookup.close()

    def _upserts_only(self) -> bool:
        rules = self.job.reconciliation
        upserts = self.target is not None and self.target.upserts_keys
        return upserts and bool(rules.keys) and rules.operation is Operation.UPSERT

    def _prepare(
        self,
        chunk: RecordChunk,
        validated: Validated,
        seen: KeySet,
        existing: Existing | None,
        checkpoint: Checkpoint,
    ) -> Prepared:
        """Reconcile a chunk's valid rows, and gather all its rejects."""
        rec = reconcile(
            validated.good,
            validated.good_rows,
            self.job.reconciliation,
            seen_contains=seen.contains,
            existing=existing,
            upserts=self.target is not None and self.target.upserts_keys,
        )
        if self._persist_seen(checkpoint):
            rec.write.seen_hashes = rec.new_keys
        elif self.job.reconciliation.keys:
            rec.write.refusable_keys = (rec.new_key_rows, rec.new_keys)
        if self.job.commit is CommitMode.ATOMIC:  # staged with what a refusal at the end will report
            w = rec.write
            w.inserts, w.updates, w.deletes = (
                _with_records(chunk, f) for f in (w.inserts, w.updates, w.deletes)
            )
            w.rewrites, w.again = _with_records(chunk, w.rewrites), _with_records(chunk, w.again)
        if self.target is not None:
            rec.write = self.target.prepare(rec.write)
        rejects = list(chunk.rejects)
        errors = validated.errors
        if errors.height:
            rejects += rejects_at(
                chunk,
                errors["row"].to_numpy(),
                [Reason(r) for r in errors["reason"].to_list()],
                errors["column"].to_list(),
                errors["value"].to_list(),
                errors["code"].to_list(),
                [json.loads(p) for p in errors["params"].to_list()],
            )
        if rec.rejects:
            rows, reasons, columns, values, codes, params = zip(*rec.rejects, strict=True)
            rejects += rejects_at(
                chunk, np.array(rows), list(reasons), list(columns), list(values), list(codes), list(params)
            )
        return Prepared(chunk, rec, rejects)

    def _chunk(
        self,
        ready: Prepared | tuple[RecordChunk, Validated],
        target: RunTarget,
        checkpoint: Checkpoint,
        seen: KeySet,
    ) -> Checkpoint:
        job = self.job
        if isinstance(ready, tuple):  # the table is asked, in this thread (its connection's)
            ready = self._prepare(*ready, seen, target.existing, checkpoint)
            seen.add(ready.rec.new_keys)
        chunk, rec, rejects = ready.chunk, ready.rec, ready.rejects
        if rejects and job.errors.stop_at_first_error:
            self._commit(target)  # the chunks before this one stay, as a chunk-by-chunk commit leaves them
            first = min(rejects, key=lambda r: r.record_no)
            self.store.add_rejects(self.ex.run_id, [first])
            raise ImportFailed("run.first_error", _first_error(as_json(first)))
        self.rejects.add(rejects)
        base = checkpoint.counters + Counters(
            read=chunk.n_records,
            rejected=len(rejects),
            doubles=rec.doubles,
            duplicates=rec.duplicates,
            unchanged=rec.unchanged,
        )
        if job.commit is CommitMode.ATOMIC:  # staged now, applied (and counted) at the end: the plan
            w = rec.write
            base = base + Counters(
                inserted=w.inserts.height if w.inserts is not None else 0,
                updated=sum(f.height for f in (w.updates, w.rewrites, w.again) if f is not None),
                deleted=w.deletes.height if w.deletes is not None else 0,
            )
        else:  # only the last copy of a key goes to the table: the reconciler counted the others
            base = base + Counters(updated=rec.again_updated, unchanged=rec.again_unchanged)

        def finalize(result: ChunkResult) -> Checkpoint:
            refused = refused_rejects(chunk, result.refused)
            counters = base + Counters(
                inserted=result.inserted,
                updated=result.updated,
                unchanged=result.unchanged,
                deleted=result.deleted,
                rejected=len(refused),
                doubles=-result.revived,
            )
            # Refused rows of the chunks not committed yet ride along until they are.
            earlier = checkpoint.state.get("refused", []) if self.group_started is not None else []
            # The run's state as first recorded (e.g. whether the table was empty), not as it is now.
            new_state = dict(checkpoint.state, refused=[*earlier, *(as_json(r) for r in refused)])
            return Checkpoint(chunk.end, counters, new_state)

        if self.group_started is None:
            self.group_started = time.monotonic()
        applied = target.apply_chunk(rec.write, finalize)
        if applied.state.get("refused") and job.errors.stop_at_first_error:
            first = self._commit(target).state["refused"][0]
            raise ImportFailed("run.first_error", _first_error(first))
        return applied

    def _store_refused(self, checkpoint: Checkpoint) -> list[Reject]:
        refused = [from_json(r) for r in checkpoint.state.get("refused", [])]
        self.store.add_rejects(self.ex.run_id, refused)
        return refused

    def _progress(self, checkpoint: Checkpoint, *, force: bool = False) -> None:
        """Tell the store (at most every quarter second, or when forced) and the watcher (every chunk)."""
        clock, total = self.clock, self.total_bytes
        c = checkpoint.counters
        done = checkpoint.position.offset
        rate = clock.rate(c.read)
        eta = clock.eta(done, total)
        now = time.monotonic()
        if force or now - self.last_progress_write >= PROGRESS_WRITE_SECONDS:
            self.last_progress_write = now
            self.store.record_progress(
                self.ex.run_id,
                c,
                lease_token=self.token,
                bytes_done=done,
                bytes_total=total,
                rate=rate,
                eta_seconds=eta,
                active_seconds=clock.active(),
            )
        if self.ex.on_progress:
            self.ex.on_progress(Progress(self.ex.job_id, c, done, total, rate, eta))
        if now - self.last_progress_log >= self.ex.settings.progress_seconds:
            self.last_progress_log = now
            if total:  # a compressed source's size is not known: no share of it, no ETA
                percent = min(100.0, round(100 * done / total, 1))  # a UTF-16 file's is estimated
                self.log("run.progress", read=c.read, rate=round(rate), percent=percent, eta=format_eta(eta))
            else:
                self.log("run.progress_unsized", read=c.read, rate=round(rate))

    def _check_threshold(self, checkpoint: Checkpoint) -> None:
        c = checkpoint.counters
        policy = self.job.errors
        if policy.max_rejects is None and policy.max_reject_percent is None:
            return
        self._progress(checkpoint, force=True)
        if policy.max_rejects is not None and c.rejected > policy.max_rejects:
            raise ImportFailed("run.threshold", {"rejected": c.rejected, "limit": policy.max_rejects})
        if policy.max_reject_percent is not None and c.rejected_percent() > policy.max_reject_percent:
            limit = f"{policy.max_reject_percent}%"
            raise ImportFailed("run.threshold", {"rejected": c.rejected, "limit": limit})

    def _stop(self, action: A, target: RunTarget, checkpoint: Checkpoint) -> Status:
        self._progress(checkpoint, force=True)
        p = checkpoint.position
        if action is A.CHUNK_BOUNDARY_CANCEL:
            target.abandon()
        params: dict[str, Any] = {"record_no": p.record_no, "line_no": p.line_no}
        if action is A.SHUTDOWN:
            params["signal"] = self.ex.shutdown.cause
        self.log(STOP_CODES[action], **params)
        stopped = self.store.transition(self.ex.job_id, action, actor=self.ex.actor, lease_token=self.token)
        if stopped.target is S.CANCELED and action is not A.CHUNK_BOUNDARY_CANCEL:  # canceled meanwhile
            target.abandon()
        return stopped.target

    def _finish(self, target: RunTarget, checkpoint: Checkpoint, *, already_applied: bool = False) -> Status:
        if not already_applied:
            checkpoint = target.finish(lambda r: _final_counters(checkpoint, r, self.job.commit))
        for column, (sequence, value) in target.sequences_moved.items():
            self.log("table.sequence_moved", column=column, sequence=sequence, value=value)
        self._store_refused(checkpoint)
        counters = checkpoint.counters
        active = self.clock.active()
        self.store.record_progress(
            self.ex.run_id,
            counters,
            lease_token=self.token,
            bytes_done=checkpoint.position.offset,
            bytes_total=checkpoint.position.offset if self.total_bytes else None,  # known at last
            active_seconds=active,
            eta_seconds=0.0,
        )
        self.log("run.summary", **counters.as_dict(), duration=format_duration(active))
        return self.store.transition(
            self.ex.job_id, A.FINISH, actor=self.ex.actor, lease_token=self.token
        ).target


def _final_counters(checkpoint: Checkpoint, result: ChunkResult, mode: CommitMode) -> Checkpoint:
    c = checkpoint.counters
    refused = [
        refused_reject(r.record_no, r.line_no, r.raw, r.column, r.value, r.message)
        for r in result.refused_records
    ]
    if mode is CommitMode.ATOMIC:  # replace the planned figures with what the apply did
        c = c.with_(
            inserted=result.inserted,
            updated=result.updated,
            deleted=result.deleted,
            unchanged=c.unchanged + result.unchanged,
            rejected=c.rejected + len(refused),
            doubles=c.doubles - result.revived,
        )
    return Checkpoint(
        checkpoint.position, c, dict(checkpoint.state, done=True, refused=[as_json(r) for r in refused])
    )


def _first_error(reject: dict[str, Any]) -> dict[str, Any]:
    """The journal's parameters for the first error: the reject's English message, and its code and
    parameters for a UI to say it in its language."""
    params = {k: reject[k] for k in ("record_no", "line_no", "message")}
    # .get: the refused rows of a checkpoint an older impex wrote have neither
    return params | {"reject_code": reject.get("code"), "reject_params": reject.get("params")}


def _never_asked(keys: pl.DataFrame) -> np.ndarray:
    raise AssertionError("rows that go out as upserts are never looked up in the table")


def _with_records(chunk: RecordChunk, frame: pl.DataFrame | None) -> pl.DataFrame | None:
    """The frame with each row's record number, line and raw bytes, for staging (atomic mode)."""
    if frame is None or frame.height == 0:
        return frame
    rows = frame["_row"].to_numpy()
    return frame.with_columns(
        pl.Series("_rec", chunk.record_nos[rows], dtype=pl.Int64),
        pl.Series("_line", chunk.line_nos(rows), dtype=pl.Int64),
        pl.Series("_raw", chunk.raw(rows), dtype=pl.Binary),
    )


__all__ = ["ImportRun", "Position"]
