"""The set of key hashes a run has applied so far: finds doubles across chunks.

Sorted NumPy runs merged like a log-structured tree: adding a chunk costs a sort of the chunk and,
now and then, a merge (timsort merges two sorted runs in linear time); membership is a binary
search per level with the probes sorted first, so that searches walk the arrays in order.
8 bytes a key. Integer keys are their own hash, so ascending ids cost almost nothing.
"""

from __future__ import annotations

import numpy as np


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    values = np.sort(values, kind="stable")
    if len(values) > 1:
        keep = np.empty(len(values), dtype=bool)
        keep[0] = True
        np.not_equal(values[1:], values[:-1], out=keep[1:])
        if not keep.all():
            values = values[keep]
    return values


class KeySet:
    def __init__(self, initial: np.ndarray | None = None) -> None:
        self._levels: list[np.ndarray] = []
        if initial is not None and len(initial):
            self.add(initial)

    def __len__(self) -> int:
        return sum(len(level) for level in self._levels)

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        hashes = np.asarray(hashes, dtype=np.int64)
        found = np.zeros(len(hashes), dtype=bool)
        if not self._levels or not len(hashes):
            return found
        ascending = bool(np.all(hashes[1:] >= hashes[:-1]))
        order = None if ascending else np.argsort(hashes, kind="stable")
        probes = hashes if order is None else hashes[order]
        hit = np.zeros(len(probes), dtype=bool)
        for level in self._levels:
            pos = np.searchsorted(level, probes)
            np.minimum(pos, len(level) - 1, out=pos)
            hit |= level[pos] == probes
        if order is None:
            return hit
        found[order] = hit
        return found

    def add(self, hashes: np.ndarray) -> None:
        if not len(hashes):
            return
        run = _sorted_unique(np.asarray(hashes, dtype=np.int64))
        while self._levels and len(self._levels[-1]) <= 2 * len(run):
            run = _sorted_unique(np.concatenate([self._levels.pop(), run]))
        self._levels.append(run)
