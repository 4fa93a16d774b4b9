"""Field counts and stray quotes of a chunk's records, found over the positions of the special
bytes, agree with a byte-by-byte reading of each record; whether the positions are given (as the
splitter found them) or found anew."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from impex.domain.definitions import CsvFormat
from impex.formats.chunk import field_count
from impex.formats.split import (
    CR,
    NL,
    Syntax,
    analyse_records,
    field_counts,
    quote_positions,
    split_records,
)

PIECES = [b"a", b"b", b" ", b",", b'"', b"\n", b"\r\n", b"\r", b"\\"]


def read_by_bytes(
    a: bytes, starts: list[int], quotes: list[int], syn: Syntax
) -> tuple[list[int], list[bool]]:
    """Per record: delimiters outside quoted spans plus one; and whether a quote pair is misplaced
    (a quoted field that does not start a field or is not followed by a delimiter, a line end or a
    doubled quote; a pair inside a field that encloses a delimiter or line break)."""
    bounds = [*starts, len(a)]
    counts, stray = [], []
    for r in range(len(starts)):
        mine = [q for q in quotes if bounds[r] <= q < bounds[r + 1]]
        inside, fields = False, 1
        for at in range(bounds[r], bounds[r + 1]):
            if at in mine:
                inside = not inside
            elif a[at] == syn.delimiter and not inside:
                fields += 1
        counts.append(fields)
        flagged, started = False, False
        for p in range(0, len(mine) - 1, 2):
            o, c = mine[p], mine[p + 1]
            previous = quotes[quotes.index(o) - 1] if quotes.index(o) else None
            if previous != o - 1:  # not a doubled quote continuing the pair before
                started = o == 0 or a[o - 1] in (syn.delimiter, NL)
            nxt = a[c + 1] if c + 1 < len(a) else None
            fine_after = nxt in (None, syn.delimiter, syn.quote, NL) or (
                nxt == CR and (c + 2 >= len(a) or a[c + 2] == NL)
            )
            encloses = any(b in (syn.delimiter, NL) for b in a[o + 1 : c])
            flagged |= (started and not fine_after) or (not started and encloses)
        stray.append(flagged)
    return counts, stray


@settings(max_examples=400, deadline=None)
@given(
    pieces=st.lists(st.sampled_from(PIECES), max_size=40),
    multiline=st.booleans(),
    escape=st.sampled_from([None, "\\"]),
    n_fields=st.sampled_from([None, 2, 3]),
)
def test_counts_and_stray_quotes_match_a_byte_by_byte_reading(pieces, multiline, escape, n_fields):
    data = b"".join(pieces)
    syn = Syntax.of(CsvFormat(delimiter=",", escape=escape, multiline=multiline), ",")
    recs = split_records(np.frombuffer(data, dtype=np.uint8), syn, final=True, n_fields=n_fields)
    a = np.frombuffer(data[: recs.consumed], dtype=np.uint8)
    quotes = recs.quotes[recs.quotes < len(a)]
    expected_counts, expected_stray = read_by_bytes(bytes(a), recs.starts.tolist(), quotes.tolist(), syn)
    terminated = ~recs.unterminated  # an unterminated record is rejected as such, stray or not
    for given_positions in (False, True):
        extra = {}
        if given_positions:
            extra["newlines"] = recs.newlines[recs.newlines < len(a)]
            extra["delimiters"] = np.flatnonzero(a == syn.delimiter)
        counts, stray = analyse_records(a, recs.starts, recs.unterminated, quotes, syn, **extra)
        assert counts.tolist() == expected_counts
        assert stray[terminated].tolist() == np.array(expected_stray)[terminated].tolist()


@settings(max_examples=400, deadline=None)
@given(pieces=st.lists(st.sampled_from(PIECES), max_size=30), escape=st.sampled_from([None, "\\"]))
def test_one_rejected_records_field_count_is_the_count_of_a_whole_chunks_records(pieces, escape):
    raw = b"".join(pieces)
    syn = Syntax.of(CsvFormat(escape=escape), ",")
    a = np.frombuffer(raw, dtype=np.uint8)
    quotes = quote_positions(a, syn)
    counted = field_counts(np.array([0]), np.array([len(raw)]), quotes, np.flatnonzero(a == syn.delimiter))
    assert field_count(raw, syn) == int(counted[0])
