"""A file's number and date conventions, from a sample of its columns.

The job definition holds one decimal separator, thousands separator, date format and timestamp format
for the whole file, so the columns vote. A convention counts only where every non-empty value of a
column fits it, and a column that reads differently under two conventions ('1.234': a thousand, or
one point two?) decides nothing. A column the chosen conventions cannot read as it looks stays text,
with a :class:`Note` saying why: detection would rather import text than a wrong number or date.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from impex.domain.definitions import ColumnType, CsvFormat
from impex.formats.readings import (
    STYLES,
    Style,
    date_formats,
    is_date,
    is_timestamp,
    number_reading,
    timestamp_formats,
    two_digit_year,
)

DECIMAL_NAMES = {".": "point", ",": "comma"}


@dataclass(frozen=True)
class Note:
    """Why a column that looks like numbers, dates or timestamps is kept as text; ``option`` names the
    format option that would settle it, when one would."""

    text: str
    option: str | None = None


@dataclass(frozen=True)
class Conventions:
    """The conventions chosen for a file, and a note for each column (by position) kept as text."""

    decimal_separator: str
    thousands_separator: str | None
    date_format: str
    timestamp_format: str
    notes: dict[int, Note] = field(default_factory=dict)
    # A column kept as text whose dates (or timestamps) all read in one other format: its kind and format,
    # for a definition that gives the column its own (columns[i].date_format)
    own_formats: dict[int, tuple[ColumnType, str]] = field(default_factory=dict)

    def applied(self, fmt: CsvFormat) -> CsvFormat:
        return fmt.model_copy(
            update={
                "decimal_separator": self.decimal_separator,
                "thousands_separator": self.thousands_separator,
                "date_format": self.date_format,
                "timestamp_format": self.timestamp_format,
            }
        )


def choose_conventions(columns: Sequence[Sequence[str]], fmt: CsvFormat, delimiter: str) -> Conventions:
    """The conventions that read the most columns; those set in ``fmt`` (its ``model_fields_set``) are
    kept. ``columns`` holds each column's non-empty values. Dates whose day and month cannot be told
    apart follow the file's other dates; when none tells, they stay text (a decimal comma makes day
    first likely, not certain). Nor is a two-digit year chosen: '24' is 2024 or 1924 only if told."""
    given = fmt.model_fields_set
    notes: dict[int, Note] = {}
    own: dict[int, tuple[ColumnType, str]] = {}
    decimal, thousands = _numbers(columns, fmt, given, delimiter, notes)
    date_sets = _candidates(columns, date_formats)
    stamp_sets = _candidates(columns, timestamp_formats)
    day_first = _day_first([*date_sets.values(), *stamp_sets.values()])
    date_format = _choose(
        columns,
        _ordered(date_sets, day_first),
        fmt.date_format if "date_format" in given else None,
        "date",
        is_date,
        notes,
        own,
    )
    timestamp_format = _choose(
        columns,
        _ordered(stamp_sets, day_first),
        fmt.timestamp_format if "timestamp_format" in given else None,
        "timestamp",
        is_timestamp,
        notes,
        own,
    )
    return Conventions(
        decimal,
        thousands,
        date_format or fmt.date_format,
        timestamp_format or fmt.timestamp_format,
        notes,
        own,
    )


def _numbers(
    columns: Sequence[Sequence[str]], fmt: CsvFormat, given: set[str], delimiter: str, notes: dict[int, Note]
) -> tuple[str, str | None]:
    styles = [
        s
        for s in STYLES
        if ("decimal_separator" not in given or s[0] == fmt.decimal_separator)
        and ("thousands_separator" not in given or s[1] == fmt.thousands_separator)
    ] or [(fmt.decimal_separator, fmt.thousands_separator)]
    fitting = {
        i: fits
        for i, values in enumerate(columns)
        if (fits := [s for s in styles if all(number_reading(v, s) is not None for v in values)])
        and not (len(fits) == len(styles) and _alike(values, fits))
    }
    for i, values in enumerate(columns):
        if i not in fitting and (example := _in_parentheses(values, styles)):
            notes[i] = Note(
                f"numbers, some in parentheses ({example!r}): the import reads a negative number only "
                "with a minus sign ('-1234.50')"
            )
    votes = Counter(fits[0][0] for fits in fitting.values() if len({s[0] for s in fits}) == 1)
    decimal = _decimal({s[0] for s in styles}, votes, delimiter)
    if decimal is None:  # no column tells: those that read alike either way ('1 234') do not need to
        decimal = fmt.decimal_separator
        for i in [i for i, fits in fitting.items() if not _alike(columns[i], fits)]:
            notes[i] = _undecided(columns[i], fitting.pop(i))
    mine = {i: [s for s in fits if s[0] == decimal] for i, fits in fitting.items()}
    for i, fits in mine.items():
        if not fits:
            theirs = DECIMAL_NAMES.get(fitting[i][0][0], repr(fitting[i][0][0]))
            ours = DECIMAL_NAMES.get(decimal, repr(decimal))
            notes[i] = Note(
                f"numbers with a decimal {theirs}, but the file's other numbers have a decimal {ours}"
            )
    accepted = {i: {s[1] for s in fits} for i, fits in mine.items() if fits}
    options = [s[1] for s in styles if s[0] == decimal]
    thousands = max(options, key=lambda t: sum(t in ok for ok in accepted.values()))  # ties: the first
    for i, ok in accepted.items():
        if thousands not in ok:
            used = next(t for t in ok if t is not None)
            notes[i] = Note(f"numbers grouped by {used!r}, but the file's other numbers by {thousands!r}")
    return decimal, thousands


def _decimal(possible: set[str], votes: Counter[str], delimiter: str) -> str | None:
    if len(possible) == 1:
        return next(iter(possible))
    if not votes:
        return None
    best = max(votes.values())
    leaders = [d for d, n in votes.items() if n == best]
    if len(leaders) == 1:
        return leaders[0]
    return "," if delimiter == ";" else "."


def _in_parentheses(values: Sequence[str], styles: Sequence[Style]) -> str | None:
    """The first value in parentheses when every value is a number, some of them so written (an
    accounting negative: '(1,234.50)')."""
    inner = [v[1:-1] if v[:1] == "(" and v[-1:] == ")" else v for v in values]
    if inner == list(values):
        return None
    if not any(all(number_reading(v, s) is not None for v in inner) for s in styles):
        return None
    return next(v for v, i in zip(values, inner, strict=True) if v != i)


def _alike(values: Sequence[str], styles: list[Style]) -> bool:
    """Whether the styles read every value the same (whole numbers, '1e5'): nothing to decide."""
    return all(len({number_reading(v, s) for s in styles}) == 1 for v in values)


def _undecided(values: Sequence[str], fits: list[Style]) -> Note:
    example = next(v for v in values if len(readings := {number_reading(v, s) for s in fits}) > 1)
    told = " or ".join(sorted(str(r) for r in readings))
    return Note(
        f"numbers, but the decimal separator cannot be told ({example!r}: {told}?)", "decimal_separator"
    )


def _candidates(columns: Sequence[Sequence[str]], formats: Callable[[str], set[str]]) -> dict[int, set[str]]:
    """Per column, the formats every one of its values fits (columns that fit none are left out)."""
    found: dict[int, set[str]] = {}
    for i, values in enumerate(columns):
        common: set[str] | None = None
        for value in values:
            common = formats(value) if common is None else common & formats(value)
            if not common:
                break
        if common:
            found[i] = common
    return found


def _order(form: str) -> str | None:
    """'day' or 'month' for a format whose day and month may be confused; None for year first."""
    if form.startswith("%Y"):
        return None
    return "day" if form.index("%d") < form.index("%m") else "month"


def _day_first(sets: list[set[str]]) -> bool | None:
    """Whether the file puts the day first, as the columns that show it vote (None: none tells)."""
    votes: Counter[str | None] = Counter()
    for c in sets:
        orders = {_order(f) for f in c}
        if len(orders) == 1:
            votes[orders.pop()] += 1
    if votes["day"] != votes["month"]:
        return votes["day"] > votes["month"]
    return None


def _ordered(sets: dict[int, set[str]], day_first: bool | None) -> dict[int, set[str]]:
    if day_first is None:
        return sets
    wanted = "day" if day_first else "month"
    return {i: {f for f in c if _order(f) in (None, wanted)} or c for i, c in sets.items()}


def _choose(
    columns: Sequence[Sequence[str]],
    sets: dict[int, set[str]],
    given: str | None,
    kind: str,
    fits: Callable[[str, str], bool],
    notes: dict[int, Note],
    own: dict[int, tuple[ColumnType, str]],
) -> str | None:
    """The format of the most columns of ``kind`` (ties: the first column's), or the given one; a note
    for every column it does not read, and its own format when one alone reads it."""
    settled = Counter(next(iter(c)) for c in sets.values() if len(c) == 1 and not two_digit_year(*c))
    chosen = given or (settled.most_common(1)[0][0] if settled else None)
    option = f"{kind}_format"
    for i, c in sets.items():
        if chosen is not None and all(fits(v, chosen) for v in columns[i]):
            continue
        possible = " or ".join(sorted(c, key=_by_order))
        if all(two_digit_year(f) for f in c):
            notes[i] = Note(
                f"{kind}s with a two-digit year ({columns[i][0]!r}), read only if told: {possible} "
                "reads 00-68 as 2000-2068 and 69-99 as 1969-1999",
                option,
            )
        elif len(c) > 1:
            notes[i] = Note(f"{kind}s, but day and month cannot be told apart: {possible}?", option)
        else:
            notes[i] = Note(f"{kind}s as {possible}, but the file's {kind} format is {chosen}")
            own[i] = (ColumnType(kind), possible)
    return chosen


def _by_order(form: str) -> tuple[bool, str]:
    return _order(form) != "day", form
