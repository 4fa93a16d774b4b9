"""Resolve declared target columns against the file's fields: which field feeds which column, as what type."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import polars as pl

from impex.domain.definitions import ColumnSpec, ColumnType, CsvFormat, with_offset
from impex.domain.names import MAX_IDENTIFIER, identifier

# A decimal declared without precision/scale still needs a fixed scale in Polars (and in most databases).
DEFAULT_PRECISION = 38
DEFAULT_SCALE_UNCONSTRAINED = 9


class PlanError(ValueError):
    """The declared columns do not fit the file: an unknown source name, a position out of range, …"""


@dataclass(frozen=True)
class PlannedColumn:
    """One target column, resolved: ``field`` is the 0-based source field, ``None`` for a constant."""

    spec: ColumnSpec
    field: int | None
    dtype: pl.DataType

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def type(self) -> ColumnType:
        return self.spec.type


@dataclass(frozen=True)
class Plan:
    """The resolved mapping from the file's fields to the target columns, in target order."""

    columns: tuple[PlannedColumn, ...]
    n_fields: int

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


class TargetColumn(NamedTuple):
    """What the target table needs for one column."""

    name: str
    type: ColumnType
    max_length: int | None
    precision: int | None
    scale: int | None
    required: bool


def build_plan(columns: Sequence[ColumnSpec], header: Sequence[str] | None, n_fields: int) -> Plan:
    """Resolve each column's source to a field position.

    ``source`` may be a header name (exact match first, then case-insensitive), a 1-based position,
    or ``None`` for the column's own name looked up in the header. A column with a ``constant`` has
    no source. With no columns declared, every field becomes a string column named after the header
    (made into valid identifiers) or ``c1..cN`` without a header.

    Raises :class:`PlanError` naming the column, the missing source and the available header names,
    or saying the file is empty (``n_fields`` 0: no header line and no record).
    """
    if n_fields == 0:
        # Nothing to map the columns to (nor to name a table's columns after): most likely a failed
        # or truncated export. A file with only its header line is the way to say "no data".
        raise PlanError("the file is empty: it has no header line and no record to map the columns to")
    if header is not None and len(header) != n_fields:
        raise PlanError(f"the header has {len(header)} names but the records have {n_fields} fields")
    if not columns:
        columns = default_columns(header, n_fields)
    planned = tuple(
        PlannedColumn(spec, _resolve_field(spec, header, n_fields), polars_dtype(spec)) for spec in columns
    )
    return Plan(planned, n_fields)


def check_keys(plan: Plan, keys: Sequence[str]) -> None:
    """Raise :class:`PlanError` when a key is not among the plan's columns: declared columns are
    checked with the definition, but without any, the columns are the header's names made into
    column names (``ID`` becomes ``id``)."""
    missing = [key for key in keys if key not in plan.names]
    if missing:
        raise PlanError(
            f"reconciliation.keys: {', '.join(repr(k) for k in missing)} not among the columns "
            f"({', '.join(plan.names)})"
        )


def target_schema(plan: Plan) -> list[TargetColumn]:
    """Name, type, max length, precision/scale and required flag of each target column, in plan order."""
    schema = []
    for col in plan.columns:
        spec = col.spec
        precision = scale = None
        if isinstance(col.dtype, pl.Decimal):
            precision, scale = col.dtype.precision, col.dtype.scale
        max_length = spec.max_length if spec.type is ColumnType.STRING else None
        schema.append(TargetColumn(spec.name, spec.type, max_length, precision, scale, spec.required))
    return schema


def default_columns(header: Sequence[str] | None, n_fields: int) -> tuple[ColumnSpec, ...]:
    """One string column per field, named after the header or ``c1..cN``."""
    names = sanitise_names(header) if header is not None else [f"c{i}" for i in range(1, n_fields + 1)]
    return tuple(
        ColumnSpec.model_validate({"name": name, "source": i}) for i, name in enumerate(names, start=1)
    )


def sanitise_names(header: Sequence[str]) -> list[str]:
    """Header names as valid, distinct identifiers: ``"Prénom Nom"`` → ``prenom_nom``, doubles get ``_2``."""
    used: set[str] = set()
    result = []
    for i, raw in enumerate(header, start=1):
        base = identifier(raw) or f"c{i}"
        name, n = base, 1
        while name in used:
            n += 1
            suffix = f"_{n}"
            name = base[: MAX_IDENTIFIER - len(suffix)] + suffix
        used.add(name)
        result.append(name)
    return result


def column_format(spec: ColumnSpec, fmt: CsvFormat) -> CsvFormat:
    """The format a column's values are read with: the file's, with the column's own date or
    timestamp format where it has one."""
    own = {k: v for k in ("date_format", "timestamp_format") if (v := getattr(spec, k)) is not None}
    return fmt.model_copy(update=own) if own else fmt


def utc_columns(plan: Plan, fmt: CsvFormat) -> tuple[str, ...]:
    """The timestamp columns whose values are moments in UTC: read with a UTC offset, they are
    converted to UTC and kept without a zone (see ``casts``), so a target must say which zone they are in."""
    return tuple(
        c.name
        for c in plan.columns
        if c.type is ColumnType.TIMESTAMP and with_offset(column_format(c.spec, fmt).timestamp_format)
    )


def polars_dtype(spec: ColumnSpec) -> pl.DataType:
    """The Polars type a column's values are cast to."""
    match spec.type:
        case ColumnType.STRING:
            return pl.String()
        case ColumnType.INTEGER:
            return pl.Int64()
        case ColumnType.FLOAT:
            return pl.Float64()
        case ColumnType.BOOLEAN:
            return pl.Boolean()
        case ColumnType.DATE:
            return pl.Date()
        case ColumnType.TIMESTAMP:
            return pl.Datetime("us")
        case ColumnType.DECIMAL:
            return _decimal_dtype(spec)
    raise PlanError(f"column {spec.name}: unknown type {spec.type!r}")  # pragma: no cover


def _decimal_dtype(spec: ColumnSpec) -> pl.Decimal:
    precision = spec.precision or DEFAULT_PRECISION
    if spec.scale is not None:
        scale = spec.scale
    else:
        # SQL: NUMERIC(p) means scale 0; an unconstrained NUMERIC needs some fixed scale here.
        scale = 0 if spec.precision is not None else DEFAULT_SCALE_UNCONSTRAINED
    if scale > precision:
        raise PlanError(f"column {spec.name}: scale {scale} is larger than precision {precision}")
    return pl.Decimal(precision, scale)


def _resolve_field(spec: ColumnSpec, header: Sequence[str] | None, n_fields: int) -> int | None:
    if spec.constant is not None:
        if spec.source is not None:
            raise PlanError(f"column {spec.name}: give either a source or a constant, not both")
        return None
    source = spec.source if spec.source is not None else spec.name
    if isinstance(source, int):
        if source > n_fields:
            named = f" (to read the header field {str(source)!r}, quote it: source: {str(source)!r})"
            raise PlanError(
                f"column {spec.name}: source position {source} is out of range, "
                f"the records have {n_fields} fields{_available(header)}"
                f"{named if header is not None and str(source) in header else ''}"
            )
        return source - 1
    if header is None:
        raise PlanError(
            f"column {spec.name}: source {source!r} names a header field, but the file has no header "
            f"(give the source as a position from 1 to {n_fields})"
        )
    exact = [i for i, h in enumerate(header) if h == source]
    if len(exact) > 1:
        positions = ", ".join(str(i + 1) for i in exact)
        raise PlanError(
            f"column {spec.name}: source {source!r} names several header fields (positions {positions}): "
            "give the source as the position of the one to read"
        )
    if exact:
        return exact[0]
    # then regardless of case and of spaces around the name (" Name " in the header, "Name" here)
    folded = [i for i, h in enumerate(header) if h.strip().casefold() == source.strip().casefold()]
    if len(folded) == 1:
        return folded[0]
    if len(folded) > 1:
        matches = ", ".join(repr(header[i]) for i in folded)
        raise PlanError(f"column {spec.name}: source {source!r} matches several header fields: {matches}")
    raise PlanError(f"column {spec.name}: source {source!r} is not in the header{_available(header)}")


def _available(header: Sequence[str] | None) -> str:
    if header is None:
        return ""
    return " (available: " + ", ".join(repr(h) for h in header) + ")"
