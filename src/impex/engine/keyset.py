"""The set of key hashes a run has applied so far: finds doubles across chunks.

Kept as sorted, disjoint intervals of int64 values, in a few levels merged like a log-structured
tree. Integer keys are their own hash, so ascending ids (the usual bulk load) collapse into a handful
of intervals and the set stays tiny however long the file; scattered hashes cost 16 bytes a key.
Adding sorts the chunk and now and then merges levels; membership is one binary search per level.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]


def _intervals(starts: I64, ends: I64) -> tuple[I64, I64]:
    """The union of closed intervals, as sorted disjoint ones (adjacent ones joined)."""
    order = np.argsort(starts, kind="stable")
    s, e = starts[order], ends[order]
    reach = np.maximum.accumulate(e)
    begins = np.ones(len(s), dtype=bool)
    # A new interval begins where the start lies beyond everything so far and is not adjacent to it.
    # (The difference may wrap around at the int64 ends; it equals 1 only for true neighbours.)
    np.greater(s[1:], reach[:-1], out=begins[1:])
    begins[1:] &= (s[1:] - reach[:-1]) != 1
    at = np.flatnonzero(begins)
    return s[at], np.maximum.reduceat(e, at)


class KeySet:
    def __init__(self, initial: np.ndarray | None = None) -> None:
        self._levels: list[tuple[I64, I64]] = []
        if initial is not None and len(initial):
            self.add(initial)

    def __len__(self) -> int:
        """Intervals held (not keys): what the memory use depends on."""
        return sum(len(starts) for starts, _ in self._levels)

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        values = np.asarray(hashes, dtype=np.int64)
        found = np.zeros(len(values), dtype=bool)
        for starts, ends in self._levels:
            at = np.searchsorted(starts, values, side="right") - 1
            inside = at >= 0
            inside[inside] = values[inside] <= ends[at[inside]]
            found |= inside
        return found

    def add(self, hashes: np.ndarray) -> None:
        if not len(hashes):
            return
        values = np.asarray(hashes, dtype=np.int64)
        starts, ends = _intervals(values, values)
        while self._levels and len(self._levels[-1][0]) <= 2 * len(starts):
            old_starts, old_ends = self._levels.pop()
            starts, ends = _intervals(np.concatenate([old_starts, starts]), np.concatenate([old_ends, ends]))
        self._levels.append((starts, ends))
