"""Small SQL helpers shared by the target kinds."""

from __future__ import annotations

import re
from collections.abc import Iterable


def quote(identifier: str) -> str:
    """Quote an identifier (names are validated by the domain; quoting keeps keywords safe)."""
    return '"' + identifier.replace('"', '""') + '"'


def quote_table(name: str) -> str:
    """Quote a table's name, and its schema's when it has one (``crm.contacts``: the domain's names
    hold no other dot)."""
    return ".".join(quote(part) for part in name.split("."))


def quoted_list(names: Iterable[str]) -> str:
    return ", ".join(quote(n) for n in names)


def driver_words(message: str) -> str:
    """The database's own words, without the driver's prefixes and the statement it echoes (a
    statement can be as long as its table is wide)."""
    text = re.split(r"\n(?:query was|query):", message)[0]
    text = re.sub(r"^[A-Z_]+: ", "", text.strip())  # the driver's status code: INTERNAL, INTEGRITY…
    text = re.sub(r"^\[SQLite\] ", "", text)
    text = re.sub(r"^[Ff]ailed to (?:execute|prepare|step)(?: query)?: ", "", text)
    return text.strip()


def enclosable(query: str) -> str:
    """A query to put in parentheses as a subquery: without its final semicolon, and ending on a line
    of its own, so that a closing comment (``-- …``) does not swallow the parenthesis."""
    return query.strip().rstrip(";").rstrip() + "\n"
