"""Reconciliation: doubles (same key earlier in the file) and duplicates (key already in the table)."""

import itertools

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from impex.domain.definitions import DoublesPolicy, DuplicatesPolicy, Operation, Reconciliation
from impex.domain.rejects import Reason
from impex.engine.keyset import KeySet
from impex.engine.reconcile import key_hashes, reconcile


def frame(ids, names=None):
    names = names or [f"n{i}" for i in range(len(ids))]
    return pl.DataFrame({"id": ids, "name": names}, schema={"id": pl.Int64, "name": pl.Utf8})


def run(ids, rules, *, in_table=(), seen=(), names=None):
    good = frame(ids, names)
    rows = np.arange(len(ids), dtype=np.int64) * 10  # chunk row indices need not be 0..n
    ks = KeySet(key_hashes(frame(list(seen)), ("id",)) if seen else None)

    def existing(keys):
        return keys["id"].is_in(list(in_table)).to_numpy()

    return reconcile(good, rows, rules, seen_contains=ks.contains, existing=existing)


def rows_of(df):
    return [] if df is None else df["_row"].to_list()


def test_without_keys_everything_is_inserted():
    out = run([1, 1, 2], Reconciliation())
    assert rows_of(out.write.inserts) == [0, 10, 20]
    assert out.rejects == [] and out.doubles == 0


def test_doubles_last_wins_inserts_the_first_copy_and_each_later_one_updates_it_in_turn():
    rules = Reconciliation(keys=("id",), doubles=DoublesPolicy.LAST_WINS)
    out = run([1, 2, 1, 1, 2], rules, names=["a", "b", "c", "d", "e"])
    assert out.write.inserts["name"].to_list() == ["a", "b"]
    assert out.write.again["name"].to_list() == ["c", "d", "e"]
    assert (out.again_updated, out.again_unchanged) == (3, 0)
    assert out.doubles == 3 and out.rejects == []


def test_a_later_copy_that_repeats_the_values_of_the_copy_before_it_counts_as_unchanged():
    rules = Reconciliation(keys=("id",), doubles=DoublesPolicy.LAST_WINS)
    out = run([1, 1, 1, 1], rules, names=["a", "a", "b", "b"])
    assert (out.again_updated, out.again_unchanged) == (1, 2)


def test_doubles_reject_keeps_the_first_and_rejects_the_rest():
    out = run([1, 2, 1, 1], Reconciliation(keys=("id",), doubles=DoublesPolicy.REJECT))
    assert rows_of(out.write.inserts) == [0, 10]
    assert [(r, reason) for r, reason, *_ in out.rejects] == [(20, Reason.DOUBLE), (30, Reason.DOUBLE)]
    assert out.doubles == 2


def test_doubles_ignore_skips_them_silently():
    out = run([1, 1], Reconciliation(keys=("id",), doubles=DoublesPolicy.IGNORE))
    assert rows_of(out.write.inserts) == [0] and out.rejects == [] and out.doubles == 1


def test_a_key_applied_by_an_earlier_chunk_is_a_double_and_last_wins_updates_it():
    out = run([5], Reconciliation(keys=("id",)), seen=[5], in_table=[5])
    assert rows_of(out.write.rewrites) == [0] and out.doubles == 1 and out.duplicates == 0


def test_a_key_applied_by_an_earlier_chunk_is_rejected_as_double_under_reject():
    out = run([5], Reconciliation(keys=("id",), doubles=DoublesPolicy.REJECT), seen=[5], in_table=[5])
    assert [reason for _, reason, *_ in out.rejects] == [Reason.DOUBLE]
    assert rows_of(out.write.updates) == rows_of(out.write.rewrites) == []


def test_duplicates_for_insert_reject_ignore_update():
    rules = Reconciliation(keys=("id",), duplicates=DuplicatesPolicy.REJECT)
    out = run([1, 2], rules, in_table=[2])
    assert rows_of(out.write.inserts) == [0]
    assert [(r, reason) for r, reason, *_ in out.rejects] == [(10, Reason.DUPLICATE_KEY)]
    assert out.duplicates == 1

    out = run([1, 2], rules.model_copy(update={"duplicates": DuplicatesPolicy.IGNORE}), in_table=[2])
    assert rows_of(out.write.inserts) == [0] and out.rejects == [] and out.unchanged == 1

    out = run([1, 2], rules.model_copy(update={"duplicates": DuplicatesPolicy.UPDATE}), in_table=[2])
    assert rows_of(out.write.inserts) == [0] and rows_of(out.write.updates) == [10]


def test_insert_or_update():
    out = run([1, 2], Reconciliation(keys=("id",), operation=Operation.UPSERT), in_table=[2])
    assert rows_of(out.write.inserts) == [0] and rows_of(out.write.updates) == [10]


def test_insert_only_new_skips_existing_keys():
    out = run([1, 2], Reconciliation(keys=("id",), operation=Operation.INSERT_NEW), in_table=[2])
    assert rows_of(out.write.inserts) == [0] and rows_of(out.write.updates) == [] and out.unchanged == 1


def test_update_rejects_keys_the_table_does_not_have():
    out = run([1, 2], Reconciliation(keys=("id",), operation=Operation.UPDATE), in_table=[2])
    assert rows_of(out.write.updates) == [10]
    assert [(r, reason) for r, reason, *_ in out.rejects] == [(0, Reason.KEY_NOT_FOUND)]


def test_delete_removes_existing_keys_and_rejects_missing_ones():
    out = run([1, 2, 2], Reconciliation(keys=("id",), operation=Operation.DELETE), in_table=[2])
    assert rows_of(out.write.deletes) == [10]
    assert [(r, reason) for r, reason, *_ in out.rejects] == [(0, Reason.KEY_NOT_FOUND)]
    assert out.doubles == 1


def test_a_null_key_is_rejected_as_missing_key():
    out = run([None, 1], Reconciliation(keys=("id",)))
    assert [(r, reason) for r, reason, *_ in out.rejects] == [(0, Reason.MISSING_KEY)]


def test_composite_keys():
    good = pl.DataFrame({"a": [1, 1, 2], "b": ["x", "y", "x"], "v": [1, 2, 3]})
    rules = Reconciliation(keys=("a", "b"), doubles=DoublesPolicy.REJECT)
    out = reconcile(good, np.arange(3), rules, seen_contains=KeySet().contains, existing=None)
    assert rows_of(out.write.inserts) == [0, 1, 2] and out.doubles == 0


def test_rejected_duplicates_do_not_count_as_seen_so_a_later_copy_is_a_duplicate_again():
    out = run([2], Reconciliation(keys=("id",)), in_table=[2])
    assert len(out.new_keys) == 0


# Where the chunks of a file begin is an accident of buffering (a resume starts a chunk at its
# checkpoint): what happens to each record must not depend on it.

RULES = st.builds(
    Reconciliation,
    keys=st.just(("id",)),
    operation=st.sampled_from(list(Operation)),
    doubles=st.sampled_from(list(DoublesPolicy)),
    duplicates=st.sampled_from(list(DuplicatesPolicy)),
)


def reconcile_in_chunks(ids, rules, in_table, cuts):
    """Reconcile ``ids`` chunk by chunk against a table holding ``in_table`` (id -> name), applying
    each chunk's writes before the next: the table at the end, the rejects and the counters."""
    table = dict(in_table)
    seen = KeySet()
    rejects, counts = [], {"doubles": 0, "duplicates": 0, "unchanged": 0}
    bounds = [0, *sorted(set(cuts)), len(ids)]
    for lo, hi in itertools.pairwise(bounds):
        if lo == hi:
            continue
        good = frame(ids[lo:hi], [f"n{i}" for i in range(lo, hi)])
        out = reconcile(
            good,
            np.arange(lo, hi, dtype=np.int64),
            rules,
            seen_contains=seen.contains,
            existing=lambda keys, table=table: keys["id"].is_in(list(table)).to_numpy(),
        )
        seen.add(out.new_keys)
        w = out.write
        for part in (w.inserts, w.updates, w.upserts, w.rewrites, w.again):
            if part is not None:
                table.update(zip(part["id"].to_list(), part["name"].to_list(), strict=True))
        if w.deletes is not None:
            for key in w.deletes["id"].to_list():
                table.pop(key, None)
        rejects += [(row, reason) for row, reason, *_ in out.rejects]
        for name in counts:
            counts[name] += getattr(out, name)
    return table, sorted(rejects), counts


@settings(max_examples=400, deadline=None)
@given(
    ids=st.lists(st.integers(0, 3), min_size=1, max_size=12),
    in_table=st.sets(st.integers(0, 3)),
    rules=RULES,
    cuts=st.lists(st.integers(0, 12), max_size=3),
)
def test_what_happens_to_each_record_does_not_depend_on_where_chunks_begin(ids, in_table, rules, cuts):
    table = {key: f"t{key}" for key in in_table}
    whole = reconcile_in_chunks(ids, rules, table, [])
    chunked = reconcile_in_chunks(ids, rules, table, [c for c in cuts if c < len(ids)])
    assert chunked == whole
