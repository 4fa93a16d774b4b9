"""Reconciliation of a chunk's valid rows with the file so far and with the table.

Doubles: the same key earlier in the file. Duplicates: the key already in the table before the run.
Pure logic over Polars frames; the table is asked through the ``existing`` callable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from impex.domain.definitions import DoublesPolicy, DuplicatesPolicy, Operation, Reconciliation
from impex.domain.rejects import Reason
from impex.targets.base import ChunkWrite

Existing = Callable[[pl.DataFrame], np.ndarray]


@dataclass
class Reconciled:
    write: ChunkWrite
    rejects: list[tuple[int, Reason, str | None, str | None, str]] = field(default_factory=list)
    doubles: int = 0
    duplicates: int = 0
    unchanged: int = 0  # skipped on purpose (existing keys for insert_only_new, ignored duplicates)


def key_hashes(frame: pl.DataFrame, keys: tuple[str, ...]) -> np.ndarray:
    expr = pl.struct(list(keys)).hash(seed=0x1D3E) if len(keys) > 1 else pl.col(keys[0]).hash(seed=0x1D3E)
    return frame.select(expr.reinterpret(signed=True)).to_series().to_numpy()


def _key_text(frame: pl.DataFrame, keys: tuple[str, ...]) -> pl.Series:
    return frame.select(pl.concat_str([pl.col(k).cast(pl.Utf8) for k in keys], separator="|")).to_series()


def reconcile(
    good: pl.DataFrame,
    rows: np.ndarray,
    rules: Reconciliation,
    *,
    seen_contains: Callable[[np.ndarray], np.ndarray],
    existing: Existing | None,
) -> Reconciled:
    """Split valid rows into inserts/updates/deletes and rejects.

    ``rows`` are the chunk row indices of ``good``; ``existing`` is None when the table was empty
    when the run began (then every key found is a double, which ``seen_contains`` already knows).
    """
    frame = good.with_columns(pl.Series("_row", rows, dtype=pl.Int64))
    keys = rules.keys
    if not keys:
        return Reconciled(ChunkWrite(inserts=frame))
    out = Reconciled(ChunkWrite())
    key_desc = " and ".join(keys)

    null_key = frame.select(pl.any_horizontal([pl.col(k).is_null() for k in keys])).to_series()
    for r in frame.filter(null_key)["_row"].to_list():
        out.rejects.append((r, Reason.MISSING_KEY, keys[0], None, f"key {key_desc}: a value is required"))
    frame = frame.filter(~null_key)

    hashes = key_hashes(frame, keys)
    frame = frame.with_columns(pl.Series("_h", hashes))
    earlier_chunk = seen_contains(hashes)
    keep_last = rules.doubles is DoublesPolicy.LAST_WINS and rules.operation is not Operation.DELETE
    first_in_chunk = frame.select(pl.col("_h").is_first_distinct()).to_series().to_numpy()
    last_in_chunk = frame.select(pl.col("_h").is_last_distinct()).to_series().to_numpy()
    survivor = last_in_chunk if keep_last else first_in_chunk & ~earlier_chunk
    double = ~survivor | earlier_chunk
    out.doubles = int(double.sum())
    if rules.doubles is DoublesPolicy.REJECT:
        rejected = frame.filter(pl.Series(~survivor))
        for r, text in zip(rejected["_row"].to_list(), _key_text(rejected, keys).to_list(), strict=True):
            out.rejects.append((r, Reason.DOUBLE, keys[0], text, f"key {key_desc} = {text} appears earlier in the file"))
    frame = frame.filter(pl.Series(survivor))
    earlier = earlier_chunk[survivor]
    # A key applied by an earlier chunk of this run is in the table now: last-wins makes it an update.
    found = np.zeros(frame.height, dtype=bool) if existing is None else existing(frame.select(list(keys)))
    pre_existing = found & ~earlier
    applied_new = _classify(out, frame, earlier, pre_existing, rules, key_desc)
    out.write.seen_hashes = frame.filter(pl.Series(applied_new))["_h"].to_numpy()
    return out


def _classify(
    out: Reconciled,
    frame: pl.DataFrame,
    earlier: np.ndarray,
    pre_existing: np.ndarray,
    rules: Reconciliation,
    key_desc: str,
) -> np.ndarray:
    """Fill ``out.write`` and rejects; return which rows newly apply their key (for the seen set)."""
    op = rules.operation
    new = ~pre_existing & ~earlier
    insert_mask = np.zeros(frame.height, dtype=bool)
    update_mask = earlier.copy()
    delete_mask = np.zeros(frame.height, dtype=bool)
    missing_mask = np.zeros(frame.height, dtype=bool)
    if op in (Operation.INSERT, Operation.UPSERT, Operation.INSERT_NEW):
        insert_mask = new
        if op is Operation.UPSERT:
            update_mask |= pre_existing
        elif op is Operation.INSERT_NEW:
            out.unchanged += int(pre_existing.sum())
        else:
            out.duplicates = int(pre_existing.sum())
            if rules.duplicates is DuplicatesPolicy.UPDATE:
                update_mask |= pre_existing
            elif rules.duplicates is DuplicatesPolicy.IGNORE:
                out.unchanged += int(pre_existing.sum())
            else:
                dup = frame.filter(pl.Series(pre_existing))
                for r, text in zip(dup["_row"].to_list(), _key_text(dup, rules.keys).to_list(), strict=True):
                    out.rejects.append(
                        (r, Reason.DUPLICATE_KEY, rules.keys[0], text, f"key {key_desc} = {text} is already in the table")
                    )
    elif op is Operation.UPDATE:
        update_mask |= pre_existing
        missing_mask = new
    else:  # delete
        update_mask[:] = False
        delete_mask = pre_existing
        missing_mask = new
    if missing_mask.any():
        missing = frame.filter(pl.Series(missing_mask))
        for r, text in zip(missing["_row"].to_list(), _key_text(missing, rules.keys).to_list(), strict=True):
            out.rejects.append(
                (r, Reason.KEY_NOT_FOUND, rules.keys[0], text, f"key {key_desc} = {text} is not in the table")
            )
    data = frame.drop("_h")
    out.write.inserts = data.filter(pl.Series(insert_mask))
    out.write.updates = data.filter(pl.Series(update_mask))
    out.write.deletes = data.filter(pl.Series(delete_mask)).select([*rules.keys, "_row"])
    return (insert_mask | delete_mask | update_mask) & ~earlier
