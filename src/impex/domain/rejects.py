"""Reject reasons, the reject record and its messages: errors as data, never only a string.

A reject's message is a code and its parameters (so that a UI can say it in its language) as well as
the English text rendered from them, which the CLI, the API and the rejects file show."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from impex.domain import messages


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
    code: str | None = None  # the message's key in MESSAGES; None for a reject kept without one
    params: Mapping[str, Any] = field(default_factory=dict)


SHOWN_CHARACTERS = 40  # a longer value is cut in messages (the reject keeps the raw record anyway)


def visible(text: str) -> str:
    """``text`` with the characters that show as nothing (a BOM inside a file, a zero-width space,
    controls) written as escapes: '\\ufeff2', not a '2' that looks valid."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " else c.encode("unicode_escape").decode() for c in text)


def shown_value(text: str) -> str:
    """A value as a message shows it: visible, and cut after ``SHOWN_CHARACTERS`` characters."""
    return visible(text[:SHOWN_CHARACTERS] + "…" if len(text) > SHOWN_CHARACTERS else text)


# Every message follows the line it is about (a bad byte's own line, which may come after the one its
# record starts on): LINE frames each template, ``line`` is one of every message's parameters.
LINE = "line {line}: {message}"
_UNTERMINATED = "a quoted field opened on this line is never closed"
_INCH = (
    'a quote inside the field (as in 5" pipe) opens no quoted field and is never closed: '
    "quote the whole field and double that quote"
)
MESSAGES: dict[str, str] = {
    "missing_required.empty": "column {column}: a value is required (the field was empty)",
    "missing_required.blank": "column {column}: a value is required (the field was '{value}')",
    "type_error.integer": "column {column}: '{value}' is not an integer",
    "type_error.integer_range": "column {column}: '{value}' is out of the 64-bit integer range",
    "type_error.float": "column {column}: '{value}' is not a number (decimal separator {separator!r})",
    "type_error.float_range": "column {column}: '{value}' is out of the 64-bit float range",
    "type_error.float_nan": (
        "column {column}: '{value}' is NaN (not a number), which a SQLite column cannot hold: "
        "SQLite would store NULL in its place"
    ),
    "type_error.decimal": (
        "column {column}: '{value}' is not a decimal number with at most {precision} digits, "
        "{scale} of them after the decimal separator {separator!r}"
    ),
    "type_error.decimal_special": (
        "column {column}: '{value}' is no exact number, and a decimal column holds only those: "
        "declare the column float for NaN and infinities"
    ),
    "type_error.boolean": "column {column}: '{value}' is not a boolean (expected {true} or {false})",
    "type_error.date": "column {column}: '{value}' is not a date in format {format}",
    "type_error.timestamp": "column {column}: '{value}' is not a timestamp in format {format}",
    "type_error.timestamp_iso": (
        "column {column}: '{value}' is not a timestamp in format {format} or ISO 8601 without a time zone"
    ),
    "type_error.before_year_one": (
        "column {column}: '{value}' is before year 1 (there is no year 0): dates start at 0001-01-01"
    ),
    "too_long": "column {column}: '{value}' is {length} characters, at most {limit} allowed",
    "wrong_field_count": "expected {expected} fields, found {found}",
    "bad_encoding": "invalid {encoding} byte {byte} at column {position}",
    "bad_encoding.other_page": (
        "invalid {encoding} byte {byte} at column {position}; in {other} the field reads '{reading}': "
        "if the file is in {other}, give that encoding"
    ),
    "bad_encoding.nul": "a NUL byte (0x00) at column {position}: not text",
    "bad_encoding.surrogate": (
        "a lone surrogate {unit} at column {position}: half of a character, not {encoding} text"
    ),
    "bad_encoding.odd_byte": (
        "a lone byte {byte} at column {position}: the file ends in half of a {encoding} unit "
        "(an odd number of bytes)"
    ),
    "unterminated_quote": f"unterminated quote: {_UNTERMINATED}",
    "unterminated_quote.in_field": f"unterminated quote in field {{field}}: {_UNTERMINATED}",
    "quote_inside": f"unterminated quote: {_INCH}",
    "quote_inside.in_field": f"unterminated quote in field {{field}}: {_INCH}",
    "stray_quote": (
        "stray quote: a quoted field must start right after a delimiter "
        "and its closing quote be followed by a delimiter (double a quote inside a quoted field)"
    ),
    "missing_key": "key {key}: a value is required",
    "double": "key {key} = {value} appears earlier in the file",
    "duplicate_key": "key {key} = {value} is already in the table",
    "key_not_found": "key {key} = {value} is not in the table",
    # The database's own words, which no catalog can translate.
    "constraint": "refused by the database: {error}",
}
# Key columns, named in the messages as 'a and b': the list's last two joined, then the rest in front.
AND = "{names} and {name}"


def key_names(names: list[str] | tuple[str, ...], joined: str = AND) -> str:
    """Key column names as one phrase, ``joined`` (a translation of AND) putting two together."""
    text = names[0] if names else ""
    for name in names[1:]:
        text = joined.format(names=text, name=name)
    return text


def render(code: str, params: Mapping[str, Any]) -> str:
    """A message's English text, without its line."""
    return messages.render(MESSAGES, code, shown(params))


def text(code: str, params: Mapping[str, Any]) -> str:
    """A message's English text after its line, as stored with the reject."""
    return LINE.format(line=params.get("line", "?"), message=render(code, params))


def said(
    record_no: int,
    line_no: int,
    raw: bytes,
    reason: Reason,
    column: str | None,
    value: str | None,
    code: str,
    params: Mapping[str, Any],
) -> Reject:
    """A reject whose message is ``code`` with ``params`` (which name the message's line)."""
    return Reject(record_no, line_no, raw, reason, column, value, text(code, params), code, params)


def shown(params: Mapping[str, Any], joined: str = AND) -> dict[str, Any]:
    """The parameters as a template takes them: a list of key columns as one phrase."""
    out = dict(params)
    if isinstance(out.get("key"), list | tuple):
        out["key"] = key_names(out["key"], joined)
    return out
