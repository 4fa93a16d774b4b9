"""Start writing a database file's new pages to disk while the load goes on, without waiting.

A commit waits until every page written since the last one is on disk. Left alone, the kernel keeps
those pages in memory until then, and the commit pays for writing all of them at once while the
reading thread, a few chunks ahead, has nothing left to do. Asking for the write-out after each chunk
(Linux's ``sync_file_range``, as PostgreSQL's ``backend_flush_after`` does) lets the disk work
alongside, so the commit finds little left. Durability is unchanged: the commit still syncs.

The request goes through SQLite's own descriptor of the file, found when the connection opens it.
A descriptor of our own would not do: closing any descriptor of a file drops every POSIX lock the
process holds on it, those of the other connections of this process included, and SQLite's locks are
POSIX locks. Where the call or the descriptor cannot be had (not Linux, say), this does nothing.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from pathlib import Path

SYNC_FILE_RANGE_WRITE = 2  # start write-out of dirty pages not already under write-out; do not wait
_FDS = Path("/proc/self/fd")


def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    try:
        call = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (AttributeError, OSError):
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    call.restype = ctypes.c_int
    return call


_CALL = _sync_file_range()


def descriptors_of(path: Path) -> set[int]:
    """This process's open descriptors of ``path`` (none where that cannot be known)."""
    if _CALL is None:
        return set()
    target = os.path.realpath(path)
    try:
        names = os.listdir(_FDS)
    except OSError:
        return set()
    found = set()
    for name in names:
        try:
            if os.readlink(_FDS / name) == target:
                found.add(int(name))
        except OSError:  # closed meanwhile
            continue
    return found


class Writeback:
    """Write-out requests for a database file, through a descriptor its connection opened."""

    def __init__(self, path: Path, before: set[int]) -> None:
        """``before``: the file's descriptors before the connection opened it (``descriptors_of``)."""
        opened = descriptors_of(path) - before
        self._fd: int | None = None
        self._inode = (0, 0)
        if opened:
            try:
                self._inode = _inode(os.stat(path))
            except OSError:  # gone meanwhile: nothing to write out
                return
            self._fd = max(opened)

    @property
    def active(self) -> bool:
        return self._fd is not None

    def start(self) -> None:
        """Ask the kernel to start writing the file's dirty pages; returns at once."""
        if self._fd is None or _CALL is None:
            return
        try:
            still_ours = _inode(os.fstat(self._fd)) == self._inode
        except OSError:
            still_ours = False
        if still_ours:
            _CALL(self._fd, 0, 0, SYNC_FILE_RANGE_WRITE)

    def stop(self) -> None:
        """Before the connection closes its descriptor: no request goes through it any more."""
        self._fd = None


def _inode(stat: os.stat_result) -> tuple[int, int]:
    return stat.st_dev, stat.st_ino
