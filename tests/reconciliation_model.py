"""An independent model of reconciliation, record by record, as the README states it: what the table,
the counters and the rejects must be after an import of ``records`` into a table holding ``table``.

Written from the rules, not from the engine: no chunks, no hashes, no frames. A key is a tuple of
values as stored; a row maps the key to the tuple of its other values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Key = tuple[Any, ...]
Values = tuple[Any, ...]


@dataclass
class Outcome:
    table: dict[Key, Values]
    counters: dict[str, int] = field(default_factory=dict)
    rejects: list[tuple[int, str]] = field(default_factory=list)  # (record number, reason)


def reconciled(
    table: dict[Key, Values],
    records: list[tuple[Key, Values]],
    *,
    operation: str,
    doubles: str = "last_wins",
    duplicates: str = "reject",
) -> Outcome:
    """Each record in file order: a null in its key is a missing key; a key an earlier record applied
    is a double (last_wins: it updates the row, except for delete: there the first copy did it);
    else the operation decides, by whether the key was in the table before the run."""
    now = dict(table)
    applied: set[Key] = set()
    c = dict.fromkeys(
        ("read", "inserted", "updated", "unchanged", "deleted", "rejected", "doubles", "duplicates"), 0
    )
    rejects: list[tuple[int, str]] = []

    def reject(record_no: int, reason: str) -> None:
        rejects.append((record_no, reason))
        c["rejected"] += 1

    def write(key: Key, values: Values) -> None:
        c["unchanged" if now.get(key) == values else "updated"] += 1
        now[key] = values

    for record_no, (key, values) in enumerate(records, start=1):
        c["read"] += 1
        if any(v is None for v in key):
            reject(record_no, "missing_key")
            continue
        if key in applied:
            c["doubles"] += 1
            if doubles == "reject":
                reject(record_no, "double")
            elif doubles == "last_wins" and operation != "delete":
                write(key, values)
            continue
        there = key in table
        if operation in ("update", "delete") and not there:
            reject(record_no, "key_not_found")
            continue
        if operation == "delete":
            del now[key]
            c["deleted"] += 1
        elif not there:
            now[key] = values
            c["inserted"] += 1
        elif operation in ("update", "insert_or_update"):
            write(key, values)
        elif operation == "insert_only_new":
            c["unchanged"] += 1
            continue
        else:  # insert of a key the table has
            c["duplicates"] += 1
            if duplicates == "reject":
                reject(record_no, "duplicate_key")
                continue
            if duplicates == "ignore":
                c["unchanged"] += 1
                continue
            write(key, values)
        applied.add(key)
    return Outcome(now, c, rejects)
