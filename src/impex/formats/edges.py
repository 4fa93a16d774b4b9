"""Whether trimming can change any field of a chunk: none starts or ends with whitespace, and none is
an empty quoted field (which trimming's empty-text null marker would turn into a null).

Validation then skips both steps for the chunk: on a typical file they are a fifth of its cost. The
answer is conservative: a "may" only costs the trimming that would otherwise have been skipped. It
looks at the first and last byte of the values at record edges and inside quotes (one per record or
quote), and at the bytes beside the delimiters (one per field).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from impex.formats.split import I64, U8, QuotePairs, pair_quotes

# What Polars' strip_chars() removes: Unicode's White_Space, in UTF-8.
ASCII_SPACES = np.array([0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20], dtype=np.uint8)
WIDE = ["\x85", "\xa0", "\u1680", *map(chr, range(0x2000, 0x200B)), "\u2028", "\u2029", "\u202f", "\u205f"]
WIDE_SPACES = [c.encode() for c in [*WIDE, "\u3000"]]
# The same as text (Python's str.strip() would also take \x1c-\x1f).
STRIPPED = "".join(map(chr, ASCII_SPACES.tolist())) + "".join(WIDE) + "\u3000"


def _byte_table(values: object) -> npt.NDArray[np.bool_]:
    table = np.zeros(256, dtype=bool)
    table[np.asarray(values, dtype=np.uint8)] = True
    return table


SPACE_BYTES = _byte_table(ASCII_SPACES)
WIDE_FIRST_BYTES = _byte_table(sorted({w[0] for w in WIDE_SPACES}))
WIDE_SECOND_BYTES = _byte_table(sorted({w[1] for w in WIDE_SPACES}))
WIDE_LAST_BYTES = _byte_table(sorted({w[-1] for w in WIDE_SPACES}))


def may_need_trim(
    data: bytes,
    a: U8,
    starts: I64,
    ends: I64,
    quotes: I64,
    delimiters: I64,
    pairs: QuotePairs | None = None,
) -> bool:
    """Whether a field of the records may start or end with whitespace or be an empty quoted field.

    ``data`` (UTF-8, or ASCII) is viewed by ``a``; the records start at ``starts`` and cover it, their
    content (line ending left out) ends at ``ends``; ``quotes`` are the quotes that toggle the
    quote state, ``delimiters`` every delimiter; ``pairs`` the quotes paired, if already done.
    """
    n = len(a)
    if n == 0:
        return False
    wide = not data.isascii()
    pairs = pairs or pair_quotes(starts, quotes, n)
    opening = quotes[pairs.opens]
    # A doubled quote ("") inside a quoted field closes and reopens the span: not a field's edge.
    reopens = (pairs.opens > 0) & (quotes[np.maximum(pairs.opens - 1, 0)] == opening - 1)
    closing = quotes[pairs.opens[pairs.paired] + 1]
    next_quote = np.searchsorted(quotes, closing, side="right")
    doubled = (next_quote < len(quotes)) & (quotes[np.minimum(next_quote, len(quotes) - 1)] == closing + 1)
    if ((closing == opening[pairs.paired] + 1) & ~reopens[pairs.paired] & ~doubled).any():
        return True  # an empty quoted field
    # Values' first and last bytes at record edges and inside quotes: one per record or quote.
    firsts = np.concatenate([starts[ends > starts], (opening + 1)[~reopens & (opening + 1 < pairs.ends)]])
    lasts = np.concatenate(
        [ends[ends > starts] - 1, (closing - 1)[~doubled & (closing - 1 > opening[pairs.paired])]]
    )
    if _spaces_at(data, a, firsts, lead=True, wide=wide) or _spaces_at(data, a, lasts, lead=False, wide=wide):
        return True
    # At delimiters (one per field): only those with a space-like byte beside them are looked at.
    before = delimiters[_spacy(np.take(a, delimiters + 1, mode="clip"), wide)]  # one after them
    after = delimiters[_spacy(np.take(a, delimiters - 1, mode="clip"), wide)]  # one before them
    before = _outside(before, starts, ends, opening, pairs.ends, lead=True)
    after = _outside(after, starts, ends, opening, pairs.ends, lead=False)
    return _spaces_at(data, a, before + 1, lead=True, wide=wide) or _spaces_at(
        data, a, after - 1, lead=False, wide=wide
    )


def _spacy(values: U8, wide: bool) -> npt.NDArray[np.bool_]:
    """Tab to carriage return and space; any byte of a multi-byte character too, when ``wide``."""
    found = (values - np.uint8(0x09) < 5) | (values == 0x20)
    return found | (values >= 0x80) if wide else found


def _outside(at: I64, starts: I64, ends: I64, opening: I64, span_ends: I64, *, lead: bool) -> I64:
    """The delimiters at ``at`` that separate fields (outside quotes) and have a value on the side
    looked at (``lead``: after them, else before them) within their record."""
    if len(at) == 0:
        return at
    if len(opening):
        span = np.searchsorted(opening, at, side="right") - 1
        at = at[~((span >= 0) & (at < span_ends[np.maximum(span, 0)]))]
    record = np.searchsorted(starts, at, side="right") - 1
    return at[at + 1 < ends[record]] if lead else at[at - 1 >= starts[record]]


def _spaces_at(data: bytes, a: U8, positions: I64, *, lead: bool, wide: bool) -> bool:
    """Whether a value starts (``lead``) or ends at one of the positions with whitespace."""
    n = len(a)
    positions = positions[(positions >= 0) & (positions < n)]
    if SPACE_BYTES[a[positions]].any():
        return True
    if not wide:
        return False
    # Multi-byte spaces: the few values whose edge bytes could be one are looked at closely.
    if lead:
        positions = positions[WIDE_FIRST_BYTES[a[positions]]]
        positions = positions[WIDE_SECOND_BYTES[a[np.minimum(positions + 1, n - 1)]]]
    else:
        positions = positions[WIDE_LAST_BYTES[a[positions]]]
        maybe = (a[np.maximum(positions - 1, 0)] == 0xC2) | WIDE_FIRST_BYTES[a[np.maximum(positions - 2, 0)]]
        positions = positions[maybe]
    return _wide_space_at(data, positions, lead=lead)


def _wide_space_at(data: bytes, positions: I64, *, lead: bool) -> bool:
    """Whether a multi-byte space starts (``lead``) or ends at one of the positions."""
    for p in positions.tolist():
        for space in WIDE_SPACES:
            at = p if lead else p + 1 - len(space)
            if at >= 0 and data[at : at + len(space)] == space:
                return True
    return False
