"""The set of key hashes a run has applied so far: finds doubles across chunks.

Sorted NumPy runs merged like a log-structured tree, so adding a chunk costs O(n log n) amortised
and membership is a few binary searches; 8 bytes a key.
"""

from __future__ import annotations

import numpy as np


class KeySet:
    def __init__(self, initial: np.ndarray | None = None) -> None:
        self._levels: list[np.ndarray] = []
        if initial is not None and len(initial):
            self.add(initial)

    def __len__(self) -> int:
        return sum(len(level) for level in self._levels)

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        found = np.zeros(len(hashes), dtype=bool)
        for level in self._levels:
            pos = np.searchsorted(level, hashes)
            pos[pos == len(level)] = 0
            found |= level[pos] == hashes if len(level) else False
        return found

    def add(self, hashes: np.ndarray) -> None:
        run = np.unique(np.asarray(hashes, dtype=np.int64))
        while self._levels and len(self._levels[-1]) <= len(run):
            run = np.union1d(self._levels.pop(), run)
        self._levels.append(run)
