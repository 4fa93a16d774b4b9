"""PostgreSQL types and errors, as the PostgreSQL target needs them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import polars as pl
import psycopg
import pyarrow as pa

from impex.domain.definitions import ColumnType
from impex.targets.base import ColumnDef, TargetError
from impex.targets.sql import driver_words, quote

PG_TYPES = {
    ColumnType.STRING: "text",
    ColumnType.INTEGER: "bigint",
    ColumnType.FLOAT: "double precision",
    ColumnType.DECIMAL: "numeric",
    ColumnType.BOOLEAN: "boolean",
    ColumnType.DATE: "date",
    ColumnType.TIMESTAMP: "timestamp",
}


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


class Refused(TargetError):
    """The database refused the rows of one statement (constraint or value error).

    ``row`` is the index of the offending row in a COPY when the database tells it."""

    def __init__(self, message: str, row: int | None, column: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.row = row
        self.column = column


COPY_LINE = re.compile(r"^COPY .*, line (\d+)(?:, column (.+?))?(?:[:\n]|$)")


def refusal(error: psycopg.Error) -> Refused | None:
    """A Refused when the error is about the rows' values (SQLSTATE classes 22 and 23), else None.

    22P03 (bad binary format) is a type mismatch of a whole column, not a row's fault."""
    state = error.sqlstate or ""
    if not (state.startswith("23") or state.startswith("22")) or state == "22P03":
        return None
    diag = error.diag
    message = diag.message_primary or driver_words(str(error))
    detail = diag.message_detail or ""
    if detail and not detail.startswith("Failing row contains"):
        message = f"{message}: {detail}"
    match = COPY_LINE.match(diag.context or "")
    column = diag.column_name or (match.group(2) if match else None) or _key_column(detail)
    if match and match.group(2):
        message = f"column {match.group(2)}: {message}"
    return Refused(message, int(match.group(1)) - 1 if match else None, column)


KEY_DETAIL = re.compile(r"^Key \((\w+)\)=")


def _key_column(detail: str) -> str | None:
    """The column of a one-column key a unique or foreign key violation names: ``Key (email)=(…)``."""
    match = KEY_DETAIL.match(detail)
    return match.group(1) if match else None


def as_frame(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


# The Arrow type of a result column, by the column's type OID.
_RESULT_TYPES: dict[int, pa.DataType] = {
    20: pa.int64(),
    23: pa.int32(),
    21: pa.int16(),
    26: pa.int64(),
    700: pa.float32(),
    701: pa.float64(),
    16: pa.bool_(),
    1082: pa.date32(),
    1114: pa.timestamp("us"),
    1184: pa.timestamp("us", tz="UTC"),
    17: pa.binary(),
}


def as_arrow(description: Sequence[psycopg.Column], rows: list[tuple[Any, ...]]) -> pa.Table:
    """A query's rows as an Arrow table. Numeric values (and any type not listed) are kept as the
    database's text: exact, as impex stores a decimal key."""
    names = [c.name for c in description]
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    arrays = []
    for column, values in zip(description, columns, strict=True):
        kind = _RESULT_TYPES.get(column.type_code)
        if kind is None:
            arrays.append(pa.array([None if v is None else str(v) for v in values], pa.string()))
        else:
            arrays.append(pa.array(values, kind))
    return pa.table(arrays, names=names)
