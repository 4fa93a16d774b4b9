"""Column-wise expressions: prepare a text field (trim, null markers, transforms, remap) and cast it.

Every cast is non-strict: a value that does not fit becomes null, and the validator tells a failed cast
from a genuine null by comparing with the prepared text. Nothing here loops over rows.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial, reduce
from typing import Any

import polars as pl

from impex.domain.definitions import (
    OFFSET_DIRECTIVE,
    ColumnSpec,
    ColumnType,
    CsvFormat,
    Transform,
    with_offset,
)
from impex.validate.plan import PlannedColumn

DEFAULT_TIMESTAMP_FORMAT: str = CsvFormat.model_fields["timestamp_format"].default
# The default timestamp format also takes ISO 8601: a 'T' between date and time, fractional seconds.
_ISO_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S%.f"
_YEAR_ONE = datetime(1, 1, 1)
_DECIMAL_SHAPE = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$"
_SPECIAL = r"[+-]?(?:nan|inf|infinity)"  # a float's values beyond numbers, as PostgreSQL reads them
_INTEGER_SHAPE = r"^[+-]?[0-9]+$"  # ASCII digits: '١٢' is no integer the cast takes, not one too big


Step = Callable[[pl.Expr], pl.Expr]


def prepare_steps(spec: ColumnSpec, fmt: CsvFormat, *, plain: bool = False) -> list[Step]:
    """The steps that make a field's text ready for the cast: trim, null markers, transforms, remap.

    Each step reads the previous step's output. The validator materialises every step as a column,
    because a step may read its input twice and Polars would otherwise evaluate that input twice.
    ``plain``: no field starts or ends with whitespace or is empty text (empty unquoted fields are
    already null), so trimming and the empty-text null marker would change nothing.
    """
    trim = trim_step(spec, fmt, plain=plain)
    return ([trim] if trim else []) + after_trim_steps(spec, fmt, plain=plain)


def trim_step(spec: ColumnSpec, fmt: CsvFormat, *, plain: bool = False) -> Step | None:
    """The first of :func:`prepare_steps`, when the field is trimmed: null markers are compared after it."""
    if (fmt.trim or Transform.TRIM in spec.transforms) and not plain:
        return lambda text: text.str.strip_chars()
    return None


def after_trim_steps(
    spec: ColumnSpec, fmt: CsvFormat, *, plain: bool = False, nulled: pl.Expr | None = None
) -> list[Step]:
    """The rest of :func:`prepare_steps`: null markers, transforms, remap. ``nulled``: where the
    trimmed field is a null marker that makes it null, when found beforehand (a quoted one may not)."""
    steps: list[Step] = []
    if markers_apply(fmt, plain=plain):
        steps.append(lambda text: _null_markers(text, fmt.null_values, nulled))
    for transform in spec.transforms:
        if transform is not Transform.TRIM:  # done before the null markers are looked at
            steps.append(partial(_transform, transform=transform))
    if spec.remap:
        steps.append(lambda text: _remap(text, spec.remap, fmt.null_values))
    return steps


def markers_apply(fmt: CsvFormat, *, plain: bool = False) -> bool:
    """Whether a field may equal a null marker (a plain chunk holds no empty text)."""
    return bool(fmt.null_values) and not (plain and fmt.null_values == ("",))


def prepare(field: pl.Expr, spec: ColumnSpec, fmt: CsvFormat) -> pl.Expr:
    """All of :func:`prepare_steps` as one expression, for a few rows where repeated work does not matter."""
    for step in prepare_steps(spec, fmt):
        field = step(field)
    return field


def _null_markers(text: pl.Expr, markers: tuple[str, ...], nulled: pl.Expr | None = None) -> pl.Expr:
    """``text``, null where it equals a marker (or where ``nulled`` says, when given)."""
    if nulled is not None:
        return pl.when(~nulled).then(text)
    if len(markers) == 1:
        return pl.when(text != markers[0]).then(text)
    return pl.when(~equals_any(text, markers)).then(text)


def equals_any(text: pl.Expr, values: Sequence[str]) -> pl.Expr:
    """Whether ``text`` is one of ``values``: a few comparisons take half the time is_in() takes."""
    if len(values) > 4:
        return text.is_in(values)
    return reduce(operator.or_, (text == value for value in values))


def _remap(text: pl.Expr, remap: dict[str, str], markers: tuple[str, ...]) -> pl.Expr:
    """``text`` remapped; a value remapped to a null marker ('n/a' → '') is null."""
    mapped = text.replace(remap)
    to_null = [source for source, value in remap.items() if value in markers]
    return pl.when(~text.is_in(to_null)).then(mapped) if to_null else mapped


def _transform(text: pl.Expr, transform: Transform) -> pl.Expr:
    match transform:
        case Transform.LOWER:
            return text.str.to_lowercase()
        case Transform.UPPER:
            return text.str.to_uppercase()
        case Transform.CAPITALIZE:
            return text.str.slice(0, 1).str.to_uppercase() + text.str.slice(1).str.to_lowercase()
    raise ValueError(f"unknown transform {transform!r}")  # pragma: no cover


def number_text(text: pl.Expr, col: PlannedColumn, fmt: CsvFormat) -> pl.Expr | None:
    """Number text in Polars' notation (thousands removed, '.' as decimal separator).

    ``None`` when the column is no number or the format needs no change. The validator materialises
    it before :func:`cast`.
    """
    if col.type is ColumnType.INTEGER:
        return _without_thousands(text, fmt) if fmt.thousands_separator is not None else None
    if col.type in (ColumnType.FLOAT, ColumnType.DECIMAL):
        if fmt.thousands_separator is None and fmt.decimal_separator == ".":
            return None
        return _number_text(text, fmt)
    return None


def cast(
    text: pl.Expr, col: PlannedColumn, fmt: CsvFormat, *, iso: bool = True, nan: bool = False
) -> pl.Expr:
    """``text`` (after :func:`number_text` for numbers) cast to the column's type; null where it does
    not fit. String length is checked by the validator. ``nan``: the target's float columns keep a NaN
    (PostgreSQL's do; SQLite would store NULL)."""
    match col.type:
        case ColumnType.STRING:
            return text
        case ColumnType.INTEGER:
            return text.cast(pl.Int64, strict=False)
        case ColumnType.FLOAT:
            # Polars reads NaN, inf and Infinity in any case, with a sign too, as PostgreSQL does.
            number = text.cast(pl.Float64, strict=False)
            # 'inf' is a value; 1e400 is not: it overflows to one.
            spelled = text.str.contains("(?i)inf")
            if nan:
                return pl.when(~number.is_infinite() | spelled).then(number)
            return pl.when(~number.is_nan() & (number.is_finite() | spelled)).then(number)
        case ColumnType.DECIMAL:
            return _decimal(text, col.dtype)
        case ColumnType.BOOLEAN:
            return _boolean(text, fmt)
        case ColumnType.DATE | ColumnType.TIMESTAMP:
            moment = _moment(text, col, fmt, iso)
            return pl.when(moment >= pl.lit(_YEAR_ONE, dtype=col.dtype)).then(moment)
    raise ValueError(f"unknown type {col.type!r}")  # pragma: no cover


def _moment(text: pl.Expr, col: PlannedColumn, fmt: CsvFormat, iso: bool = True) -> pl.Expr:
    """A date or timestamp as '%Y' reads it: of any year, 0 and before too ('0000-01-01', a stand-in
    for no date in some exports, which PostgreSQL would store as 1 BC). :func:`cast` keeps years from 1."""
    if col.type is ColumnType.DATE:
        return text.str.strptime(pl.Date, fmt.date_format, strict=False, exact=True, cache=False)
    return _timestamp(text, fmt, col.dtype, iso)


def _without_thousands(text: pl.Expr, fmt: CsvFormat) -> pl.Expr:
    """``text`` without its thousands separators; null where they do not group the integer part by three
    (with '.' as separator, '12.34' is no twelve hundred thirty-four, and 1.5 no fifteen)."""
    sep = fmt.thousands_separator
    if sep is None:
        return text
    misplaced = text.str.contains(sep, literal=True) & ~text.str.contains(_grouped(sep, fmt))
    return pl.when(~misplaced).then(text.str.replace_all(sep, "", literal=True))


def _grouped(sep: str, fmt: CsvFormat) -> str:
    """A number whose integer part is grouped by three with ``sep``: one pattern for Polars' regex
    engine and Python's (both read ``\\d`` as any Unicode digit)."""
    return rf"^[+-]?\d{{1,3}}(?:{_char(sep)}\d{{3}})+(?:{_char(fmt.decimal_separator)}\d*)?$"


def _char(character: str) -> str:
    """A regex matching exactly ``character``, in a hex escape both regex engines read."""
    return rf"\U{ord(character):08x}"


def _number_text(text: pl.Expr, fmt: CsvFormat) -> pl.Expr:
    text = _without_thousands(text, fmt)
    if fmt.decimal_separator == ".":
        return text
    # With a decimal comma, a '.' that is not the thousands separator makes the value ambiguous:
    # turn it into something no cast accepts rather than reading '1.5' as one and a half.
    return text.str.replace_all(".", "?", literal=True).str.replace(fmt.decimal_separator, ".", literal=True)


def _decimal(text: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    assert isinstance(dtype, pl.Decimal)
    precision, scale = dtype.precision or 38, dtype.scale
    # Polars rounds extra fractional digits; we refuse them instead (trailing zeros are harmless).
    integer_digits = text.str.extract(r"^[+-]?0*(\d*)", 1).str.len_chars()
    fraction_digits = text.str.extract(r"\.(\d*?)0*$", 1).str.len_chars().fill_null(0)
    fits = (
        text.str.contains(_DECIMAL_SHAPE) & (integer_digits <= precision - scale) & (fraction_digits <= scale)
    )
    return pl.when(fits).then(text.cast(dtype, strict=False))


def _boolean(text: pl.Expr, fmt: CsvFormat) -> pl.Expr:
    words = {w.lower(): False for w in fmt.false_values} | {w.lower(): True for w in fmt.true_values}
    return text.str.to_lowercase().replace_strict(words, default=None, return_dtype=pl.Boolean)


def _timestamp(text: pl.Expr, fmt: CsvFormat, dtype: pl.DataType, iso: bool = True) -> pl.Expr:
    assert isinstance(dtype, pl.Datetime)
    if fmt.timestamp_format == DEFAULT_TIMESTAMP_FORMAT and iso:
        spaced = text.str.replace("T", " ", literal=True, n=1)
        return spaced.str.strptime(dtype, _ISO_TIMESTAMP_FORMAT, strict=False, exact=True, cache=False)
    if with_offset(fmt.timestamp_format):
        # '%#z' takes 'Z', '+02', '+0200' and '+02:00' alike. Polars gives the moment in UTC; the
        # column keeps it without a zone (a timestamp column holds no offset in SQLite, nor in
        # PostgreSQL's 'timestamp without time zone', which impex creates).
        lenient = OFFSET_DIRECTIVE.sub("%#z", fmt.timestamp_format)
        moment = text.str.strptime(dtype, lenient, strict=False, exact=True, cache=False)
        return moment.dt.replace_time_zone(None)
    return text.str.strptime(dtype, fmt.timestamp_format, strict=False, exact=True, cache=False)


def type_error(
    col: PlannedColumn, fmt: CsvFormat, text: str, *, before_year_one: bool = False
) -> tuple[str, dict[str, Any]]:
    """Why a value failing the cast is not of its column's type: a message code (see
    ``impex.domain.rejects.MESSAGES``) and the parameters it takes beyond the column and value."""
    match col.type:
        case ColumnType.INTEGER:
            if _integer_shaped(text, fmt):
                return "type_error.integer_range", {}
            return "type_error.integer", {}
        case ColumnType.FLOAT:
            if _overflows(text, fmt):
                return "type_error.float_range", {}
            if re.fullmatch(r"[+-]?nan", text, re.IGNORECASE):
                return "type_error.float_nan", {}
            return "type_error.float", {"separator": fmt.decimal_separator}
        case ColumnType.DECIMAL:
            assert isinstance(col.dtype, pl.Decimal)
            if re.fullmatch(_SPECIAL, text, re.IGNORECASE):
                return "type_error.decimal_special", {}
            p, s = col.dtype.precision, col.dtype.scale
            return "type_error.decimal", {"precision": p, "scale": s, "separator": fmt.decimal_separator}
        case ColumnType.BOOLEAN:
            true, false = "/".join(fmt.true_values), "/".join(fmt.false_values)
            return "type_error.boolean", {"true": true, "false": false}
        case ColumnType.DATE | ColumnType.TIMESTAMP if before_year_one:
            return "type_error.before_year_one", {}
        case ColumnType.DATE:
            return "type_error.date", {"format": fmt.date_format}
        case ColumnType.TIMESTAMP:
            iso = fmt.timestamp_format == DEFAULT_TIMESTAMP_FORMAT  # which also takes ISO 8601
            code = "type_error.timestamp_iso" if iso else "type_error.timestamp"
            return code, {"format": fmt.timestamp_format}
    raise AssertionError(f"no cast fails for type {col.type}")  # pragma: no cover


def before_year_one(texts: pl.Series, col: PlannedColumn, fmt: CsvFormat) -> list[bool]:
    """Per text (a few: the bad values of a chunk), whether it reads as a date or timestamp before year 1."""
    years = pl.select(_moment(pl.lit(texts, dtype=pl.String), col, fmt).dt.year()).to_series()
    return [year is not None and year < 1 for year in years.to_list()]


def _integer_shaped(text: str, fmt: CsvFormat) -> bool:
    """What :func:`_without_thousands` and the integer shape say of one value: digits only, once any
    thousands separators (placed right) are gone."""
    sep = fmt.thousands_separator
    if sep is not None:
        if sep in text and not re.fullmatch(_grouped(sep, fmt), text):
            return False
        text = text.replace(sep, "")
    return re.fullmatch(_INTEGER_SHAPE, text) is not None


def _overflows(text: str, fmt: CsvFormat) -> bool:
    """Whether ``text`` is a finite-looking number beyond the 64-bit float range (1e400)."""
    plain = text.replace(fmt.thousands_separator, "") if fmt.thousands_separator else text
    try:
        value = float(plain.replace(fmt.decimal_separator, "."))
    except ValueError:
        return False
    return math.isinf(value) and "inf" not in plain.lower()
