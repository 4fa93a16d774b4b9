"""The fixed choices a job definition offers: column types, transforms, reconciliation and commit modes.

Plain enums, apart from the pydantic models in ``definitions``: the CLI's options use them, and
``impex --help`` should not pay for building those models.
"""

from __future__ import annotations

from enum import StrEnum


class ColumnType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    FLOAT = "float"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"


class Transform(StrEnum):
    TRIM = "trim"
    LOWER = "lower"
    UPPER = "upper"
    CAPITALIZE = "capitalize"


class Operation(StrEnum):
    INSERT = "insert"
    UPDATE = "update"
    UPSERT = "insert_or_update"
    INSERT_NEW = "insert_only_new"
    DELETE = "delete"


class DoublesPolicy(StrEnum):
    """Same key twice in the file: a record whose key an earlier record of the file applied."""

    LAST_WINS = "last_wins"
    REJECT = "reject"
    IGNORE = "ignore"


class DuplicatesPolicy(StrEnum):
    """Key already in the table, for ``insert``."""

    REJECT = "reject"
    IGNORE = "ignore"
    UPDATE = "update"


class CommitMode(StrEnum):
    INCREMENTAL = "incremental"
    ATOMIC = "atomic"
