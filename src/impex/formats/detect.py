"""Format detection from a file's first records: encoding, delimiter, header, column types."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from impex.domain.definitions import ColumnType, CsvFormat
from impex.formats.reader import DelimitedReader
from impex.formats.sniff import guess_delimiter, resolve_encoding
from impex.formats.source import read_head

HEAD_BYTES = 1024 * 1024
INTEGER = re.compile(r"^[+-]?\d+$")
# A code, not a number: a leading zero (a zip code, an account number: 01234 would lose its 0), or
# more digits than a 64-bit integer holds (a float would round them).
CODE_LIKE = re.compile(r"^[+-]?(0\d|\d{19})")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# What the import's default timestamp format takes: seconds, a fraction, no time zone.
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?$")


@dataclass(frozen=True)
class DetectedFormat:
    """What a file looks like, from its first records.

    ``header_guess`` is what the sample suggests (None: cannot tell); ``has_header`` is that guess
    when there is one, else ``fmt.header``. ``sample`` holds the first data records as read with
    ``has_header``; ``column_types`` one inferred type per column (integer, float, boolean, date, timestamp
    or string).
    """

    encoding: str
    delimiter: str
    has_header: bool
    header_guess: bool | None
    header: list[str] | None
    sample: list[list[str | None]]
    column_types: list[ColumnType]

    @property
    def column_names(self) -> list[str]:
        """Header names, else positional names ``f1..fN``."""
        if self.header is not None:
            return self.header
        width = max((len(row) for row in self.sample), default=0)
        return [f"f{i}" for i in range(1, width + 1)]


def detect_format(
    path: str | Path, fmt: CsvFormat, sample_lines: int = 200, *, header: bool | None = None
) -> DetectedFormat:
    """Detect the format of ``path``; values given in ``fmt`` (delimiter, encoding) are kept, and so
    is ``header`` when given (None: guessed from the sample, ``fmt.header`` when it cannot tell)."""
    head, complete = read_head(path, HEAD_BYTES)
    encoding, bom = resolve_encoding(head, fmt.encoding, path)
    delimiter = fmt.delimiter or guess_delimiter(head[bom:], fmt, complete)
    plain = fmt.model_copy(update={"encoding": encoding, "delimiter": delimiter, "header": False})
    with DelimitedReader(path, plain, block_size=HEAD_BYTES) as reader:
        chunk = next(reader.chunks(sample_lines + 1), None)
        rows: list[list[str | None]] = [list(row) for row in chunk.frame.rows()] if chunk else []
    header_guess = looks_like_header(rows, fmt)
    guessed = fmt.header if header_guess is None else header_guess
    has_header = guessed if header is None else header
    names = ["" if name is None else name for name in rows[0]] if has_header and rows else None
    sample = rows[1:] if has_header else rows[:sample_lines]
    width = len(rows[0]) if rows else 0
    types = [infer_type([row[i] for row in sample], fmt) for i in range(width)]
    return DetectedFormat(encoding, delimiter, has_header, header_guess, names, sample, types)


def looks_like_header(rows: Sequence[Sequence[str | None]], fmt: CsvFormat) -> bool | None:
    """True if the first row is text where the rows below are typed, False if it has their types."""
    if len(rows) < 2:
        return None
    first, rest = rows[0], rows[1:]
    verdict: bool | None = None
    for i, name in enumerate(first):
        kind = infer_type([row[i] for row in rest], fmt)
        if kind is ColumnType.STRING:
            continue
        if name is None or infer_type([name], fmt) is not kind:
            return True
        verdict = False
    if verdict is None and len(set(first)) < len(first):
        return False  # repeated names: not a header
    return verdict


def _is_float(value: str, fmt: CsvFormat) -> bool:
    text = value.replace(fmt.thousands_separator, "") if fmt.thousands_separator else value
    text = text.replace(fmt.decimal_separator, ".")
    if CODE_LIKE.match(text):
        return False
    if text.strip().lower() in ("nan", "inf", "-inf", "infinity"):
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_date(value: str) -> bool:
    if not DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_timestamp(value: str) -> bool:
    if not TIMESTAMP.match(value):
        return False
    try:
        datetime.fromisoformat(value[:26])  # Python reads at most 6 fraction digits
    except ValueError:
        return False
    return True


def infer_type(values: Sequence[str | None], fmt: CsvFormat) -> ColumnType:
    """The narrowest type every non-empty value fits; string when none are non-empty."""
    present = [v.strip() if fmt.trim else v for v in values if v is not None]
    present = [v for v in present if v not in fmt.null_values and v != ""]
    if not present:
        return ColumnType.STRING
    booleans = {v.lower() for v in (*fmt.true_values, *fmt.false_values)}
    checks: list[tuple[ColumnType, Callable[[str], bool]]] = [
        (ColumnType.INTEGER, lambda v: bool(INTEGER.match(v)) and not CODE_LIKE.match(v)),
        (ColumnType.FLOAT, lambda v: _is_float(v, fmt)),
        (ColumnType.BOOLEAN, lambda v: v.lower() in booleans),
        (ColumnType.DATE, _is_date),
        (ColumnType.TIMESTAMP, _is_timestamp),
    ]
    for kind, check in checks:
        if all(check(v) for v in present):
            return kind
    return ColumnType.STRING
