"""A run's rejects go to the store in a thread of their own, while the target's thread writes rows.

The store and the target are different databases (or the same one over two connections), and both
drivers let go of the GIL while the database works: storing a chunk's rejects then costs the target's
thread nothing. The rule that makes a resume exact stays: every reject of a chunk is stored before the
target commits that chunk, because the importer calls :meth:`RejectWriter.flush` before each commit.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from types import TracebackType

from impex.domain.rejects import Reject
from impex.store.store import Store

_STOP = None


class RejectWriter:
    def __init__(self, store: Store, run_id: int) -> None:
        self._store = store
        self._run_id = run_id
        self._queue: queue.Queue[Sequence[Reject] | None] = queue.Queue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._store_all, name="rejects", daemon=True)
        self._thread.start()

    def add(self, rejects: Sequence[Reject]) -> None:
        """Store these rejects soon (an earlier failure is raised by :meth:`flush`)."""
        if rejects:
            self._queue.put(rejects)

    def flush(self) -> None:
        """Return once every reject added so far is stored; raise what stopped the storing, if anything."""
        self._queue.join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def forget(self) -> None:
        """Drop what is not stored yet (its chunks will never be committed); wait for what is under way."""
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
            self._queue.task_done()
        self._queue.join()
        self._error = None

    def _store_all(self) -> None:
        while True:
            rejects = self._queue.get()
            try:
                if rejects is _STOP:
                    return
                if self._error is None:  # after a failure, the rest waits for the caller to see it
                    self._store.add_rejects(self._run_id, rejects)
            except BaseException as error:  # raised in the importer's thread, by flush
                self._error = error
            finally:
                self._queue.task_done()

    def close(self) -> None:
        """Stop, dropping what is not stored yet: after the last commit nothing is left."""
        self.forget()
        self._queue.put(_STOP)
        self._thread.join()

    def __enter__(self) -> RejectWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
