"""Reject reasons and the reject record: errors as data, never only a string."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Reason(StrEnum):
    TYPE_ERROR = "type_error"
    MISSING_REQUIRED = "missing_required"
    TOO_LONG = "too_long"
    WRONG_FIELD_COUNT = "wrong_field_count"
    BAD_ENCODING = "bad_encoding"
    UNTERMINATED_QUOTE = "unterminated_quote"
    DUPLICATE_KEY = "duplicate_key"  # key already in the table
    DOUBLE = "double"  # same key earlier in the file
    KEY_NOT_FOUND = "key_not_found"  # update/delete of a key the table does not have
    MISSING_KEY = "missing_key"  # a key column is empty
    CONSTRAINT = "constraint"  # refused by the database itself


@dataclass(frozen=True)
class Reject:
    """One record that could not be processed."""

    record_no: int  # 1-based among the file's data records
    line_no: int  # 1-based physical line where the record starts
    raw: bytes  # the record exactly as in the file, without its line ending
    reason: Reason
    column: str | None
    value: str | None
    message: str
