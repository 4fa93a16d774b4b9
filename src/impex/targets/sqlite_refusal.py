"""What a row SQLite refused is reported with: the columns the refusal is about, their values and
SQLite's reason, as in ``columns lo = '5', hi = '3': CHECK constraint failed: ordered``.

Only a refused row comes here; the bulk path never does. SQLite names the columns (as
``table.column``) of a NOT NULL or UNIQUE failure and of a value a STRICT table's column refuses for
its type, but a CHECK constraint only by its name or, when it has none, by its expression: its
columns are then those the expression uses, read from the table's CREATE TABLE statement. No
FOREIGN KEY failure comes: impex's connection leaves SQLite's foreign keys off.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import polars as pl

from impex.targets.base import Refusal
from impex.targets.refusals import said, value_text
from impex.targets.values import as_stored

if TYPE_CHECKING:
    from impex.targets.sqlite import SqliteRun

LISTED = re.compile(r"^(?:NOT NULL|UNIQUE) constraint failed: (.+)$", re.S)
# A STRICT table's column refusing a value of another type: "cannot store TEXT value in INTEGER column t.n"
MISTYPED = re.compile(r"cannot store \w+ value in \w+ column (.+)$", re.S)
CHECKED = re.compile(r"^CHECK constraint failed: (.+)$", re.S)
TOKEN = re.compile(
    r"""(?P<space>\s+|--[^\n]*|/\*.*?(?:\*/|\Z))
    |(?P<string>[xX]?'(?:[^']|'')*'?)
    |(?P<number>\d[\w.]*|\.\d\w*)
    |(?P<name>"(?:[^"]|"")*"?|`(?:[^`]|``)*`?|\[[^\]]*\]?|[^\W\d]\w*)
    |(?P<other>.)""",
    re.X | re.S,
)


def is_refusal(message: str) -> bool:
    """Whether SQLite's ``message`` refuses a row (its constraints, a STRICT column's type), not the
    statement."""
    return "constraint failed" in message.lower() or MISTYPED.search(message) is not None


def explained(run: SqliteRun, row: pl.DataFrame, message: str) -> Refusal:
    """The refusal of ``row`` (a one-row frame with its ``_row``), SQLite having said ``message``."""
    columns = _columns(run, message)
    stored = as_stored(row)
    by_name = {c.lower(): c for c in stored.columns if c != "_row"}
    values = {c: value_text(stored.get_column(by_name[c.lower()])) for c in columns if c.lower() in by_name}
    # The reject's column is one whose value the row has (an update's may not have them all).
    first = next((c for c in columns if c in values), columns[0] if columns else None)
    value = values.get(first) if first is not None else None
    return Refusal(int(row["_row"][0]), said(columns, values, message), first, value)


def _columns(run: SqliteRun, message: str) -> list[str]:
    if match := LISTED.match(message) or MISTYPED.match(message):
        return listed_columns(match.group(1), run.table, run.columns)
    if match := CHECKED.match(message):
        return checked_columns(match.group(1), run.t.table_sql(run.table) or "", run.columns)
    return []


def listed_columns(listed: str, table: str, columns: list[str]) -> list[str]:
    """The table's columns of ``t.a, t.b`` (none when another table's are listed: a trigger's)."""
    prefix = f"{table}.".lower()
    if not listed.lower().startswith(prefix):
        return []
    names = {c.lower(): c for c in columns}
    parts = (", " + listed).lower().split(", " + prefix)[1:]
    if not all(part in names for part in parts):
        return []
    return [names[part] for part in parts]


def checked_columns(said_check: str, create_sql: str, columns: list[str]) -> list[str]:
    """The columns, in the table's order, that the CHECK SQLite named ``said_check`` uses: a named
    constraint's expression in ``create_sql``, or else ``said_check`` itself, the expression."""
    named = _named_checks(_tokens(create_sql), said_check)
    used: set[str] = set()
    for expression in named or [_tokens(said_check)]:
        used |= _identifiers(expression)
    return [c for c in columns if c.lower() in used]


Token = tuple[str, str]  # kind, text


def _tokens(sql: str) -> list[Token]:
    """SQL's tokens, without spaces and comments."""
    found = ((m.lastgroup or "other", m.group()) for m in TOKEN.finditer(sql))
    return [(kind, text) for kind, text in found if kind != "space"]


def _named_checks(tokens: list[Token], name: str) -> list[list[Token]]:
    """The expressions of each ``CONSTRAINT name CHECK (…)`` among ``tokens``."""
    found = []
    for i, token in enumerate(tokens[:-3]):
        if (
            _is_word(token, "CONSTRAINT")
            and _unquoted(tokens[i + 1]) == name.lower()
            and _is_word(tokens[i + 2], "CHECK")
            and tokens[i + 3] == ("other", "(")
        ):
            found.append(_parenthesized(tokens, i + 3))
    return found


def _parenthesized(tokens: list[Token], start: int) -> list[Token]:
    """The tokens inside the parenthesis opened at ``start``, up to the one that closes it."""
    depth = 0
    for i in range(start, len(tokens)):
        if tokens[i] == ("other", "("):
            depth += 1
        elif tokens[i] == ("other", ")"):
            depth -= 1
        if depth == 0:
            return tokens[start + 1 : i]
    return tokens[start + 1 :]


def _identifiers(expression: list[Token]) -> set[str]:
    """The names an expression uses as columns (lower case): not a function's, not a qualifier."""
    following = [*expression[1:], ("other", "")]
    return {
        _unquoted(token)
        for token, after in zip(expression, following, strict=True)
        if token[0] == "name" and after not in (("other", "("), ("other", "."))
    }


def _unquoted(token: Token) -> str:
    kind, text = token
    if kind == "name" and text[:1] in ('"', "`", "["):
        inner = text[1:-1]
        return (inner if text[0] == "[" else inner.replace(text[0] * 2, text[0])).lower()
    return text.lower()


def _is_word(token: Token, word: str) -> bool:
    return token[0] == "name" and token[1].upper() == word
