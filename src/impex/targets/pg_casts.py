"""The rows of a frame whose values their columns' types refuse, found for the whole frame at once.

A statement that casts every row of a frame into a table (INSERT … SELECT from a temporary table:
a frame with a value impex sends as text for a jsonb, enum, uuid, array or domain column, an
upsert) fails at the first refused value without saying which row holds it. Halving the frame
until one row is left costs a load of the rows and a statement per step, and a row explained
alone several more: seconds for a few hundred refused values. Here the frame is loaded once, and
each column's distinct values are tried by a PL/pgSQL function in pg_temp that assigns each to a
variable of the column's own type, as the statement does (the cast to the column's base type,
then the column's length, precision or domain checks), each behind an exception block of its own
(whose subtransaction writes nothing: it costs less than the assignment). The rows holding a refused
value are refused with the database's own words.

A row with refused values in several columns is refused for the first of them in the table's
order: the order in which PostgreSQL computes an inserted row's values, so the one its own error
names. Everything done here is rolled back at the end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from impex.targets.base import Refusal, TargetError
from impex.targets.pg_copy import ENCODED, encoded_rows, temporary_columns
from impex.targets.pg_fit import Casts, reason
from impex.targets.refusals import said, value_text
from impex.targets.sql import quote, quote_table

if TYPE_CHECKING:
    from impex.targets.pg_run import PostgresRun

CHECKED = "_impex_checked"  # the frame, in a temporary table of the statement's own types
TRIED = "_impex_cast"  # the function trying a column's values


def cast_refusals(run: PostgresRun, frame: pl.DataFrame, casts: Casts) -> dict[int, Refusal]:
    """Position in ``frame`` → the refusal of that row, for the rows one of whose values its column
    refuses; empty when the database would not tell (a value refused otherwise than by a data or
    integrity error: the caller then isolates the rows as it would have)."""
    t = run.t
    t.execute("SAVEPOINT impex_casts")
    try:
        return _refused(run, frame, casts)
    except TargetError:
        return {}
    finally:
        t.execute("ROLLBACK TO impex_casts")
        t.execute("RELEASE impex_casts")


def _refused(run: PostgresRun, frame: pl.DataFrame, casts: Casts) -> dict[int, Refusal]:
    t = run.t
    if casts.encoded is not None:
        t.load_encoded(CHECKED, casts.encoded, encoded_rows(frame))
        loaded = casts.encoded
    else:
        values, loaded = temporary_columns(frame.drop("_row", ENCODED, strict=False))
        t.load_temporary(CHECKED, values)
    found: dict[int, Refusal] = {}
    for k, (name, declared) in enumerate(_declared(run, casts.table, loaded)):
        base = casts.types[name]
        for i, text, primary, detail in _column(run, k, name, loaded[name], base, declared):
            if i in found:
                continue
            value = text if casts.encoded is not None else value_text(frame.get_column(name).slice(i, 1))
            message = t.scrub(reason(primary, detail))
            found[i] = Refusal(int(frame["_row"][i]), said([name], {name: value}, message), name, value)
    return found


def _declared(run: PostgresRun, table: str, loaded: dict[str, str]) -> list[tuple[str, str]]:
    """The loaded columns whose values a cast may refuse, in the table's order, with their declared
    types (length, precision and domain included)."""
    rows = run.t.rows(
        "SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        (quote_table(table),),
    )
    return [(name, declared) for name, declared in rows if name in loaded and declared != loaded[name]]


def _column(
    run: PostgresRun, k: int, name: str, loaded: str, base: str, declared: str
) -> list[tuple[int, str | None, str, str]]:
    """The rows whose value of column ``name`` is refused: position, value as text, the database's
    message and detail."""
    t, function = run.t, f"pg_temp.{TRIED}_{k}"
    assign = f"DECLARE x {declared} := v::{base}; BEGIN END;"
    caught = "EXCEPTION WHEN data_exception OR integrity_constraint_violation THEN"
    t.execute(
        f"CREATE FUNCTION {function}(vals {loaded}[]) "
        f"RETURNS TABLE (v {loaded}, message text, detail text) LANGUAGE plpgsql AS $impex$ BEGIN "
        f"FOREACH v IN ARRAY vals LOOP BEGIN {assign} {caught} GET STACKED DIAGNOSTICS "
        "message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL; RETURN NEXT; END; END LOOP; "
        "END $impex$"
    )
    column = quote(name)
    # A fresh temporary table filled by one COPY holds the rows in the order they were sent.
    numbered = f"SELECT row_number() OVER (ORDER BY ctid) - 1 AS i, {column} AS v FROM pg_temp.{CHECKED}"
    found = t.rows(
        f"WITH bad AS (SELECT * FROM {function}((SELECT array_agg(DISTINCT {column}) "
        f"FROM pg_temp.{CHECKED}))), n AS ({numbered}) "
        "SELECT n.i, n.v::text, bad.message, bad.detail FROM n JOIN bad ON n.v = bad.v "
        "UNION ALL SELECT n.i, NULL, bad.message, bad.detail FROM n JOIN bad "
        "ON n.v IS NULL AND bad.v IS NULL ORDER BY 1"
    )
    return [(int(i), text, primary, detail or "") for i, text, primary, detail in found]
