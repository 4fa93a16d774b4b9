"""A run's counters. Cumulative; the checkpoint in the target database is their source of truth."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace


@dataclass(frozen=True)
class Counters:
    read: int = 0  # data records read from the file (or rows from the source table)
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: int = 0
    doubles: int = 0
    duplicates: int = 0
    written: int = 0  # export: rows written to the file

    def __add__(self, other: Counters) -> Counters:
        return Counters(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, int] | None) -> Counters:
        known = {f.name for f in fields(cls)}
        return cls(**{k: int(v) for k, v in (data or {}).items() if k in known})

    def with_(self, **changes: int) -> Counters:
        return replace(self, **changes)

    def rejected_percent(self) -> float:
        return 100.0 * self.rejected / self.read if self.read else 0.0
