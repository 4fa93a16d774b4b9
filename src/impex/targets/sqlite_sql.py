"""SQLite's SQL text as tokens: what the target reads in the statements SQLite keeps for a table,
an index or a trigger (sqlite_master), to tell which columns a refusal is about."""

from __future__ import annotations

import re

TOKEN = re.compile(
    r"""(?P<space>\s+|--[^\n]*|/\*.*?(?:\*/|\Z))
    |(?P<string>[xX]?'(?:[^']|'')*'?)
    |(?P<number>\d[\w.]*|\.\d\w*)
    |(?P<name>"(?:[^"]|"")*"?|`(?:[^`]|``)*`?|\[[^\]]*\]?|[^\W\d]\w*)
    |(?P<other>.)""",
    re.X | re.S,
)

Token = tuple[str, str]  # kind, text
OPEN: Token = ("other", "(")
CLOSE: Token = ("other", ")")


def tokens(sql: str) -> list[Token]:
    """SQL's tokens, without spaces and comments."""
    found = ((m.lastgroup or "other", m.group()) for m in TOKEN.finditer(sql))
    return [(kind, text) for kind, text in found if kind != "space"]


def breaks_out(sql: str) -> str | None:
    """Why ``sql``, put in parentheses in a statement of impex (a query as a subquery, a filter as a
    condition), would not stay inside them: a ')' closing a parenthesis it did not open, or a ';'
    ending the statement; None when it stays. (SQLite would run the statement up to there and leave
    the rest unread.)"""
    depth = 0
    for kind, text in tokens(sql):
        if (kind, text) == OPEN:
            depth += 1
        elif (kind, text) == CLOSE:
            depth -= 1
            if depth < 0:
                return "a ')' closes a parenthesis it did not open"
        elif (kind, text) == ("other", ";"):
            return "a ';' ends it, and more follows"
    return None


def parenthesized(tokens: list[Token], start: int) -> list[Token]:
    """The tokens inside the parenthesis opened at ``start``, up to the one that closes it."""
    depth = 0
    for i in range(start, len(tokens)):
        if tokens[i] == OPEN:
            depth += 1
        elif tokens[i] == CLOSE:
            depth -= 1
        if depth == 0:
            return tokens[start + 1 : i]
    return tokens[start + 1 :]


ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def name_key(name: str) -> str:
    """A name as SQLite compares names: ASCII letters in any case are alike, other letters are not
    (SQLite does not fold 'Ä' to 'ä')."""
    return name.translate(ASCII_LOWER)


def same_name(a: str, b: str) -> bool:
    return name_key(a) == name_key(b)


def identifiers(expression: list[Token]) -> set[str]:
    """The names an expression uses as columns (as :func:`name_key` gives them): not a function's, not
    a qualifier."""
    following = [*expression[1:], ("other", "")]
    return {
        unquoted(token)
        for token, after in zip(expression, following, strict=True)
        if token[0] == "name" and after not in (OPEN, ("other", "."))
    }


def unquoted(token: Token) -> str:
    """A name's token as the name it stands for, as :func:`name_key` gives it (SQLite's names are
    case-blind)."""
    kind, text = token
    if kind == "name" and text[:1] in ('"', "`", "["):
        inner = text[1:-1]
        return name_key(inner if text[0] == "[" else inner.replace(text[0] * 2, text[0]))
    return name_key(text)


def string_value(token: Token) -> str:
    """A string literal's text."""
    return token[1][1:-1].replace("''", "'")


def is_word(token: Token, word: str) -> bool:
    return token[0] == "name" and token[1].upper() == word


def schema_refusal(table: str, database: str) -> str | None:
    """Why a table named with a schema (``crm.contacts``, which PostgreSQL takes) is refused: in SQLite
    the first name would be that of an attached database, and impex attaches none."""
    if "." not in table:
        return None
    schema = table.split(".")[0]
    return (
        f"SQLite database {database}: table {table}: SQLite tables have no schema; name the table "
        f"without {schema}."
    )
