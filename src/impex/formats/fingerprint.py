"""What tells a resumed import that its source file is still the one its first records came from.

A checkpoint is a byte offset into the file: in another file (replaced, cut short, grown, rewritten)
that offset points at other records, or into the middle of one. The fingerprint is cheap whatever the
file's size: its size, and a digest of its first and last 64 KiB (a compressed file's last bytes hold
the checksum and length of all its content). A copy of the same bytes keeps it; a new modification
time alone does not change it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SAMPLE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Fingerprint:
    size: int
    digest: str  # of the first and the last SAMPLE_BYTES

    @classmethod
    def of(cls, path: str | Path) -> Fingerprint:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            digest = hashlib.sha256(f.read(SAMPLE_BYTES))
            if size > SAMPLE_BYTES:
                f.seek(max(SAMPLE_BYTES, size - SAMPLE_BYTES))
                digest.update(f.read(SAMPLE_BYTES))
        return cls(size, digest.hexdigest())

    def as_dict(self) -> dict[str, Any]:
        return {"size": self.size, "digest": self.digest}

    @classmethod
    def from_dict(cls, saved: dict[str, Any]) -> Fingerprint:
        return cls(int(saved["size"]), str(saved["digest"]))
