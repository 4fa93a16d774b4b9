"""PostgreSQL types and errors, as the PostgreSQL target needs them."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
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

    ``row`` is the index of the offending row in a COPY when the database tells it; ``columns`` are
    the ones its error names (a COPY's column, a not-null column, a key's columns), ``constraint``
    the constraint it names, ``function`` the trigger function that raised it (RAISE EXCEPTION).
    ``sent`` is set by a statement that sent rows encoded by ``pg_copy``: their columns and types,
    to read a refused row back; ``casts`` by a statement casting every row of its frame into a
    table (``pg_casts`` then finds the refused values of the whole frame at once)."""

    def __init__(
        self,
        message: str,
        row: int | None,
        columns: tuple[str, ...] = (),
        constraint: str | None = None,
        state: str = "",
        function: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.row = row
        self.columns = columns
        self.constraint = constraint
        self.state = state
        self.function = function
        self.sent: dict[str, str] | None = None
        self.casts: Casts | None = None


@dataclass(frozen=True)
class Casts:
    """How a statement puts every row of its frame into ``table``: each value cast to its column's
    base type in ``types``, then assigned to the column. ``encoded``: the temporary table's types of
    rows encoded ahead (``pg_copy``); None for a frame sent as it is."""

    table: str
    types: dict[str, str]
    encoded: dict[str, str] | None = None


RAISED = "P0001"  # raise_exception: a PL/pgSQL RAISE EXCEPTION, a trigger's refusal of the row
# The functions the error went through, innermost first: the last is the trigger's own.
FUNCTION_LINE = re.compile(r"^PL/pgSQL function (?:[\w$]+\.)?([\w$]+|\"(?:[^\"]|\"\")+\")\(", re.MULTILINE)
COPY_LINE = re.compile(r"^COPY .*, line (\d+)(?:, column (.+?))?(?::|$)", re.MULTILINE)


def refusal(error: psycopg.Error, scrub: Callable[[object], str] = str) -> Refused | None:
    """A Refused when the error is about the rows' values (SQLSTATE classes 22 and 23, or a trigger's
    RAISE EXCEPTION), else None.

    22P03 (bad binary format) is a type mismatch of a whole column, not a row's fault."""
    state = error.sqlstate or ""
    if not (state.startswith(("23", "22")) or state == RAISED) or state == "22P03":
        return None
    diag = error.diag
    detail = diag.message_detail or ""
    message = reason(diag.message_primary or driver_words(str(error)), detail)
    # A value's own parser may put lines of its own before the COPY's ("JSON data, line 1: …").
    match = COPY_LINE.search(diag.context or "")
    named = diag.column_name or (match.group(2) if match else None)
    columns = (named,) if named else _key_columns(detail)
    row = int(match.group(1)) - 1 if match else None
    functions = FUNCTION_LINE.findall(diag.context or "") if state == RAISED else []
    function = functions[-1].strip('"').replace('""', '"') if functions else None
    return Refused(scrub(message), row, columns, diag.constraint_name, state, function)


def reason(message: str, detail: str) -> str:
    """The database's message and its detail, but for a detail showing the whole row unlabelled."""
    if detail and not detail.startswith("Failing row contains"):
        return f"{message}: {detail}"
    return message


@contextmanager
def casting(casts: Casts) -> Iterator[None]:
    """Around a statement casting every row of its frame as ``casts`` says: its refusal keeps it."""
    try:
        yield
    except Refused as e:
        e.casts = casts
        raise


@contextmanager
def sending(types: dict[str, str] | None) -> Iterator[None]:
    """Around a statement sending rows encoded for columns of ``types`` (None: not encoded): its
    refusal keeps them."""
    try:
        yield
    except Refused as e:
        e.sent = types
        raise


KEY_DETAIL = re.compile(r"^(?:Key|Partition key of the failing row contains) \(([^)]*)\) ?=")


def _key_columns(detail: str) -> tuple[str, ...]:
    """The columns of a key a unique or foreign key violation names, ``Key (email)=(…)``, or of the
    partition key no partition takes, ``Partition key of the failing row contains (region) = (…)``;
    none for a key on an expression."""
    match = KEY_DETAIL.match(detail)
    return tuple(name.strip('"') for name in match.group(1).split(", ")) if match else ()


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


# Types whose values the driver gives as Arrow takes them (``_RESULT_TYPES``), by regtype name.
READ_AS_IS = {
    "bigint",
    "integer",
    "smallint",
    "oid",
    "real",
    "double precision",
    "boolean",
    "date",
    "timestamp without time zone",
    "timestamp with time zone",
    "bytea",
}


def selected_as_text(types: dict[str, str]) -> str:
    """A select list of columns of ``types``, those of any other type as the database's text: the
    driver gives a jsonb as a dict and an array as a list, whose Python text the column refuses."""
    return ", ".join(
        quote(c) if pg in READ_AS_IS else f"{quote(c)}::text AS {quote(c)}" for c, pg in types.items()
    )


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
