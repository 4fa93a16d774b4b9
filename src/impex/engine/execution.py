"""What every run gets from the process running it, and how it ends."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from impex.domain.counters import Counters
from impex.domain.status import A, Action, S, Status
from impex.settings import Settings
from impex.store.errors import LeaseLost
from impex.store.records import Claim
from impex.store.store import Store
from impex.targets.base import FencedOut

# The store's database is down or unreachable (or, for SQLite, locked past its busy timeout).
STORE_DOWN = (sa.exc.OperationalError, sa.exc.InterfaceError)


class Shutdown(threading.Event):
    """Set when the process running jobs is told to stop; remembers why (e.g. "SIGTERM")."""

    cause = "a shutdown request"

    def request(self, cause: str) -> None:
        self.cause = cause
        self.set()


@dataclass(frozen=True)
class Progress:
    job_id: int
    counters: Counters
    bytes_done: int
    bytes_total: int | None
    rate: float
    eta_seconds: float | None


def run_key(store: Store, job_id: int, run_no: int) -> str:
    """What names a run in its target: its checkpoint row and its own tables."""
    return f"{store.store_id}:{job_id}:{run_no}"


@dataclass
class Execution:
    store: Store
    settings: Settings
    claim: Claim
    actor: str  # who runs it, for the journal: "worker host:pid"
    shutdown: Shutdown = field(default_factory=Shutdown)
    lease_lost: threading.Event = field(default_factory=threading.Event)
    on_progress: Callable[[Progress], None] | None = None
    store_lost: bool = False  # the run stopped because the store could not be reached

    @property
    def job_id(self) -> int:
        return self.claim.job.id

    @property
    def run_id(self) -> int:
        return self.claim.run.id

    @property
    def run_key(self) -> str:
        return run_key(self.store, self.claim.job.id, self.claim.run.run_no)

    def requested_stop(self) -> Action | None:
        """At a chunk boundary: was the run told to pause, cancel or shut down? An operator's pause or
        cancel asked for before a shutdown is the one carried out (and journaled): a canceled run
        leaves nothing behind, which a shutdown would keep for the resume."""
        if self.lease_lost.is_set():
            raise RunTakenOver(f"job {self.job_id}: another worker took it over")
        status = self.store.status_of(self.job_id)
        if status is S.PAUSING:
            return A.CHUNK_BOUNDARY_PAUSE
        if status is S.CANCELING:
            return A.CHUNK_BOUNDARY_CANCEL
        if status is not S.RUNNING:
            raise RunTakenOver(f"job {self.job_id} is {status.value}; this worker no longer runs it")
        if self.shutdown.is_set():
            return A.SHUTDOWN
        return None


def technical_error(error: BaseException) -> str:
    """A run's technical error as its journal says it: the system's words and the file for an OS
    error, impex's own message for its own errors, else the exception's type and message."""
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    if type(error).__module__.startswith("impex."):
        return str(error)
    return f"{type(error).__name__}: {error}"


class RunTakenOver(RuntimeError):
    """The job is no longer this process's to run (lease lost or recovered elsewhere)."""


def ends_the_run(error: BaseException) -> bool:
    """Whether ``error`` ends the run with errors: any, a bug or a Polars panic (a BaseException) too,
    but those saying that the run is no longer this process's to end (another took it over, the store
    cannot be reached: it resumes elsewhere or later) or that the process itself must exit."""
    not_ours = (RunTakenOver, LeaseLost, FencedOut, *STORE_DOWN, KeyboardInterrupt, SystemExit)
    return not isinstance(error, not_ours)


STOP_CODES: dict[Action, str] = {
    A.CHUNK_BOUNDARY_PAUSE: "run.paused",
    A.CHUNK_BOUNDARY_CANCEL: "run.canceled",
    A.SHUTDOWN: "run.shutdown",
}

Outcome = Status
