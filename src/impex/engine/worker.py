"""A process that runs jobs: claims queued ones, runs several at once, renews their leases, and stops
them at a chunk boundary with ``server_shutdown`` on SIGTERM/SIGINT (they resume when impex starts again).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING

from impex.domain import journal
from impex.domain.journal import Level
from impex.domain.status import ACTIVE, A, Status
from impex.engine.actions import discard_leftovers
from impex.engine.execution import STORE_DOWN, Execution, Progress, RunTakenOver, Shutdown, ends_the_run
from impex.settings import Settings
from impex.store.errors import database_message
from impex.store.records import Claim
from impex.store.store import LeaseLost, Store
from impex.targets.base import FencedOut

if TYPE_CHECKING:
    from impex.engine.exporter import ExportRun
    from impex.engine.importer import ImportRun


log = logging.getLogger("impex.worker")
STORE_RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)  # waits between attempts, the last one repeated


class StoreOutage:
    """The waits of a worker that cannot reach its store, and what it says about them (once when the
    outage begins, once when it ends)."""

    def __init__(self) -> None:
        self.attempts = 0

    def wait(self, error: BaseException) -> float:
        if self.attempts == 0:
            cause = database_message(error)
            log.warning("the store cannot be reached (%s); trying again until it can", cause)
        wait = STORE_RETRY_SECONDS[min(self.attempts, len(STORE_RETRY_SECONDS) - 1)]
        self.attempts += 1
        return wait

    def over(self) -> None:
        if self.attempts:
            log.warning("the store can be reached again")
        self.attempts = 0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_claim(ex: Execution) -> Status | None:
    """Run one claimed job to its next stop; None when another worker took it over."""
    try:
        return _runner(ex).execute()
    except (RunTakenOver, LeaseLost, FencedOut):
        return None
    except STORE_DOWN as error:
        # Nothing can be recorded: the run stops here as a crash would stop it. Its lease runs out,
        # and the worker that reaches the store first takes it over from its last checkpoint.
        log.warning(
            "job %s: the store cannot be reached (%s); the run stops here", ex.job_id, database_message(error)
        )
        ex.store_lost = True
        return None
    except BaseException as error:  # an unexpected bug must not leave the job "running" forever
        if not ends_the_run(error):
            raise
        try:
            ex.store.log(ex.job_id, ex.run_id, Level.ERROR, "run.error", {"error": repr(error)}, ex.actor)
            return ex.store.transition(
                ex.job_id, A.FAIL, actor=ex.actor, lease_token=ex.claim.lease_token
            ).target
        except Exception:
            return None


def _runner(ex: Execution) -> ImportRun | ExportRun:
    # Each kind loads its own engine (and database drivers) only when a job of it runs.
    if ex.claim.job.kind == "import":
        from impex.engine.importer import ImportRun

        return ImportRun(ex)
    from impex.engine.exporter import ExportRun

    return ExportRun(ex)


def recover(store: Store, settings: Settings, actor: str, only: int | None = None) -> None:
    """Queue again what dead workers (no heartbeat for a lease) or shut-down ones left behind (or
    only job ``only`` of it: a process running one job in the foreground leaves the rest to workers).
    A job that was canceling is canceled, and what its run left behind goes, as its worker would have
    removed it."""
    for job_id, t, previous, run_id in store.recover(actor=actor, include_shutdown=True, only=only):
        reason = journal.SERVER_SHUTDOWN if t.source is Status.SERVER_SHUTDOWN else journal.LEASE_RAN_OUT
        params = {"worker": actor, "reason": reason, "previous": previous or "none"}
        store.log(job_id, run_id, Level.INFO, "worker.takeover", params, actor)
        if t.target is Status.CANCELED:
            discard_leftovers(store, settings, job_id, actor=actor)


@dataclass
class Worker:
    store: Store
    settings: Settings
    queues: Sequence[str] = ("default",)
    concurrency: int = 2
    name: str = field(default_factory=worker_name)
    on_progress: Callable[[Progress], None] | None = None
    shutdown: Shutdown = field(default_factory=Shutdown)
    _running: dict[int, tuple[threading.Thread, Execution]] = field(default_factory=dict)
    outcomes: dict[int, Status | None] = field(default_factory=dict)

    @property
    def actor(self) -> str:
        return f"worker {self.name}"

    def install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT: each job stops at its next chunk boundary. A second one, when a run does
        not reach one (a locked or silent database), stops the process at once, as kill -9 would:
        every run goes on from its checkpoint when it is taken over."""

        def stop(signum: int, _frame: FrameType | None) -> None:
            name = signal.Signals(signum).name
            # The second one is the system's to carry out: a Python handler runs only once the main
            # thread is back from what it waits in (a locked database), which may be long. Handed over
            # before the message, so that a second signal sent once it is read cannot come here.
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            log.warning("%s: each job stops at its next chunk boundary (%s again stops at once)", name, name)
            self.shutdown.request(name)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    def start(self, claim: Claim) -> Execution:
        ex = Execution(
            self.store, self.settings, claim, self.actor, self.shutdown, on_progress=self.on_progress
        )

        def target() -> None:
            outcome = run_claim(ex)
            if not ex.store_lost:  # else the job is not over: it resumes once the store is back
                self.outcomes[claim.job.id] = outcome

        thread = threading.Thread(target=target, name=f"job-{claim.job.id}", daemon=True)
        self._running[claim.job.id] = (thread, ex)
        thread.start()
        return ex

    def _reap(self) -> None:
        for job_id, (thread, _ex) in list(self._running.items()):
            if not thread.is_alive():
                thread.join()
                del self._running[job_id]

    def _heartbeat(self) -> None:
        runs = {ex.run_id: ex for _t, ex in self._running.values()}
        lost = self.store.heartbeat(self.name, runs, self.settings.lease_seconds)
        for run_id in lost:
            runs[run_id].lease_lost.set()

    def serve(self, *, exit_when_idle: bool = False) -> None:
        """Claim and run jobs until shut down (or, with ``exit_when_idle``, until nothing is left).
        While the store cannot be reached, the worker waits for it, trying again and again."""
        last_beat = last_recover = -float("inf")
        outage = StoreOutage()
        while not self.shutdown.is_set():
            try:
                self._reap()
                now = time.monotonic()
                if now - last_beat >= self.settings.heartbeat_seconds:
                    self._heartbeat()
                    last_beat = now
                if now - last_recover >= self.settings.lease_seconds / 2:
                    recover(self.store, self.settings, self.actor)
                    last_recover = now
                claimed = False
                if len(self._running) < self.concurrency:
                    claim = self.store.claim_next(self.name, self.queues, self.settings.lease_seconds)
                    if claim is not None:
                        self.start(claim)
                        claimed = True
                idle = not claimed and not self._running
                if exit_when_idle and idle and not self.store.has_work(self.queues):
                    break
                outage.over()
            except STORE_DOWN as error:
                self.shutdown.wait(outage.wait(error))
                continue
            if not claimed:
                self.shutdown.wait(self.settings.poll_seconds)
        self.drain()

    def run_one(self, job_id: int) -> Status | None:
        """Run one job in the foreground until it stops (finished, paused, canceled, shut down…).
        While the store cannot be reached, wait for it as ``serve`` does; the job then resumes."""
        outage = StoreOutage()
        recovered = False
        while True:
            try:
                if not recovered:
                    recover(self.store, self.settings, self.actor, only=job_id)
                    recovered = True
                stopped, status = self._step_one(job_id)
                outage.over()
            except STORE_DOWN as error:
                if self.shutdown.wait(outage.wait(error)):
                    raise  # stopped while the store is away: nothing more can be done or recorded
                continue
            if stopped:
                return status

    def _step_one(self, job_id: int) -> tuple[bool, Status | None]:
        """One look at the job run in the foreground: (whether it has stopped, its status)."""
        self._reap()
        if job_id in self.outcomes and job_id not in self._running:
            return True, self.outcomes[job_id]
        if job_id not in self._running:
            status = self.store.status_of(job_id)
            if status is Status.QUEUED:
                claim = self.store.claim_job(job_id, self.name, self.settings.lease_seconds)
                if claim is not None:
                    self.start(claim)
            elif status not in ACTIVE:
                return True, status
            else:  # still held by a process that may be dead (or by this one, cut off from the store)
                recover(self.store, self.settings, self.actor, only=job_id)
        self._heartbeat()
        if job_id in self._running:
            self._running[job_id][0].join(timeout=min(self.settings.heartbeat_seconds, 0.5))
        else:
            self.shutdown.wait(self.settings.poll_seconds)
            if self.shutdown.is_set():
                return True, self.store.status_of(job_id)
        return False, None

    def drain(self) -> None:
        """Wait for every run to reach its stop, renewing leases meanwhile (when the store answers)."""
        while self._running:
            with contextlib.suppress(*STORE_DOWN):
                self._heartbeat()
            for thread, _ex in list(self._running.values()):
                thread.join(timeout=self.settings.heartbeat_seconds)
            self._reap()
