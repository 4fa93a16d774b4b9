"""Produce the next item in a background thread while the caller works on the current one.

Parsing and validating chunk N+1 (Polars and NumPy release the GIL) overlaps with the database
commit of chunk N, so the two cores both work. The producer runs at most ``ahead`` items ahead of the
one the caller holds, which bounds peak memory. One item ahead leaves a core idle whenever one
chunk takes longer than the other side's: two absorb that, at the cost of one more chunk alive.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")
_END = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class Prefetch(Generic[T]):
    def __init__(self, items: Iterable[T], *, ahead: int = 1) -> None:
        self._items = items
        self._queue: queue.Queue[object] = queue.Queue(maxsize=ahead)
        self._taken = threading.Semaphore(ahead)  # released each time the caller takes an item
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name="prefetch", daemon=True)

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _wait_taken(self) -> bool:
        while not self._stop.is_set():
            if self._taken.acquire(timeout=0.05):
                return True
        return False

    def _produce(self) -> None:
        try:
            items = iter(self._items)
            while self._wait_taken():
                item = next(items, _END)
                if not self._put(item) or item is _END:
                    return
        except BaseException as error:  # handed to the consumer, raised there
            self._put(_Failure(error))

    def __enter__(self) -> Iterator[T]:
        self._thread.start()
        return self._consume()

    def _consume(self) -> Iterator[T]:
        while True:
            item = self._queue.get()
            self._taken.release()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item  # type: ignore[misc]

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
