"""What a row SQLite refused is reported with: the columns the refusal is about, their values and
SQLite's reason, as in ``columns lo = '5', hi = '3': CHECK constraint failed: ordered``.

Only a refused row comes here; the bulk path never does. SQLite names the columns (as
``table.column``) of a NOT NULL or UNIQUE failure and of a value a STRICT table's column refuses for
its type, but a CHECK constraint only by its name or, when it has none, by its expression: its
columns are then those the expression uses, read from the table's CREATE TABLE statement. A unique
index on an expression is named as ``index 'name'``: its columns are those its expression uses. A
FOREIGN KEY failure names nothing: the key the row breaks is found by asking each (``sqlite_keys``).
A trigger's ``RAISE(ABORT, 'message')`` comes as the message alone: the trigger is found by it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import polars as pl

from impex.targets.base import Refusal
from impex.targets.refusals import said, value_text
from impex.targets.sql import quote
from impex.targets.sqlite_keys import FOREIGN_KEY, orphans_sql, referred_sql
from impex.targets.sqlite_sql import (
    OPEN,
    Token,
    identifiers,
    is_word,
    name_key,
    parenthesized,
    string_value,
    tokens,
    unquoted,
)
from impex.targets.values import as_stored

if TYPE_CHECKING:
    from impex.targets.sqlite import SqliteRun

LISTED = re.compile(r"^(?:NOT NULL|UNIQUE) constraint failed: (.+)$", re.S)
# A STRICT table's column refusing a value of another type: "cannot store TEXT value in INTEGER column t.n"
MISTYPED = re.compile(r"cannot store \w+ value in \w+ column (.+)$", re.S)
CHECKED = re.compile(r"^CHECK constraint failed: (.+)$", re.S)
INDEXED = re.compile(r"^UNIQUE constraint failed: index '(.+)'$", re.S)
REFUSED_ROW = "_impex_refused"  # the refused row alone, in a temporary table


def is_refusal(message: str) -> bool:
    """Whether SQLite's ``message`` refuses a row (its constraints, a STRICT column's type), not the
    statement."""
    return "constraint failed" in message.lower() or MISTYPED.search(message) is not None


def explained(run: SqliteRun, row: pl.DataFrame, message: str) -> Refusal:
    """The refusal of ``row`` (a one-row frame with its ``_row``), SQLite having said ``message``."""
    columns, message = _about(run, row, message)
    return refused(row, columns, message)


def refused(row: pl.DataFrame, columns: list[str], message: str) -> Refusal:
    """The refusal of ``row`` (a one-row frame with its ``_row``), about ``columns``."""
    stored = as_stored(row)
    by_name = {name_key(c): c for c in stored.columns if c != "_row"}
    values = {
        c: value_text(stored.get_column(by_name[name_key(c)])) for c in columns if name_key(c) in by_name
    }
    # The reject's column is one whose value the row has (an update's may not have them all).
    first = next((c for c in columns if c in values), columns[0] if columns else None)
    value = values.get(first) if first is not None else None
    return Refusal(int(row["_row"][0]), said(columns, values, message), first, value)


def _about(run: SqliteRun, row: pl.DataFrame, message: str) -> tuple[list[str], str]:
    """The columns the refusal is about, and what to say of it."""
    if match := INDEXED.match(message):
        return indexed_columns(run.t.index_sql(match.group(1)) or "", run.columns), message
    if match := LISTED.match(message) or MISTYPED.match(message):
        return listed_columns(match.group(1), run.table, run.columns), message
    if match := CHECKED.match(message):
        return checked_columns(match.group(1), run.t.table_sql(run.table) or "", run.columns), message
    if message == FOREIGN_KEY:
        columns, broken = _broken_key(run, row)
        return columns, f"{message}: {broken}" if broken else message
    if trigger := run.t.raising_trigger(message):
        return [], f"trigger {trigger[0]} on table {trigger[1]}: {message}"
    return [], message


def _broken_key(run: SqliteRun, row: pl.DataFrame) -> tuple[list[str], str]:
    """The columns of the foreign key ``row`` breaks, and what breaking it means: its own key's when
    it has no parent, else those of the row another table's rows still refer to (a delete's)."""
    t = run.t
    have = {name_key(c) for c in row.columns}
    run.load_temp(REFUSED_ROW, row)
    relation = f"temp.{quote(REFUSED_ROW)}"
    keys = run.foreign_keys()
    for key in keys.own:
        if all(name_key(c) in have for c in key.columns):
            own = all(name_key(c) in have for c in key.referenced)
            if t._rows(orphans_sql(key, relation, "_row", own_parent=own)):
                return list(key.columns), key.missing()
    if run.keys and all(name_key(k) in have for k in run.keys):
        join = " AND ".join(f"x.{quote(k)} = r.{quote(k)}" for k in run.keys)
        stored = ", ".join(f"x.{quote(c)}" for c in run.columns)
        gone = f"(SELECT r._row AS _row, {stored} FROM {relation} r JOIN {quote(run.table)} x ON {join})"
        for key in keys.referring:
            if t._rows(referred_sql(key, gone, "_row", still_there=True)):
                return list(key.referenced), key.referring()
    return [], ""


def listed_columns(listed: str, table: str, columns: list[str]) -> list[str]:
    """The table's columns of ``t.a, t.b`` (none when another table's are listed: a trigger's)."""
    prefix = name_key(f"{table}.")
    if not name_key(listed).startswith(prefix):
        return []
    names = {name_key(c): c for c in columns}
    parts = name_key(", " + listed).split(", " + prefix)[1:]
    if not all(part in names for part in parts):
        return []
    return [names[part] for part in parts]


def checked_columns(said_check: str, create_sql: str, columns: list[str]) -> list[str]:
    """The columns, in the table's order, that the CHECK SQLite named ``said_check`` uses: a named
    constraint's expression in ``create_sql``, or else ``said_check`` itself, the expression."""
    named = _named_checks(tokens(create_sql), said_check)
    used: set[str] = set()
    for expression in named or [tokens(said_check)]:
        used |= identifiers(expression)
    return [c for c in columns if name_key(c) in used]


def indexed_columns(index_sql: str, columns: list[str]) -> list[str]:
    """The columns, in the table's order, that an index's terms use (``ON t (lower(email))``)."""
    found = tokens(index_sql)
    for i in range(len(found) - 2):
        if is_word(found[i], "ON") and found[i + 2] == OPEN:
            used = identifiers(parenthesized(found, i + 2))
            return [c for c in columns if name_key(c) in used]
    return []


def _named_checks(tokens: list[Token], name: str) -> list[list[Token]]:
    """The expressions of each ``CONSTRAINT name CHECK (…)`` among ``tokens``."""
    found = []
    for i, token in enumerate(tokens[:-3]):
        if (
            is_word(token, "CONSTRAINT")
            and unquoted(tokens[i + 1]) == name_key(name)
            and is_word(tokens[i + 2], "CHECK")
            and tokens[i + 3] == OPEN
        ):
            found.append(parenthesized(tokens, i + 3))
    return found


def raised_messages(trigger_sql: str) -> list[re.Pattern[str]]:
    """What each ``RAISE(ABORT|FAIL|ROLLBACK, message)`` of a trigger says: its text, or, when the
    message is an expression, a pattern of its literal parts (none when it has none)."""
    found = tokens(trigger_sql)
    patterns = []
    for i in range(len(found) - 1):
        if not (is_word(found[i], "RAISE") and found[i + 1] == OPEN):
            continue
        said_tokens = parenthesized(found, i + 1)[2:]  # after the action and its comma
        if not any(kind == "string" for kind, _ in said_tokens):
            continue
        parts: list[str] = []
        for token in said_tokens:
            if token[0] == "string":
                parts.append(re.escape(string_value(token)))
            elif token != ("other", "|") and parts[-1:] != [".*"]:
                parts.append(".*")
        patterns.append(re.compile("".join(parts), re.S))
    return patterns
