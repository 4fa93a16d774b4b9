"""Format detection from a file's first records: encoding, delimiter, header, column types."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from impex.domain.definitions import ColumnType, CsvFormat
from impex.domain.rejects import Reject
from impex.formats.conventions import Conventions, Note, choose_conventions
from impex.formats.reader import DelimitedReader
from impex.formats.readings import (
    CODE_LIKE,
    INTEGER_TEXT,
    ISO_DATE,
    ISO_TIMESTAMP,
    is_date,
    is_timestamp,
    number_reading,
)
from impex.formats.sniff import excel_separator, guess_delimiter, resolve_encoding
from impex.formats.source import read_start

HEAD_BYTES = 1024 * 1024
MAX_TITLE_LINES = 5  # lines before a header looked past for a title


@dataclass(frozen=True)
class DetectedFormat:
    """What a file looks like, from its first records.

    ``header_guess`` is what the sample suggests (None: cannot tell); ``has_header`` is that guess
    when there is one, else ``fmt.header``. ``sample`` holds the first data records as read with
    ``has_header``; ``column_types`` one inferred type per column (integer, float, boolean, date, timestamp
    or string), read with the number and date ``conventions`` chosen for the whole file, whose ``notes``
    say why a column that looks typed is kept as text.
    """

    encoding: str
    delimiter: str
    has_header: bool
    header_guess: bool | None
    header: list[str] | None
    sample: list[list[str | None]]
    column_types: list[ColumnType]
    conventions: Conventions = field(default_factory=lambda: Conventions(".", None, ISO_DATE, ISO_TIMESTAMP))
    # The first line read as a record, when it is rejected as one: another field count than the records
    # below it (a header that does not fit them, a title line), a bad byte, a quote never closed. Read
    # as a header, it would not say which field is which.
    first_line_reject: Reject | None = None
    skip_lines: int = 0  # the lines passed over before the header (or the first record)

    @property
    def notes(self) -> list[Note | None]:
        """Per column, why it is kept as text though it looks typed (None: no note)."""
        return [self.conventions.notes.get(i) for i in range(len(self.column_types))]

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
    """Detect the format of ``path``; values given in ``fmt`` are kept: delimiter and encoding when not
    None, the number and date conventions when set (in its ``model_fields_set``). So is ``header`` when
    given (None: guessed from the sample, ``fmt.header`` when it cannot tell)."""
    start = read_start(path, HEAD_BYTES, fmt.encoding)
    head, complete = start.data, start.complete
    encoding, bom = resolve_encoding(head, fmt.encoding, path, transcoded_from=start.transcoded_from)
    directive = excel_separator(head[bom:]) if fmt.skip_lines == 0 else None
    delimiter = fmt.delimiter or (directive[0] if directive else guess_delimiter(head[bom:], fmt, complete))
    plain = fmt.model_copy(update={"encoding": encoding, "delimiter": delimiter, "header": False})
    with DelimitedReader(path, plain, block_size=HEAD_BYTES) as reader:
        chunk = next(reader.chunks(sample_lines + 1), None)
        rows: list[list[str | None]] = [list(row) for row in chunk.frame.rows()] if chunk else []
    first_rejected = chunk.rejects[0] if chunk and chunk.rejects and chunk.rejects[0].record_no == 1 else None
    width = len(rows[0]) if rows else 0
    below_first = choose_conventions(_present(rows[1:], width, fmt), fmt, delimiter)
    header_guess = looks_like_header(rows, below_first.applied(fmt))
    if header_guess:  # unless the first record shows a convention the others do not ('1.234,50')
        whole = choose_conventions(_present(rows, width, fmt), fmt, delimiter)
        header_guess = looks_like_header(rows, whole.applied(fmt)) is not False
    guessed = fmt.header if header_guess is None else header_guess
    has_header = guessed if header is None else header
    names = ["" if name is None else name for name in rows[0]] if has_header and rows else None
    sample = rows[1:] if has_header else rows[:sample_lines]
    conventions = (
        below_first if has_header else choose_conventions(_present(sample, width, fmt), fmt, delimiter)
    )
    typed = conventions.applied(fmt)
    types = [
        ColumnType.STRING if i in conventions.notes else infer_type([row[i] for row in sample], typed)
        for i in range(width)
    ]
    return DetectedFormat(
        encoding,
        delimiter,
        has_header,
        header_guess,
        names,
        sample,
        types,
        conventions,
        first_rejected,
        fmt.skip_lines,
    )


def title_lines(path: str | Path, fmt: CsvFormat, most: int = MAX_TITLE_LINES) -> int | None:
    """The lines to pass over (``skip_lines``) when a few (a report's title, its date) stand before a
    header that fits the records below it; None if none does."""
    for skip in range(fmt.skip_lines + 1, fmt.skip_lines + 1 + most):
        detected = detect_format(path, fmt.model_copy(update={"skip_lines": skip}))
        if detected.first_line_reject is None and detected.header_guess and detected.sample:
            names = detected.header or []
            # names, not values: a record read as a header would be one (1,Ann above 2,Bob)
            named = all(n and number_reading(n, (".", None)) is None for n in names)
            return skip if named and len(set(names)) == len(names) else None
    return None


def _present(rows: Sequence[Sequence[str | None]], width: int, fmt: CsvFormat) -> list[list[str]]:
    """Each column's non-empty values, as the import sees them (trimmed, null markers left out)."""
    return [_values([row[i] for row in rows if i < len(row)], fmt) for i in range(width)]


def _values(values: Sequence[str | None], fmt: CsvFormat) -> list[str]:
    present = [v.strip() if fmt.trim else v for v in values if v is not None]
    return [v for v in present if v not in fmt.null_values and v != ""]


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


def infer_type(values: Sequence[str | None], fmt: CsvFormat) -> ColumnType:
    """The narrowest type every non-empty value fits, in ``fmt``'s number and date conventions;
    string when none are non-empty."""
    present = _values(values, fmt)
    if not present:
        return ColumnType.STRING
    style = (fmt.decimal_separator, fmt.thousands_separator)
    booleans = {v.lower() for v in (*fmt.true_values, *fmt.false_values)}
    checks: list[tuple[ColumnType, Callable[[str], bool]]] = [
        (ColumnType.INTEGER, lambda v: _is_integer(v, style)),
        (ColumnType.FLOAT, lambda v: number_reading(v, style) is not None),
        (ColumnType.BOOLEAN, lambda v: v.lower() in booleans),
        (ColumnType.DATE, lambda v: is_date(v, fmt.date_format)),
        (ColumnType.TIMESTAMP, lambda v: is_timestamp(v, fmt.timestamp_format)),
    ]
    for kind, check in checks:
        if all(check(v) for v in present):
            return kind
    return ColumnType.STRING


def _is_integer(value: str, style: tuple[str, str | None]) -> bool:
    reading = number_reading(value, style)
    return reading is not None and bool(INTEGER_TEXT.match(reading)) and not CODE_LIKE.match(reading)
