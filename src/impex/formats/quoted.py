"""Whether given fields of a chunk's records were quoted in the file.

A quoted field that equals a null marker is that text, a bare one is null (PostgreSQL's COPY reads
CSV so). The columnar parser does not say which fields were quoted, so the few fields whose text
equals a marker are looked up here, in NumPy: a record without a quote has none quoted, and only the
bytes of the records with one are searched for their delimiters.
"""

from __future__ import annotations

import numpy as np

from impex.formats.split import I64, U8, Mask, Syntax


def quoted_fields(a: U8, starts: I64, ends: I64, quotes: I64, syn: Syntax, fields: I64) -> Mask:
    """Whether field ``fields[k]`` (0-based) of the record ``[starts[k], ends[k])`` of ``a`` is quoted.

    The records must be well formed, as a chunk's good ones are (each holds the field asked about, and
    every quoted span closes in it); ``quotes`` are the positions of the quotes that toggle the quote
    state (escaped ones left out), ascending.
    """
    quoted = np.zeros(len(starts), dtype=bool)
    some = np.flatnonzero(np.searchsorted(quotes, ends) > np.searchsorted(quotes, starts))
    if len(some) == 0:
        return quoted
    field_starts = starts[some].copy()
    later = np.flatnonzero(fields[some] > 0)
    if len(later):
        records = some[later]
        field_starts[later] = _after_delimiter(
            a, starts[records], ends[records], quotes, syn, fields[records]
        )
    inside = field_starts < ends[some]
    quoted[some[inside]] = a[field_starts[inside]] == syn.quote
    return quoted


def _after_delimiter(a: U8, starts: I64, ends: I64, quotes: I64, syn: Syntax, fields: I64) -> I64:
    """The position after the ``fields[k]``-th delimiter outside quotes of each record (``fields`` ≥ 1)."""
    lengths = ends - starts
    owner = np.repeat(np.arange(len(starts)), lengths)
    # every byte position of the records, record after record
    at = np.arange(len(owner)) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    delimiter = a[at] == syn.delimiter
    at, owner = at[delimiter], owner[delimiter]
    quotes_before = np.searchsorted(quotes, at) - np.searchsorted(quotes, starts)[owner]
    outside = quotes_before % 2 == 0
    at, owner = at[outside], owner[outside]
    first = np.searchsorted(owner, np.arange(len(starts)))  # each record's first delimiter outside quotes
    return np.asarray(at[first + fields - 1] + 1)
