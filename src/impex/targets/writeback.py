"""Start writing a file's new pages to disk while the load goes on, without waiting for them.

A commit waits until every page written since the last one is on disk. Left alone, the kernel keeps
those pages in memory until then, and the commit pays for writing all of them at once while the
reading thread, a few chunks ahead, has nothing left to do. Asking for the write-out after each chunk
(Linux's ``sync_file_range``, as PostgreSQL's ``backend_flush_after`` does) lets the disk work
alongside, so the commit finds little left. Durability is unchanged: the commit still syncs. Where
the call does not exist (not Linux), this does nothing.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from pathlib import Path

SYNC_FILE_RANGE_WRITE = 2  # start write-out of dirty pages not already under write-out; do not wait


def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    try:
        call = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (AttributeError, OSError):
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    call.restype = ctypes.c_int
    return call


_CALL = _sync_file_range()


class Writeback:
    """Write-out requests for one file (any descriptor of a file reaches its pages)."""

    def __init__(self, path: Path) -> None:
        self._fd: int | None = None
        if _CALL is not None:
            try:
                self._fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:  # nothing to gain is no reason to fail a load
                self._fd = None

    @property
    def active(self) -> bool:
        return self._fd is not None

    def start(self) -> None:
        """Ask the kernel to start writing the file's dirty pages; returns at once."""
        if self._fd is not None and _CALL is not None:
            _CALL(self._fd, 0, 0, SYNC_FILE_RANGE_WRITE)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
