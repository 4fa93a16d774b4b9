"""The store's typed errors, in a module of their own: the CLI catches them without loading SQLAlchemy."""

from __future__ import annotations


class JobNotFound(LookupError):
    def __init__(self, job_id: int) -> None:
        super().__init__(f"no job {job_id}")
        self.job_id = job_id


class LeaseLost(RuntimeError):
    """This worker no longer holds the job: another one took it over."""


class StoreUnavailable(RuntimeError):
    """The store's database cannot be reached or opened. The message names it without its password."""


def database_message(error: BaseException) -> str:
    """The first line of the database's own message in a store error (its full text holds the SQL too)."""
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__
