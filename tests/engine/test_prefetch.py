"""Prefetch: the next item is produced in a thread while the caller works on the current one."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from impex.engine.prefetch import Prefetch


def test_items_arrive_in_order_and_all_of_them() -> None:
    with Prefetch(range(50)) as items:
        assert list(items) == list(range(50))


def test_the_next_item_is_produced_while_the_caller_works() -> None:
    produced = threading.Event()

    def items() -> Iterator[int]:
        yield 1
        produced.set()  # reached only when item 2 is asked for
        yield 2

    with Prefetch(items()) as it:
        assert next(it) == 1
        assert produced.wait(5), "item 2 was not produced while the caller held item 1"


@pytest.mark.parametrize("ahead", [1, 2])
def test_at_most_ahead_items_are_produced_beyond_the_one_the_caller_holds(ahead: int) -> None:
    started: list[int] = []

    def items() -> Iterator[int]:
        for i in range(10):
            started.append(i)
            yield i

    with Prefetch(items(), ahead=ahead) as it:
        assert next(it) == 0
        time.sleep(0.3)  # the producer has all the time it wants
        # items 1..ahead are ready; the next one waits until the caller takes item 1
        assert started == list(range(ahead + 1))
        assert next(it) == 1
        deadline = time.monotonic() + 5
        while len(started) < ahead + 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        assert started == list(range(ahead + 2))


def test_an_error_of_the_producer_is_raised_in_the_caller() -> None:
    def items() -> Iterator[int]:
        yield 1
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"), Prefetch(items()) as it:
        for _ in it:
            pass


def test_leaving_early_stops_the_producer() -> None:
    def endless() -> Iterator[int]:
        i = 0
        while True:
            yield i
            i += 1

    prefetch = Prefetch(endless())
    with prefetch as it:
        assert next(it) == 0
    assert not prefetch._thread.is_alive()
