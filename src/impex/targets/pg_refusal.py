"""What a row PostgreSQL refused is reported with: the columns the refusal is about, their values
and the database's reason, as in ``column payload = 'not json': invalid input syntax for type json``.

Only a refused row comes here; the bulk path never does. The database names the column of some
refusals only: a COPY's context line, a not-null violation, a key's detail, a table's check
constraint or unique index (its columns are in the catalog, an expression's in pg_depend). A
trigger's RAISE EXCEPTION is said with the trigger's name, found by the function that raised. A
value refused by a cast to its column's type (jsonb, an array, a uuid, an enum, a domain, a
numeric's precision) comes with no column: the row is loaded alone, and its values are put one at
a time into a copy of the table's columns until one is refused. Everything done here is rolled
back at the end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from impex.targets.base import Refusal, TargetError
from impex.targets.pg_copy import ENCODED, encoded_rows, temporary_columns
from impex.targets.pg_fit import Refused
from impex.targets.refusals import said, value_text
from impex.targets.sql import quote, quote_table

if TYPE_CHECKING:
    from impex.targets.pg_run import PostgresRun

ROW = "_impex_refused"  # the refused row alone, in a temporary table
PROBE = "_impex_probe"  # the table's columns and types, without its constraints


def explained(run: PostgresRun, row: pl.DataFrame, error: Refused) -> Refusal:
    """The refusal of ``row`` (a one-row frame with its ``_row``)."""
    t = run.t
    t.execute("SAVEPOINT impex_explain")
    try:
        columns, values = _named(run, row, error)
    except TargetError:  # the database's words alone, then
        columns, values = [c for c in error.columns if c in run.types], {}
    finally:
        t.execute("ROLLBACK TO impex_explain")
        t.execute("RELEASE impex_explain")
    first = columns[0] if columns else None
    value = values.get(first) if first is not None else None
    message = error.message
    if error.function is not None:
        message = f"{_trigger(run, error.function)}: {message}"
    return Refusal(int(row["_row"][0]), said(columns, values, message), first, value)


def _trigger(run: PostgresRun, function: str) -> str:
    """Which trigger of the table runs the function that raised: ``trigger x on table t``."""
    found = run.t.rows(
        "SELECT t.tgname::text FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
        "WHERE t.tgrelid = to_regclass($1) AND p.proname = $2 AND NOT t.tgisinternal ORDER BY 1",
        (quote_table(run.table), function),
    )
    named = f"trigger {found[0][0]}" if len(found) == 1 else f"a trigger (function {function})"
    return f"{named} on table {run.table}"


def _named(run: PostgresRun, row: pl.DataFrame, error: Refused) -> tuple[list[str], dict[str, str | None]]:
    """The columns the refusal is about, and their values as text (those that can be read)."""
    columns = [c for c in error.columns if c in run.types]
    if not columns and error.constraint:
        columns = _constraint_columns(run, error.constraint)
    loaded = _load(run, row, error.sent) if ENCODED in row.columns or not columns else None
    if not columns and loaded is not None:
        columns = _refusing_column(run, loaded)
    if ENCODED not in row.columns:
        return columns, {c: value_text(row.get_column(c)) for c in columns if c in row.columns}
    shown = [c for c in columns if loaded is not None and c in loaded]
    if not shown:
        return columns, {}
    texts = run.t.rows(f"SELECT {', '.join(f's.{quote(c)}::text' for c in shown)} FROM pg_temp.{ROW} s")
    return columns, dict(zip(shown, texts[0], strict=True))


def _constraint_columns(run: PostgresRun, constraint: str) -> list[str]:
    """The columns of the table's constraint (none for a domain's: the table has no such one), or
    of its unique index of that name: those its expressions read too (the index depends on them)."""
    found = run.t.rows(
        "SELECT a.attname::text FROM pg_constraint c CROSS JOIN LATERAL unnest(c.conkey) "
        "WITH ORDINALITY k(attnum, n) JOIN pg_attribute a ON a.attrelid = c.conrelid "
        "AND a.attnum = k.attnum WHERE c.conrelid = to_regclass($1) AND c.conname = $2 ORDER BY k.n",
        (quote_table(run.table), constraint),
    )
    if found:
        return [name for (name,) in found]
    indexed = run.t.rows(
        "SELECT a.attname::text FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "JOIN pg_attribute a ON a.attrelid = x.indrelid WHERE x.indrelid = to_regclass($1) "
        "AND i.relname = $2 AND a.attnum > 0 AND (a.attnum = ANY (x.indkey::int2[]) OR a.attnum IN "
        "(SELECT d.refobjsubid FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
        "AND d.objid = x.indexrelid AND d.refobjid = x.indrelid)) ORDER BY a.attnum",
        (quote_table(run.table), constraint),
    )
    return [name for (name,) in indexed]


def _load(run: PostgresRun, row: pl.DataFrame, sent: dict[str, str] | None) -> dict[str, str] | None:
    """The row alone in a temporary table; its columns and their types there, or None when the row
    is encoded and the statement did not say for which columns."""
    if ENCODED in row.columns:
        if sent is None:
            return None
        run.t.load_encoded(ROW, sent, encoded_rows(row))
        return sent
    values = row.drop("_row")
    run.t.load_temporary(ROW, values)
    return temporary_columns(values)[1]


def _refusing_column(run: PostgresRun, loaded: dict[str, str]) -> list[str]:
    """The first of the row's columns whose value, cast as the run casts it, the table's column
    refuses on its own (none when each is taken: the row as a whole was refused)."""
    t = run.t
    t.execute(f"CREATE TEMPORARY TABLE {PROBE} AS SELECT * FROM {quote_table(run.table)} WITH NO DATA")
    for name in (c for c in loaded if c in run.types):
        t.execute("SAVEPOINT impex_probe")
        try:
            t.execute(
                f"INSERT INTO pg_temp.{PROBE} ({quote(name)}) "
                f"SELECT s.{quote(name)}::{run.types[name]} FROM pg_temp.{ROW} s"
            )
        except Refused:
            return [name]
        finally:
            t.execute("ROLLBACK TO impex_probe")
            t.execute("RELEASE impex_probe")
    return []
