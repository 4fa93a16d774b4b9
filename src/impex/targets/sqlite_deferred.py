"""Foreign keys SQLite checks only at COMMIT (``DEFERRABLE INITIALLY DEFERRED``), checked by the run
before a chunk's checkpoint is written (atomic mode: before the final apply commits).

SQLite would refuse the whole commit and say no more than "FOREIGN KEY constraint failed": every
chunk of the commit group would be lost, the run with them. Instead, once a chunk's rows are in,
each deferred key is asked about the rows the chunk wrote (has each a parent, now that the whole
chunk is in?) and about the rows it deleted (does a child still refer to one?). The rows that break
one are refused; the chunk is rolled back to its start and applied again without them, until none
does (a row left out may have been another one's parent). The refusals ride in the checkpoint like
any other, so a chunk replayed after a crash refuses the same rows. A row's parent must be in the
table by the end of the row's chunk: a parent further on in the file is only seen when it is in the
same chunk (atomic mode: anywhere in the file).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, NamedTuple

import polars as pl

from impex.targets.base import ChunkResult, ChunkWrite, Refusal, RefusedRecord
from impex.targets.sql import quote, quoted_list
from impex.targets.sqlite_keys import FOREIGN_KEY, TableKeys, orphans_sql, referred_sql
from impex.targets.sqlite_refusal import refused
from impex.targets.sqlite_sql import same_name

if TYPE_CHECKING:
    from impex.targets.sqlite import SqliteRun

WRITTEN = "_impex_written"  # a chunk's rows that went in, with their _row
DELETING = "_impex_deleting"  # the keys a chunk deletes, with their _row
GONE = "_impex_gone"  # the rows a chunk deletes, as they were, with their id
SKIP = "_impex_skip"  # staged records refused already (atomic mode)
CULPRITS = "_impex_culprits"  # the ids of the written rows found without a parent so far

Found = dict[int, tuple[list[str], str]]  # row id: the columns of the key it breaks, what to say


def applied_checked(
    run: SqliteRun, write: ChunkWrite, apply: Callable[[ChunkWrite], ChunkResult]
) -> ChunkResult:
    """``apply`` the chunk, leaving out the rows that break a deferred key."""
    late: list[Refusal] = []
    while True:
        gone = _gone_rows(run, write.deletes)
        run.t._execute("SAVEPOINT impex_deferred")
        result = apply(write)
        found = broken(run, _written_rows(run, write, {r.row for r in result.refused}), gone, "_row")
        if not found:
            run.t._execute("RELEASE impex_deferred")
            result.refused = sorted([*result.refused, *late], key=lambda r: r.row)
            return result
        _undo(run)
        frames = [f for f in [*_written(write), write.deletes] if f is not None and f.height]
        rows = pl.concat(frames, how="diagonal_relaxed").filter(pl.col("_row").is_in(list(found)))
        late += [refused(rows.slice(i, 1), *found[row]) for i, row in enumerate(rows["_row"].to_list())]
        write = _without(write, set(found))


def staged_checked(run: SqliteRun, apply: Callable[[], ChunkResult]) -> ChunkResult:
    """``apply`` the staged rows, leaving out those that break a deferred key (dropped from the
    staging table, which the final apply's transaction drops anyway)."""
    late: list[RefusedRecord] = []
    stage = quote(run.stage_table)
    while True:
        gone = _gone_staged(run)
        run.t._execute("SAVEPOINT impex_deferred")
        result = apply()
        written = _written_staged(run, result.refused_records)
        found = broken(run, written, gone, "_rec")
        if not found:
            run.t._execute("RELEASE impex_deferred")
            result.refused_records = sorted([*result.refused_records, *late], key=lambda r: r.record_no)
            return result
        _undo(run)
        recs = ", ".join(str(int(rec)) for rec in found)
        staged = run.staged_columns()
        batch = run.fetch_frame(
            f"SELECT {quoted_list(staged)}, _rec, _line, _raw FROM {stage} WHERE _rec IN ({recs})"
        )
        rows = batch.select(staged).with_row_index("_row").with_columns(pl.col("_row").cast(pl.Int64))
        refusals = [
            refused(rows.slice(i, 1), *found[int(rec)]) for i, rec in enumerate(batch["_rec"].to_list())
        ]
        late += RefusedRecord.of_staged(batch, refusals)
        _drop_staged(run, recs)


class Written(NamedTuple):
    """The rows a chunk wrote (a relation, ``_ins`` telling the inserted ones) and their columns."""

    relation: str
    columns: list[str]


def broken(run: SqliteRun, wrote: Written | None, gone: str | None, row_id: str) -> Found:
    """The rows of ``wrote`` without a parent for a deferred key of the table whose columns they
    write (a column a job leaves out keeps its default), and those of ``gone`` (rows it deleted, as
    they were) that a deferred key's child still refers to. A row inserted then refused is no
    parent: those that had it as their only parent are found too, round after round, in this one
    state."""
    keys: TableKeys = run.foreign_keys()
    found: Found = {}
    own = [k for k in keys.own if k.deferred and wrote is not None and _all_in(k.columns, wrote.columns)]
    written = wrote.relation if wrote is not None else None
    if own and written is not None:
        run.load_temp(CULPRITS, pl.DataFrame({"id": []}, schema={"id": pl.Int64}))
        culprits = f"(SELECT id FROM temp.{quote(CULPRITS)})"
        ids = f"r.{quote(row_id)}"
        refused_parents = f"(SELECT * FROM {written} w WHERE w._ins AND w.{quote(row_id)} IN {culprits})"
        while True:
            new: Found = {}
            for key in own:
                not_parents = refused_parents if same_name(key.parent, run.table) else None
                sql = (
                    orphans_sql(key, written, row_id, not_parents=not_parents)
                    + f" AND {ids} NOT IN {culprits}"
                )
                for (row,) in run.t._rows(sql):
                    new.setdefault(int(row), (list(key.columns), f"{FOREIGN_KEY}: {key.missing()}"))
            if not new:
                break
            found.update(new)
            run.t._execute(
                f"INSERT INTO temp.{quote(CULPRITS)} SELECT value FROM json_each(?)", (json.dumps(list(new)),)
            )
    for key in (k for k in keys.referring if k.deferred and gone is not None):
        for (row,) in run.t._rows(referred_sql(key, str(gone), row_id, still_there=False)):
            found.setdefault(int(row), (list(key.referenced), f"{FOREIGN_KEY}: {key.referring()}"))
    return found


def _undo(run: SqliteRun) -> None:
    run.t._execute("ROLLBACK TO impex_deferred")
    run.t._execute("RELEASE impex_deferred")


def _referred(run: SqliteRun) -> bool:
    """Whether a deferred key refers to the table, so that a delete may break it."""
    return bool(run.keys) and any(k.deferred for k in run.foreign_keys().referring)


def _stored_columns(alias: str, run: SqliteRun) -> str:
    return ", ".join(f"{alias}.{quote(c)}" for c in run.columns)


def _key_join(run: SqliteRun, a: str, b: str) -> str:
    return " AND ".join(f"{a}.{quote(k)} = {b}.{quote(k)}" for k in run.keys)


def _gone_rows(run: SqliteRun, deletes: pl.DataFrame | None) -> str | None:
    """The rows the chunk's deletes will take, as they are before it (their ``_row``)."""
    if deletes is None or deletes.height == 0 or not _referred(run):
        return None
    run.load_temp(DELETING, deletes.select([*run.keys, "_row"]))
    run.t._execute(f"DROP TABLE IF EXISTS temp.{quote(GONE)}")
    run.t._execute(
        f"CREATE TEMP TABLE {quote(GONE)} AS SELECT d._row AS _row, {_stored_columns('x', run)} "
        f"FROM temp.{quote(DELETING)} d JOIN {quote(run.table)} x ON {_key_join(run, 'x', 'd')}"
    )
    return f"temp.{quote(GONE)}"


def _written_rows(run: SqliteRun, write: ChunkWrite, refused_rows: set[int]) -> Written | None:
    """The chunk's inserted and updated rows, those refused already left out."""
    if not any(k.deferred for k in run.foreign_keys().own):
        return None
    again = write.again
    if again is not None and run.keys:  # of the later copies of a key, only the last is written
        again = again.filter(pl.struct(list(run.keys)).is_last_distinct())
    frames = [
        f.with_columns(pl.lit(f is write.inserts).alias("_ins"))
        for f in (write.inserts, write.updates, write.rewrites, again)
        if f is not None and f.height
    ]
    if not frames:
        return None
    rows = pl.concat(frames, how="diagonal_relaxed").filter(~pl.col("_row").is_in(list(refused_rows)))
    run.load_temp(WRITTEN, rows)
    return Written(f"temp.{quote(WRITTEN)}", rows.columns)


def _written(write: ChunkWrite) -> list[pl.DataFrame | None]:
    """The frames of a chunk that insert or update rows (the first one inserts)."""
    return [write.inserts, write.updates, write.rewrites, write.again]


def _without(write: ChunkWrite, rows: set[int]) -> ChunkWrite:
    def kept(frame: pl.DataFrame | None) -> pl.DataFrame | None:
        return None if frame is None else frame.filter(~pl.col("_row").is_in(list(rows)))

    return replace(
        write,
        inserts=kept(write.inserts),
        updates=kept(write.updates),
        deletes=kept(write.deletes),
        upserts=kept(write.upserts),
        rewrites=kept(write.rewrites),
        again=kept(write.again),
    )


def _gone_staged(run: SqliteRun) -> str | None:
    """The rows the staged deletes will take, as they are before the final apply (their ``_rec``)."""
    if not _referred(run):
        return None
    run.t._execute(f"DROP TABLE IF EXISTS temp.{quote(GONE)}")
    run.t._execute(
        f"CREATE TEMP TABLE {quote(GONE)} AS SELECT s._rec AS _rec, {_stored_columns('x', run)} "
        f"FROM {quote(run.stage_table)} s JOIN {quote(run.table)} x ON {_key_join(run, 'x', 's')} "
        "WHERE s._op = 'd'"
    )
    return f"temp.{quote(GONE)}"


def _written_staged(run: SqliteRun, refused_records: list[RefusedRecord]) -> Written | None:
    """The staged rows the final apply wrote: inserts, the last update of each key; those refused
    left out."""
    if not any(k.deferred for k in run.foreign_keys().own):
        return None
    run.load_temp(
        SKIP, pl.DataFrame({"_rec": [r.record_no for r in refused_records]}, schema={"_rec": pl.Int64})
    )
    stage = quote(run.stage_table)
    applied = "s._op = 'i'"
    if run.keys:
        last = f"SELECT max(_rec) FROM {stage} WHERE _op IN ('u', 'r') GROUP BY {quoted_list(run.keys)}"
        applied = f"(s._op = 'i' OR (s._op IN ('u', 'r') AND s._rec IN ({last})))"
    return Written(
        f"(SELECT s.*, s._op = 'i' AS _ins FROM {stage} s WHERE {applied} "
        f"AND s._rec NOT IN (SELECT _rec FROM temp.{quote(SKIP)}))",
        run.staged_columns(),
    )


def _all_in(names: Sequence[str], columns: Sequence[str]) -> bool:
    return all(any(same_name(name, c) for c in columns) for name in names)


def _drop_staged(run: SqliteRun, recs: str) -> None:
    """Drop the staged records ``recs``; for an update, the earlier updates of its key too (the
    last one stands for them all)."""
    stage = quote(run.stage_table)
    if run.keys:
        run.t._execute(
            f"DELETE FROM {stage} WHERE _op IN ('u', 'r') AND EXISTS (SELECT 1 FROM {stage} r "
            f"WHERE r._rec IN ({recs}) AND r._op IN ('u', 'r') AND {_key_join(run, 'r', stage)})"
        )
    run.t._execute(f"DELETE FROM {stage} WHERE _rec IN ({recs})")
