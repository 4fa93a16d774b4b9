"""Who may do what in the web UI and the REST API. Each role includes the ones before it."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"  # reads jobs, journals, rejects
    OPERATOR = "operator"  # creates, starts, pauses and cancels jobs
    ADMIN = "admin"  # manages users and connections; may export SQL queries

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank
