"""The run's set of applied key hashes answers membership exactly, however it was filled."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from impex.engine.keyset import KeySet

chunks = st.lists(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=30), max_size=12)


@given(chunks, st.lists(st.integers(-(2**63), 2**63 - 1), max_size=40))
def test_membership_equals_a_python_set(batches, probes):
    ks = KeySet()
    reference: set[int] = set()
    for batch in batches:
        ks.add(np.array(batch, dtype=np.int64))
        reference.update(batch)
    everything = probes + [v for b in batches for v in b]
    found = ks.contains(np.array(everything, dtype=np.int64))
    assert found.tolist() == [v in reference for v in everything]


def test_an_empty_set_contains_nothing():
    assert not KeySet().contains(np.array([1, 2], dtype=np.int64)).any()


def test_ascending_ids_collapse_into_a_few_intervals():
    ks = KeySet()
    for start in range(0, 1_000_000, 10_000):
        ks.add(np.arange(start, start + 10_000, dtype=np.int64))
    assert len(ks) == 1
    probes = np.array([0, 999_999, 1_000_000, -1], dtype=np.int64)
    assert ks.contains(probes).tolist() == [True, True, False, False]


def test_extreme_values_do_not_overflow_the_adjacency_test():
    ks = KeySet(np.array([2**63 - 1, -(2**63)], dtype=np.int64))
    assert ks.contains(np.array([2**63 - 1, -(2**63), 0], dtype=np.int64)).tolist() == [True, True, False]
