"""How one text value reads as a number or a date under each convention the import knows.

Each check takes a value only if the import (``impex.validate.casts``) would take it, with the same
result: detection never types a column the import then rejects or reads otherwise.
"""

from __future__ import annotations

import re
from datetime import datetime

from impex.domain.definitions import CsvFormat

ISO_DATE: str = CsvFormat.model_fields["date_format"].default
ISO_TIMESTAMP: str = CsvFormat.model_fields["timestamp_format"].default

# A code, not a number: a leading zero (a zip code, an account number: 01234 would lose its 0), or
# more digits than a 64-bit integer holds (a float would round them).
CODE_LIKE = re.compile(r"^[+-]?(0[0-9]|[0-9]{19})")
INTEGER_TEXT = re.compile(r"^[+-]?[0-9]+$")
# Python's float() also takes '1_000' and other scripts' digits, which the import refuses.
_NUMBER_TEXT = re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")

Style = tuple[str, str | None]  # decimal separator, thousands separator
# Spaces group thousands in much of Europe: a plain one, a no-break space (U+00A0) or a narrow
# no-break space (U+202F, French); an apostrophe in Switzerland, typed or typographic (U+2019).
SPACES = (" ", "\u00a0", "\u202f")
APOSTROPHES = ("'", "\u2019")
STYLES: tuple[Style, ...] = (
    (".", None),
    (".", ","),
    *((".", a) for a in APOSTROPHES),
    *((".", s) for s in SPACES),
    (",", None),
    (",", "."),
    *((",", s) for s in SPACES),
)


def _grouped(thousands: str, decimal: str) -> re.Pattern[str]:
    # Stricter than the import's check: a first group of '0' ('0.125') is no thousands grouping.
    t, d = re.escape(thousands), re.escape(decimal)
    return re.compile(rf"^[+-]?[1-9][0-9]{{0,2}}(?:{t}[0-9]{{3}})+(?:{d}[0-9]*)?$")


_GROUPED: dict[Style, re.Pattern[str]] = {(d, t): _grouped(t, d) for d, t in STYLES if t is not None}


def number_reading(value: str, style: Style) -> str | None:
    """``value`` in Python's notation when it is a number under ``style``, else None (codes too)."""
    decimal, thousands = style
    text = value
    if thousands is not None and thousands in text:
        grouped = _GROUPED.get(style) or _grouped(thousands, decimal)
        if not grouped.match(text):
            return None
        text = text.replace(thousands, "")
    if decimal != ".":
        if "." in text:  # the import refuses a '.' that is not the thousands separator
            return None
        text = text.replace(decimal, ".")
    if not _NUMBER_TEXT.match(text) or CODE_LIKE.match(text):
        return None
    if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        return None
    return text


_D, _M, _Y = r"(?P<d>[0-9]{1,2})", r"(?P<m>[0-9]{1,2})", r"(?P<y>[0-9]{4})"
# A two-digit year only after a two-digit day and month ('05.01.24'): '1.2.10' is a version number.
_DD, _MM, _YY = r"(?P<d>[0-9]{2})", r"(?P<m>[0-9]{2})", r"(?P<y>[0-9]{2})"
DATE_SHAPES: dict[str, re.Pattern[str]] = {
    ISO_DATE: re.compile(r"(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})"),
    "%d.%m.%Y": re.compile(rf"{_D}\.{_M}\.{_Y}"),
    "%d/%m/%Y": re.compile(rf"{_D}/{_M}/{_Y}"),
    "%m/%d/%Y": re.compile(rf"{_M}/{_D}/{_Y}"),
    "%Y/%m/%d": re.compile(rf"{_Y}/{_M}/{_D}"),
    "%d-%m-%Y": re.compile(rf"{_D}-{_M}-{_Y}"),
    "%d.%m.%y": re.compile(rf"{_DD}\.{_MM}\.{_YY}"),
    "%d/%m/%y": re.compile(rf"{_DD}/{_MM}/{_YY}"),
    "%m/%d/%y": re.compile(rf"{_MM}/{_DD}/{_YY}"),
}
_TIMES = {
    " %H:%M:%S": r" (?P<H>[0-9]{1,2}):(?P<I>[0-9]{2}):(?P<S>[0-9]{2})",
    " %H:%M": r" (?P<H>[0-9]{1,2}):(?P<I>[0-9]{2})",
}
_ISO_DAY = r"(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})"
_ISO_TIME = r"(?P<H>[0-9]{2}):(?P<I>[0-9]{2})"
_SECONDS = r":(?P<S>[0-9]{2})(?:\.[0-9]{1,9})?"
_OFFSET = r"(?:Z|[+-](?:[01][0-9]|2[0-3])(?::?[0-5][0-9])?)"
# ISO timestamps with seconds and no offset are read by the default format, which takes a 'T' and a
# fraction of a second too. One with an offset ('Z', '+02', '+0200', '+02:00') is a moment: the import
# stores it converted to UTC (see ``impex.validate.casts``); '%.f' takes a fraction or none.
TIMESTAMP_SHAPES: dict[str, re.Pattern[str]] = {
    **{
        date + time: re.compile(shape.pattern + time_shape)
        for date, shape in DATE_SHAPES.items()
        if date != ISO_DATE
        for time, time_shape in _TIMES.items()
    },
    "%Y-%m-%d %H:%M": re.compile(rf"{_ISO_DAY} {_ISO_TIME}"),
    "%Y-%m-%dT%H:%M": re.compile(rf"{_ISO_DAY}T{_ISO_TIME}"),
    "%Y-%m-%dT%H:%M:%S%.f%z": re.compile(rf"{_ISO_DAY}T{_ISO_TIME}{_SECONDS}{_OFFSET}"),
    "%Y-%m-%d %H:%M:%S%.f%z": re.compile(rf"{_ISO_DAY} {_ISO_TIME}{_SECONDS}{_OFFSET}"),
}
_ISO_TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?$")


def two_digit_year(form: str) -> bool:
    """Whether ``form`` reads a year of two digits, which detection never chooses by itself."""
    return "%y" in form


def _real(match: re.Match[str] | None) -> bool:
    if match is None:
        return False
    y, m, d, hour, minute, second = (int(match.groupdict().get(k) or 0) for k in "ymdHIS")
    try:
        datetime(y, m, d, hour, minute, second)
    except ValueError:
        return False
    return True


def date_formats(value: str) -> set[str]:
    """The known date formats ``value`` is a real date in."""
    if not value[:1].isdigit():
        return set()
    return {name for name, shape in DATE_SHAPES.items() if _real(shape.fullmatch(value))}


def timestamp_formats(value: str) -> set[str]:
    """The known timestamp formats ``value`` is a real moment in (the default one for ISO 8601)."""
    if not value[:1].isdigit():
        return set()
    found = {name for name, shape in TIMESTAMP_SHAPES.items() if _real(shape.fullmatch(value))}
    if _is_iso_timestamp(value):
        found.add(ISO_TIMESTAMP)
    return found


def _is_iso_timestamp(value: str) -> bool:
    if not _ISO_TIMESTAMP.match(value):
        return False
    try:
        datetime.fromisoformat(value[:26])  # Python reads at most 6 fraction digits
    except ValueError:
        return False
    return True


def is_date(value: str, date_format: str) -> bool:
    """Whether the import reads ``value`` as a date in ``date_format``."""
    shape = DATE_SHAPES.get(date_format)
    if shape is not None:
        return _real(shape.fullmatch(value))
    return _strptime(value, date_format)


def is_timestamp(value: str, timestamp_format: str) -> bool:
    """Whether the import reads ``value`` as a timestamp in ``timestamp_format``."""
    if timestamp_format == ISO_TIMESTAMP:
        return _is_iso_timestamp(value)
    shape = TIMESTAMP_SHAPES.get(timestamp_format)
    if shape is not None:
        return _real(shape.fullmatch(value))
    return _strptime(value, timestamp_format)


def _strptime(value: str, form: str) -> bool:
    """A format no shape above knows (given by the user): Python's parser stands in for Polars'."""
    try:
        datetime.strptime(value, form)
    except ValueError:
        return False
    return True
