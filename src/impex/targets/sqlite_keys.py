"""The foreign keys a run's SQLite table takes part in, and the rows that break them.

A table's own keys (its rows refer to parent rows) and the keys of the tables that refer to it (a
row deleted or changed here may leave theirs without a parent). SQLite says no more than "FOREIGN KEY
constraint failed": which key a row breaks is found by asking each one, in SQL, about a relation of
rows (the refused row alone, a chunk's rows, the staged rows), each with an id column.

A key declared ``DEFERRABLE INITIALLY DEFERRED`` is checked by SQLite only at COMMIT, which would
refuse a whole commit group at once: ``deferred`` says whether any key of the table, or referring to
it, may be one, so that the run checks them itself before a chunk's checkpoint is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from impex.targets.sql import quote
from impex.targets.sqlite_sql import OPEN, Token, is_word, name_key, same_name, tokens

FOREIGN_KEY = "FOREIGN KEY constraint failed"  # all SQLite says
MISSING = "not present in"
Rows = Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]]  # a query's rows, by SQL and parameters


@dataclass(frozen=True)
class ForeignKey:
    """``child (columns) REFERENCES parent (referenced)``."""

    child: str
    columns: tuple[str, ...]
    parent: str
    referenced: tuple[str, ...]
    deferred: bool = False

    def missing(self) -> str:
        """What a child row whose parent is missing is told."""
        return f"{MISSING} {self.parent} ({', '.join(self.referenced)})"

    def referring(self) -> str:
        """What a parent row that rows of the child still refer to is told."""
        return f"still referred to from {self.child} ({', '.join(self.columns)})"


def lacks_parent(message: str) -> bool:
    """Whether a refusal's words say the row's parent is missing (``ForeignKey.missing``)."""
    return f"{FOREIGN_KEY}: {MISSING} " in message


@dataclass(frozen=True)
class TableKeys:
    own: list[ForeignKey]  # the table's rows refer to parents
    referring: list[ForeignKey]  # other tables' rows (or its own) refer to the table's

    @property
    def deferred(self) -> bool:
        return any(k.deferred for k in (*self.own, *self.referring))


def table_keys(rows: Rows, table: str) -> TableKeys:
    """The foreign keys ``table`` takes part in, as the file declares them now."""
    tables = [name for (name,) in rows("SELECT name FROM sqlite_master WHERE type='table'", ())]
    own = foreign_keys(rows, table)
    referring = [k for other in tables for k in foreign_keys(rows, other) if same_name(k.parent, table)]
    return TableKeys(own, referring)


def foreign_keys(rows: Rows, table: str) -> list[ForeignKey]:
    """The table's foreign keys, in the order it declares them."""
    listed = rows(f"PRAGMA foreign_key_list({quote(table)})", ())
    if not listed:
        return []
    by_id: dict[int, list[tuple[Any, ...]]] = {}
    for row in listed:  # id, seq, table, from, to, on_update, on_delete, match
        by_id.setdefault(int(row[0]), []).append(row)
    found = rows("SELECT sql FROM sqlite_master WHERE type='table' AND name=? COLLATE NOCASE", (table,))
    deferring = deferred_clauses(str(found[0][0] or "")) if found else []
    keys = []
    # SQLite numbers a table's keys from the last one declared.
    for n, key_id in enumerate(sorted(by_id, reverse=True)):
        parts = sorted(by_id[key_id], key=lambda r: int(r[1]))
        parent = str(parts[0][2])
        referenced = tuple(str(p[4]) for p in parts if p[4] is not None)
        if not referenced:  # the parent's primary key
            info = rows(f"PRAGMA table_info({quote(parent)})", ())
            referenced = tuple(str(r[1]) for r in sorted((r for r in info if r[5]), key=lambda r: r[5]))
        # Counted wrong (a statement this reading does not follow): any of them may be deferred.
        deferred = deferring[n] if len(deferring) == len(by_id) else any(deferring)
        keys.append(ForeignKey(table, tuple(str(p[3]) for p in parts), parent, referenced, deferred))
    return keys


def deferred_clauses(create_sql: str) -> list[bool]:
    """For each REFERENCES clause of a CREATE TABLE statement, in order: whether it is
    ``DEFERRABLE INITIALLY DEFERRED`` (SQLite defers no other)."""
    found = tokens(create_sql)
    starts = [i for i, token in enumerate(found) if is_word(token, "REFERENCES")]
    return [_defers(found[start + 1 : _clause_end(found, start)]) for start in starts]


def _clause_end(found: list[Token], start: int) -> int:
    """Where the REFERENCES clause at ``start`` ends: the next clause, or a comma or parenthesis that
    closes the column or constraint."""
    depth = 0
    for i in range(start + 1, len(found)):
        token = found[i]
        if token == OPEN:
            depth += 1
        elif token == ("other", ")"):
            depth -= 1
            if depth < 0:
                return i
        elif depth == 0 and (token == ("other", ",") or is_word(token, "REFERENCES")):
            return i
    return len(found)


def _defers(clause: list[Token]) -> bool:
    for i in range(len(clause) - 2):
        if (
            is_word(clause[i], "DEFERRABLE")
            and is_word(clause[i + 1], "INITIALLY")
            and is_word(clause[i + 2], "DEFERRED")
        ):
            return i == 0 or not is_word(clause[i - 1], "NOT")
    return False


def orphans_sql(
    key: ForeignKey, rows: str, row_id: str, *, own_parent: bool = False, not_parents: str | None = None
) -> str:
    """The ids of ``rows`` (a relation with the key's columns) whose parent is not in the parent
    table: none of their key's values is null, and no parent row has them. With ``own_parent`` (the
    relation has the referenced columns too) a row of a self-referring table may be its own parent;
    a parent row with the values of a row of ``not_parents`` (a relation) does not count."""
    present = " AND ".join(f"r.{quote(c)} IS NOT NULL" for c in key.columns)
    pairs = list(zip(key.columns, key.referenced, strict=True))
    parent = " AND ".join(f"p.{quote(ref)} = r.{quote(c)}" for c, ref in pairs)
    if not_parents is not None:
        same = " AND ".join(f"x.{quote(ref)} = p.{quote(ref)}" for ref in key.referenced)
        parent += f" AND NOT EXISTS (SELECT 1 FROM {not_parents} x WHERE {same})"
    sql = (
        f"SELECT r.{quote(row_id)} FROM {rows} r WHERE {present} "
        f"AND NOT EXISTS (SELECT 1 FROM {quote(key.parent)} p WHERE {parent})"
    )
    if own_parent and same_name(key.child, key.parent):
        sql += " AND NOT (" + " AND ".join(f"r.{quote(ref)} IS r.{quote(c)}" for c, ref in pairs) + ")"
    return sql


def referred_sql(key: ForeignKey, gone: str, row_id: str, *, still_there: bool) -> str:
    """The ids of ``gone`` (rows of the parent table as they were before a delete or change) that
    rows of the key's child table still refer to; unless ``still_there``, only those whose values
    no row of the parent table has any more."""
    pairs = list(zip(key.columns, key.referenced, strict=True))
    present = " AND ".join(f"g.{quote(ref)} IS NOT NULL" for ref in key.referenced)
    child = " AND ".join(f"c.{quote(c)} = g.{quote(ref)}" for c, ref in pairs)
    sql = (
        f"SELECT g.{quote(row_id)} FROM {gone} g WHERE {present} "
        f"AND EXISTS (SELECT 1 FROM {quote(key.child)} c WHERE {child})"
    )
    if not still_there:
        parent = " AND ".join(f"p.{quote(ref)} = g.{quote(ref)}" for ref in key.referenced)
        sql += f" AND NOT EXISTS (SELECT 1 FROM {quote(key.parent)} p WHERE {parent})"
    return sql


def unique_on(rows: Rows, table: str, keys: tuple[str, ...]) -> bool:
    """Whether the table's primary key or a unique index (not partial, no expression) has exactly
    the key columns: then no two rows share a key."""
    wanted = {name_key(k) for k in keys}
    info = rows(f"PRAGMA table_info({quote(table)})", ())
    if wanted and {name_key(str(r[1])) for r in info if r[5]} == wanted:
        return True
    for index in rows(f"PRAGMA index_list({quote(table)})", ()):
        if index[2] and not index[4]:  # unique, not partial
            columns = [r[2] for r in rows(f"PRAGMA index_info({quote(index[1])})", ())]
            if None not in columns and {name_key(str(c)) for c in columns} == wanted:
                return True
    return False
