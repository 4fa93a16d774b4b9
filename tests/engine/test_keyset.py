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
    assert len(ks) >= len(reference)


def test_an_empty_set_contains_nothing():
    assert not KeySet().contains(np.array([1, 2], dtype=np.int64)).any()
