"""PostgreSQL types and errors, as the PostgreSQL target needs them.

Binary COPY (ADBC ingest) sends each Arrow value in the binary form of the *Arrow* type: PostgreSQL
accepts it only when that is the column's own type. ``fit`` casts where Arrow can do it exactly and
says which columns must go through a staging table and a SQL cast instead.
"""

from __future__ import annotations

import re

import adbc_driver_manager
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from impex.domain.definitions import ColumnType
from impex.targets.base import ColumnDef, TargetError
from impex.targets.sql import quote, split_refused

PG_TYPES = {
    ColumnType.STRING: "text",
    ColumnType.INTEGER: "bigint",
    ColumnType.FLOAT: "double precision",
    ColumnType.DECIMAL: "numeric",
    ColumnType.BOOLEAN: "boolean",
    ColumnType.DATE: "date",
    ColumnType.TIMESTAMP: "timestamp",
}

# The Arrow type whose binary form each PostgreSQL type (as regtype names it) reads.
BINARY_TWIN = {
    "bigint": pa.int64(),
    "integer": pa.int32(),
    "smallint": pa.int16(),
    "double precision": pa.float64(),
    "real": pa.float32(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp without time zone": pa.timestamp("us"),
}
BINARY_TYPES = {"bytea"}
TEXT_TYPES = {"text", "character varying", "character"}
INT_RANGE = {"integer": (-(2**31), 2**31 - 1), "smallint": (-(2**15), 2**15 - 1)}


def column_sql(c: ColumnDef, keys: tuple[str, ...]) -> str:
    """A column of CREATE TABLE for a declared column."""
    pg = PG_TYPES[c.type]
    if c.type is ColumnType.STRING and c.max_length:
        pg = f"varchar({c.max_length})"
    elif c.type is ColumnType.DECIMAL and c.precision:
        pg = f"numeric({c.precision}, {c.scale or 0})"
    sql = f"{quote(c.name)} {pg}"
    if c.required and c.name not in keys:
        sql += " NOT NULL"
    return sql


def _is_text(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t))


def fit_column(values: pa.ChunkedArray, pg: str) -> pa.ChunkedArray | None:
    """``values`` in the Arrow type binary COPY needs for a column of type ``pg``; None: cast in SQL."""
    t = values.type
    if pg in TEXT_TYPES:
        return values if _is_text(t) else None
    if pg in BINARY_TYPES:
        return (
            values
            if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t)
            else None
        )
    if pg == "numeric":
        return values if pa.types.is_decimal(t) else None
    twin = BINARY_TWIN.get(pg)
    if twin is None:
        return None
    if t == twin:
        return values
    if pa.types.is_integer(t) and pa.types.is_integer(twin):
        low, high = INT_RANGE.get(pg, (-(2**63), 2**63 - 1))
        bounds = pc.min_max(values).as_py()
        if bounds["min"] is not None and (bounds["min"] < low or bounds["max"] > high):
            return None  # the database says which rows are out of range
        return values.cast(twin)
    if pa.types.is_integer(t) and pa.types.is_floating(twin):
        return values.cast(twin)
    if pa.types.is_float64(t) and twin == pa.float32():
        return values.cast(twin, safe=False)
    return None


def fit(table: pa.Table, types: dict[str, str]) -> pa.Table | None:
    """The table ready for binary COPY into columns of ``types``, or None if a column needs SQL."""
    columns = []
    for name in table.column_names:
        fitted = fit_column(table.column(name), types[name])
        if fitted is None:
            return None
        columns.append(fitted)
    return pa.table(columns, names=table.column_names)


class Refused(TargetError):
    """The database refused the rows of one statement (constraint or value error).

    ``row`` is the index of the offending row in a COPY when the database tells it."""

    def __init__(self, message: str, row: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.row = row


def _text(value: str | bytes) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


COPY_LINE = re.compile(r"^COPY .*, line (\d+)(?:, column (.+?))?(?:[:\n]|$)")


def refusal(error: adbc_driver_manager.Error) -> Refused | None:
    """A Refused when the error is about the rows' values (SQLSTATE classes 22 and 23), else None.

    22P03 (bad binary format) is a type mismatch of a whole column, not a row's fault."""
    state = error.sqlstate or ""
    if not (state.startswith("23") or state.startswith("22")) or state == "22P03":
        return None
    diag = {_text(k): _text(v) for k, v in (error.details or [])}
    message = diag.get("PG_DIAG_MESSAGE_PRIMARY") or split_refused(str(error))
    detail = diag.get("PG_DIAG_MESSAGE_DETAIL", "")
    if detail and not detail.startswith("Failing row contains"):
        message = f"{message}: {detail}"
    match = COPY_LINE.match(diag.get("PG_DIAG_CONTEXT", ""))
    if match and match.group(2):
        message = f"column {match.group(2)}: {message}"
    return Refused(message, int(match.group(1)) - 1 if match else None)


def as_frame(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame
