"""Validate and cast a chunk of parsed records: typed good rows, and one structured error per bad record."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import polars as pl

from impex.domain.definitions import ColumnType, CsvFormat
from impex.domain.rejects import Reason, render, shown_value, visible
from impex.formats.edges import STRIPPED
from impex.validate.casts import (
    DEFAULT_TIMESTAMP_FORMAT,
    after_trim_steps,
    before_year_one,
    cast,
    equals_any,
    markers_apply,
    number_text,
    prepare,
    prepare_steps,
    trim_step,
    type_error,
)
from impex.validate.plan import Plan, PlanError, PlannedColumn, column_format

ERROR_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.Int64(),
    "column": pl.String(),
    "reason": pl.String(),
    "value": pl.String(),
    "message": pl.String(),
    "code": pl.String(),
    "params": pl.String(),  # JSON: an object column would make frames incomparable
}
_FIRST_BAD = "__first_bad"


@dataclass(frozen=True)
class Validated:
    """The outcome of :func:`validate` for one frame.

    ``good`` holds the typed target columns (plan order) of the good rows; ``good_rows`` their int64
    indices into the input frame, in the same order; ``errors`` one row per bad record with columns
    ``row`` (index into the input), ``column``, ``reason`` (a :class:`Reason` value), ``value`` (the
    field as read, before trimming), ``message`` and the message's ``code`` and ``params`` (a JSON
    object; see ``impex.domain.rejects.MESSAGES``), ordered by ``row``.
    """

    good: pl.DataFrame
    good_rows: np.ndarray
    errors: pl.DataFrame


def field_name(index: int) -> str:
    """Name of the input column holding the 0-based field ``index``: ``f1``, ``f2``, …"""
    return f"f{index + 1}"


class FieldQuoting(Protocol):
    """Which fields of a frame's rows were quoted in the file (a chunk of records knows it)."""

    def quoted(self, rows: npt.ArrayLike, fields: npt.ArrayLike) -> npt.NDArray[np.bool_]: ...


def validate(
    frame: pl.DataFrame,
    plan: Plan,
    fmt: CsvFormat,
    *,
    plain: bool = False,
    quoting: FieldQuoting | None = None,
    nan: bool = False,
) -> Validated:
    """Prepare, check and cast every planned column of ``frame`` (all-text columns ``f1..fN``).

    A record with several bad columns gets one error, for the first bad column in plan order.
    Raises :class:`PlanError` when a field is missing from ``frame`` or a constant/default does not fit
    its column: those are definition errors, not data errors. ``plain``: see ``prepare_steps``.
    ``quoting``: a field equal to a null marker that was quoted in the file is that text, not a null
    (unless ``fmt.quoted_nulls``); without it, every field equal to a marker is null. ``nan``: the
    target's float columns keep a NaN (without, it is refused: SQLite would store NULL).
    """
    absent = [field_name(c.field) for c in plan.columns if c.field is not None]
    absent = [name for name in absent if name not in frame.columns]
    if absent:
        raise PlanError(f"the records have no field {', '.join(absent)} (columns: {frame.columns})")
    not_text = [name for name, dtype in frame.schema.items() if dtype != pl.String]
    if not_text:  # e.g. a column of nulls only, built without a schema
        frame = frame.with_columns(pl.col(not_text).cast(pl.String))
    checked = _check(frame, plan, fmt, plain, quoting, nan)
    ok = checked.get_column(_FIRST_BAD).is_null()
    typed = checked.select(pl.col(f"__v{i}").alias(c.name) for i, c in enumerate(plan.columns))
    if ok.all():
        return Validated(typed, np.arange(frame.height, dtype=np.int64), _no_errors())
    good_rows = np.flatnonzero(ok.to_numpy()).astype(np.int64)
    return Validated(typed.filter(ok), good_rows, _errors(frame, checked, ok, plan, fmt))


def _check(
    frame: pl.DataFrame,
    plan: Plan,
    fmt: CsvFormat,
    plain: bool = False,
    quoting: FieldQuoting | None = None,
    nan: bool = False,
) -> pl.DataFrame:
    """Every column's prepared text ``__s{i}`` and typed value ``__v{i}``, and per row the index of
    its first bad column (null for a good row).

    Expressions are grouped in stages, each stage's output materialised as columns: an expression
    that reads its input twice would otherwise compute that input twice. When quoted null markers
    are text, the trimmed fields are materialised first, to find the fields equal to a marker.
    """
    reads_fields = any(c.field is not None for c in plan.columns)
    looks = quoting is not None and not fmt.quoted_nulls and markers_apply(fmt, plain=plain) and reads_fields
    nulled: dict[int, pl.Expr] = {}
    if looks:
        assert quoting is not None
        texts, nulled = _bare_markers(frame, plan, fmt, plain, quoting)
    stages: list[list[pl.Expr]] = [[]]  # preparation steps: stage k holds every column's k-th step
    numbers, values, bad = [], [], []
    for i, col in enumerate(plan.columns):
        text, value = pl.col(f"__s{i}"), f"__v{i}"
        own = column_format(col.spec, fmt)
        if col.field is None:
            values.append(pl.lit(_constant(col, own), dtype=col.dtype).alias(value))
            continue
        if looks:  # __s{i} holds the trimmed field already
            steps, source = after_trim_steps(col.spec, fmt, plain=plain, nulled=nulled[i]), text
        else:
            steps, source = prepare_steps(col.spec, fmt, plain=plain), pl.col(field_name(col.field))
        for k, step in enumerate(steps or [lambda field: field]):
            if k == len(stages):
                stages.append([])
            stages[k].append(step(source if k == 0 else text).alias(f"__s{i}"))
        number = number_text(text, col, fmt)
        if number is not None:
            numbers.append(number.alias(f"__n{i}"))
        number_ref = pl.col(f"__n{i}") if number is not None else text
        iso = col.type is ColumnType.TIMESTAMP and _may_be_iso(frame, col, own)
        values.append(_value(text, number_ref, col, own, iso, nan).alias(value))
        bad.append(pl.when(_is_bad(text, pl.col(value), col)).then(pl.lit(i, pl.Int32)))

    if looks:
        lazy = texts.lazy().with_columns(stages[0])
    else:  # a plan of constants only still needs a frame of the right height to broadcast into
        lazy = frame.lazy().select(stages[0] or [pl.repeat(True, frame.height).alias("__rows")])
    for exprs in [*stages[1:], numbers, values]:
        if exprs:
            lazy = lazy.with_columns(exprs)
    first_bad = pl.coalesce(bad) if bad else pl.lit(None, pl.Int32)
    return lazy.with_columns(first_bad.alias(_FIRST_BAD)).collect()


def _bare_markers(
    frame: pl.DataFrame, plan: Plan, fmt: CsvFormat, plain: bool, quoting: FieldQuoting
) -> tuple[pl.DataFrame, dict[int, pl.Expr]]:
    """Every field column trimmed (``__s{i}``), and where it is a null marker that makes it null: it
    equals one (``__h{i}``) and was not quoted in the file (``__k{i}``, only where a quoted one is).
    Only the fields equal to a marker are looked up in the file.

    A typed column holds no empty text: there a quoted empty field is null, as a bare one is.
    """
    markers = list(fmt.null_values)
    trimmed, hits, fields = [], [], {}
    for i, col in enumerate(plan.columns):
        if col.field is not None:
            trim = trim_step(col.spec, fmt, plain=plain)
            field = pl.col(field_name(col.field))
            text = pl.col(f"__s{i}")
            trimmed.append((trim(field) if trim else field).alias(f"__s{i}"))
            hits.append(equals_any(text, markers).alias(f"__h{i}"))
            fields[i] = col
    texts = frame.lazy().select(trimmed).with_columns(hits).collect()
    nulled: dict[int, pl.Expr] = {i: pl.col(f"__h{i}") for i in fields}
    rows = {i: texts.get_column(f"__h{i}").arg_true() for i in fields}
    for i, col in fields.items():
        if col.type is not ColumnType.STRING and "" in markers:
            rows[i] = rows[i].filter(texts.get_column(f"__s{i}").gather(rows[i]) != "")
    looked = {i: r.to_numpy().astype(np.int64) for i, r in rows.items() if len(r)}
    if not looked:
        return texts, nulled
    at = np.concatenate(list(looked.values()))
    quoted = quoting.quoted(at, np.concatenate([np.full(len(r), fields[i].field) for i, r in looked.items()]))
    for i, r in looked.items():
        quoted_here, quoted = quoted[: len(r)], quoted[len(r) :]
        if quoted_here.any():
            kept = np.zeros(frame.height, dtype=bool)
            kept[r[quoted_here]] = True
            texts = texts.with_columns(pl.Series(f"__k{i}", kept))
            nulled[i] = pl.col(f"__h{i}") & ~pl.col(f"__k{i}")
    return texts, nulled


def _may_be_iso(frame: pl.DataFrame, col: PlannedColumn, fmt: CsvFormat) -> bool:
    """Whether a timestamp field may use the ISO variants the default format also accepts ('T',
    fractions). Most files use none: then the much faster exact parse is enough. A field remapped
    or transformed may become one whatever the file holds: it is always parsed in full, so that no
    value depends on the other values of its chunk."""
    if fmt.timestamp_format != DEFAULT_TIMESTAMP_FORMAT:
        return False
    if col.spec.remap or col.spec.transforms or col.field is None:
        return True
    text = frame.get_column(field_name(col.field)).str.join("").item()  # one search in one string: fast
    return "T" in text or "." in text


def _value(
    text: pl.Expr, number: pl.Expr, col: PlannedColumn, fmt: CsvFormat, iso: bool = True, nan: bool = False
) -> pl.Expr:
    value = cast(number, col, fmt, iso=iso, nan=nan)
    if col.spec.default is None:
        return value
    default = pl.lit(literal_value(col, col.spec.default, fmt, "default"), dtype=col.dtype)
    return pl.when(text.is_null()).then(default).otherwise(value)


def _is_bad(text: pl.Expr, value: pl.Expr, col: PlannedColumn) -> pl.Expr:
    spec = col.spec
    # Null after the cast: a failed cast if there was text, else a missing value (if one is required).
    bad = value.is_null() & text.is_not_null() if not spec.required else value.is_null()
    if spec.required and spec.type is ColumnType.STRING:
        bad = bad | (text == "")  # a quoted empty field is empty text, which is no value either
    if spec.type is ColumnType.STRING and spec.max_length is not None:
        bad = bad | (text.str.len_chars() > spec.max_length)
    return bad


def _constant(col: PlannedColumn, fmt: CsvFormat) -> Any:
    value = literal_value(col, col.spec.constant, fmt, "constant", prepared=True)
    if value is None and col.spec.default is not None:
        value = literal_value(col, col.spec.default, fmt, "default")
    if value is None and col.spec.required:
        raise PlanError(
            f"column {col.name}: the constant {col.spec.constant!r} is empty, and a value is required"
        )
    return value


def literal_value(col: PlannedColumn, literal: Any, fmt: CsvFormat, what: str, prepared: bool = False) -> Any:
    """A constant or default as a value of the column's type; text is read like a field of the file."""
    if not isinstance(literal, str):
        try:
            return pl.Series([literal]).cast(col.dtype, strict=True).item()
        except (pl.exceptions.PolarsError, TypeError, ValueError) as exc:
            raise PlanError(
                f"column {col.name}: the {what} {literal!r} does not fit type {col.type}"
            ) from exc
    probe = pl.DataFrame({"text": [literal]}, schema={"text": pl.String})
    text = prepare(pl.col("text"), col.spec, fmt) if prepared else pl.col("text")
    number = number_text(pl.col("text"), col, fmt)
    value = cast(number if number is not None else pl.col("text"), col, fmt)
    row = probe.select(text.alias("text")).select(pl.col("text"), value.alias("value"))
    text_value, value = row.item(0, "text"), row.item(0, "value")
    unfit = f"column {col.name}: the {what} {literal!r} does not fit type {col.type}"
    if text_value is not None and value is None:
        code, params = type_error(col, fmt, text_value)
        why = render(code, {"column": col.name, "value": text_value, **params})
        raise PlanError(f"{unfit}: {why.removeprefix(f'column {col.name}: ')}")
    limit = col.spec.max_length
    if col.type is ColumnType.STRING and limit is not None and len(text_value or "") > limit:
        raise PlanError(f"{unfit}: it is {len(text_value)} characters, at most {limit} allowed")
    return value


def _errors(
    frame: pl.DataFrame, checked: pl.DataFrame, ok: pl.Series, plan: Plan, fmt: CsvFormat
) -> pl.DataFrame:
    """One error row per bad record, for its first bad column. A few hundred rows a chunk at most:
    plain Python writes their messages in half the time Polars takes to run the expressions."""
    bad_rows = np.flatnonzero(~ok.to_numpy()).astype(np.int64)
    first_bad = checked.get_column(_FIRST_BAD).to_numpy()[bad_rows].astype(np.int64).tolist()
    present = sorted(set(first_bad))
    fields = {i: field_name(f) for i in present if (f := plan.columns[i].field) is not None}
    assert len(fields) == len(present)  # only fields are checked
    bad = checked.select(
        *(pl.col(f"__s{i}") for i in present),
        *(pl.col(f"__v{i}").is_null().alias(f"__f{i}") for i in present),
    )[bad_rows]
    raw = frame.select(list(dict.fromkeys(fields.values())))[bad_rows]  # two columns may read one field
    texts = {i: bad.get_column(f"__s{i}").to_list() for i in present}
    failed = {i: bad.get_column(f"__f{i}").to_list() for i in present}
    raws = {i: raw.get_column(name).to_list() for i, name in fields.items()}
    dated = (ColumnType.DATE, ColumnType.TIMESTAMP)
    own = {i: column_format(plan.columns[i].spec, fmt) for i in present}
    early = {
        i: before_year_one(bad.get_column(f"__s{i}"), plan.columns[i], own[i])
        for i in present
        if plan.columns[i].type in dated
    }
    rows = [
        (
            plan.columns[i].name,
            raws[i][k],
            *_why(plan.columns[i], own[i], texts[i][k], failed[i][k], raws[i][k], i in early and early[i][k]),
        )
        for k, i in enumerate(first_bad)
    ]
    columns, values, reasons, codes, params = zip(*rows, strict=True) if rows else ((),) * 5
    return pl.DataFrame(
        {
            "row": bad_rows,
            "column": columns,
            "reason": reasons,
            "value": values,
            "message": [render(c, p) for c, p in zip(codes, params, strict=True)],
            "code": codes,
            "params": [json.dumps(p) for p in params],
        },
        schema=ERROR_SCHEMA,
    )


def _why(
    col: PlannedColumn,
    fmt: CsvFormat,
    text: str | None,
    failed: bool,
    raw: str | None,
    before_year_one: bool = False,
) -> tuple[str, str, dict[str, Any]]:
    """Why a column's value is bad: the reason, and the message's code and parameters. ``text`` is
    the field after trimming, null markers and transforms; ``failed``: no typed value came out of it;
    ``raw`` the field as read; ``before_year_one``: it reads as a date before year 1."""
    if (failed and text is None) or (text == "" and col.spec.required):
        if raw is None or raw.strip(STRIPPED) == "":
            return Reason.MISSING_REQUIRED.value, "missing_required.empty", {"column": col.name}
        blank = {"column": col.name, "value": visible(raw)}
        return Reason.MISSING_REQUIRED.value, "missing_required.blank", blank
    assert text is not None
    value = shown_value(text)
    if failed:
        code, params = type_error(col, fmt, text, before_year_one=before_year_one)
        return Reason.TYPE_ERROR.value, code, {"column": col.name, "value": value, **params}
    too_long = {"column": col.name, "value": value, "length": len(text), "limit": col.spec.max_length}
    return Reason.TOO_LONG.value, "too_long", too_long


def _no_errors() -> pl.DataFrame:
    return pl.DataFrame(schema=ERROR_SCHEMA)
