"""Handing the good records of a chunk to Polars: gather their bytes, resolve escapes, parse as strings."""

from __future__ import annotations

import numpy as np
import polars as pl

from impex.formats.errors import InternalParseError
from impex.formats.split import CR, I64, NL, U8, Syntax, escaping

ONE_THREAD_BELOW = 16 * 1024 * 1024  # bytes of good records parsed on one thread


def column_names(n_fields: int) -> list[str]:
    """Positional column names ``f1..fN``."""
    return [f"f{i}" for i in range(1, n_fields + 1)]


def empty_frame(n_fields: int) -> pl.DataFrame:
    return pl.DataFrame(schema=dict.fromkeys(column_names(n_fields), pl.String))


def _runs(starts: I64, nexts: I64) -> tuple[I64, I64]:
    """Maximal byte ranges of consecutive records (a removed record or blank line breaks a run)."""
    breaks = np.flatnonzero(starts[1:] != nexts[:-1])
    return starts[np.r_[0, breaks + 1]], nexts[np.r_[breaks, len(starts) - 1]]


def good_body(data: bytes, a: U8, starts: I64, nexts: I64, quotes: I64, syn: Syntax) -> bytes:
    """The bytes of the records ``[starts, nexts)``, in order, with escapes resolved for the parser."""
    if len(starts) == 0:
        return b""
    lo, hi = _runs(starts, nexts)
    if syn.escape is not None and data.find(bytes([syn.escape])) >= 0:
        return _resolve_escapes(a, starts, lo, hi, quotes, syn)
    if len(lo) == 1:
        return data[int(lo[0]) : int(hi[0])]
    view = memoryview(data)
    return b"".join(view[s:e] for s, e in zip(lo.tolist(), hi.tolist(), strict=True))


def _active_escapes(a: U8, syn: Syntax) -> I64:
    """Escape characters that escape the next byte; one before a line end stays literal (it still ends
    the record)."""
    escapes = np.flatnonzero(a == syn.escape)
    active = escapes[escaping(escapes)]
    active = active[active + 1 < len(a)]
    following = a[active + 1]
    return active[(following != NL) & (following != CR)]


def _quotes_before(active: I64, starts: I64, quotes: I64) -> I64:
    """Quotes between each position's record start and the position."""
    record = np.searchsorted(starts, active, side="right") - 1
    return np.asarray(np.searchsorted(quotes, active) - np.searchsorted(quotes, starts[record]))


def escaped_quotes_outside(a: U8, starts: I64, quotes: I64, syn: Syntax) -> I64:
    """Escaped quotes outside quoted fields: no doubled-quote form exists for them, so their records
    are rejected rather than parsed differently from the split."""
    if syn.escape is None:
        return np.zeros(0, dtype=np.int64)
    active = _active_escapes(a, syn)
    active = active[a[active + 1] == syn.quote]
    return active[_quotes_before(active, starts, quotes) % 2 == 0]


def _resolve_escapes(a: U8, starts: I64, lo: I64, hi: I64, quotes: I64, syn: Syntax) -> bytes:
    """Drop each escaping escape character; inside a quoted field an escaped quote becomes a doubled one."""
    delta = np.zeros(len(a) + 1, dtype=np.int32)
    delta[lo] += 1
    delta[hi] -= 1
    keep = np.cumsum(delta[:-1]) > 0
    active = _active_escapes(a, syn)
    active = active[keep[active]]
    doubled = (a[active + 1] == syn.quote) & (_quotes_before(active, starts, quotes) % 2 == 1)
    out = a.copy()
    out[active[doubled]] = syn.quote
    keep[active[~doubled]] = False
    return out[keep].tobytes()


def parse_frame(body: bytes, syn: Syntax, n_fields: int, expected_rows: int) -> pl.DataFrame:
    """Parse UTF-8 ``body`` into ``n_fields`` string columns; the row count must be ``expected_rows``."""
    if expected_rows == 0:
        return empty_frame(n_fields)
    try:
        frame = pl.read_csv(
            body,
            has_header=False,
            infer_schema=False,
            schema=dict.fromkeys(column_names(n_fields), pl.String),
            separator=chr(syn.delimiter),
            quote_char=chr(syn.quote),
            eol_char="\n",
            raise_if_empty=False,
            # A chunk of a few MB parses about as fast on one thread as on several, while another
            # core writes the chunk before; a much bigger one gains from them.
            n_threads=1 if len(body) < ONE_THREAD_BELOW else None,
        )
    except pl.exceptions.PolarsError as error:
        raise InternalParseError(
            f"the columnar parser refused records the splitter accepted: {error}"
        ) from error
    if frame.height != expected_rows:
        raise InternalParseError(
            f"the columnar parser found {frame.height} records where the splitter found {expected_rows}"
        )
    # The parser leaves each column in pieces (17 for a 3 MB chunk), and every later expression pays
    # per piece: in one, validating a chunk takes 40 % less time.
    return frame.rechunk()
