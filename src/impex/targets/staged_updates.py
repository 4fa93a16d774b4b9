"""Atomic mode's staged updates, written and counted alike by every target that stages rows.

A key may be staged for update several times (doubles under last_wins: ``_op`` 'u', then 'r' for
its later copies). Only the last of each key is written at the end, but each counts as it would
have in incremental mode, where each went to the table in turn: updated when it changes the row
as the copy before it (or the table) left it, unchanged when not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from impex.targets.base import ChunkResult
from impex.targets.sql import quote, quoted_list

UPDATES = "_op IN ('u', 'r')"

# Whether two rows of values differ, nulls alike: each database says it in its own words.
Differ = Callable[[str, str], str]


def last_of_each_key(stage: str, keys: Sequence[str]) -> str:
    """The condition on the staging table ``stage`` (quoted) that picks the updates written."""
    last = f"SELECT max(_rec) FROM {stage} WHERE {UPDATES} GROUP BY {quoted_list(keys)}"
    return f"{UPDATES} AND _rec IN ({last})"


def changes_sql(
    stage: str, table: str, keys: Sequence[str], values: Sequence[str], differ: Differ, *, unique: bool = True
) -> str:
    """A query of one row: how many staged updates change their row, and how many there are. Each is
    compared with the staged row of its key before it (in record order), or else with the table's:
    when the table may hold a key on several rows (``unique`` false), it changes them if it changes
    any of them (or the key has none, as for a single row)."""
    before = ", ".join(f"lag({quote(v)}) OVER w AS {quote('_was_' + v)}" for v in values)
    news = ", ".join(f"s.{quote(v)}" for v in values)
    was = ", ".join(f"s.{quote('_was_' + v)}" for v in values)
    had = ", ".join(f"t.{quote(v)}" for v in values)
    join = " AND ".join(f"t.{quote(k)} = s.{quote(k)}" for k in keys)
    rows = f"s LEFT JOIN {table} t ON {join}"
    first = differ(news, had)
    if not unique:
        rows = "s"
        first = (
            f"EXISTS (SELECT 1 FROM {table} t WHERE {join} AND {first}) "
            f"OR NOT EXISTS (SELECT 1 FROM {table} t WHERE {join})"
        )
    changed = f"CASE WHEN s._n > 1 THEN {differ(news, was)} ELSE {first} END"
    return (
        f"WITH s AS (SELECT *, {before}, row_number() OVER w AS _n FROM {stage} "
        f"WHERE _op IN ('i', 'u', 'r') WINDOW w AS (PARTITION BY {quoted_list(keys)} ORDER BY _rec)) "
        f"SELECT coalesce(sum(CASE WHEN {changed} THEN 1 ELSE 0 END), 0), count(*) "
        f"FROM {rows} WHERE s._op IN ('u', 'r')"
    )


def apply_counted(
    result: ChunkResult,
    *,
    changes: Callable[[], tuple[int, int]] | None,
    count: Callable[[], int],
    update: Callable[[], None],
    revive: Callable[[], int] | None,
) -> None:
    """Write the last staged update of each key and count them all into ``result``.

    ``changes`` (None when the job writes keys only: an update then changes nothing) tells how many
    change their row and how many do not; ``count`` how many there are; ``update`` writes them,
    adding the rows the database refuses to ``result``; ``revive`` (when the run inserts) inserts
    those whose key has no row (the copy before was refused) and says how many."""
    if changes is not None:
        result.updated, result.unchanged = changes()
        refused_before = len(result.refused_records)
        update()
        result.updated -= len(result.refused_records) - refused_before  # counted as changing it
    else:
        result.unchanged = count()
    if revive is not None:
        revived = revive()
        result.inserted += revived
        result.revived += revived
        if changes is not None:
            result.updated -= revived
        else:
            result.unchanged -= revived
