"""Record splitting over raw bytes with NumPy: no Python loop per record.

Every quote character (not escaped) toggles the quote state, so a line end lies inside a quoted
field when the count of quotes since the record's start is odd. Field counts are the delimiters
outside quoted spans plus one. Python loops run per unterminated quote only, never per record.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from impex.domain.definitions import CsvFormat

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
U8 = npt.NDArray[np.uint8]
NL = 10
CR = 13
FIRST_WINDOW_AFTER_REJECT = 256  # lines re-split after an unterminated quote, doubling while clean


@dataclass(frozen=True)
class Syntax:
    """The bytes that structure a record."""

    delimiter: int
    quote: int
    escape: int | None
    multiline: bool

    @classmethod
    def of(cls, fmt: CsvFormat, delimiter: str) -> Syntax:
        escape = fmt.escape if fmt.escape is not None and fmt.escape != fmt.quote else None
        return cls(ord(delimiter), ord(fmt.quote), ord(escape) if escape else None, fmt.multiline)


@dataclass
class Records:
    """Records (blank lines included) found in a buffer; offsets relative to the buffer.

    ``ends`` excludes the line ending (and a CR before it), ``nexts`` is where the next record starts.
    ``unterminated`` marks a lone first line of a record whose quote never closed.
    """

    starts: I64
    ends: I64
    nexts: I64
    first_lines: I64  # 0-based physical line index of the record's first line
    unterminated: Mask
    blank: Mask
    consumed: int  # bytes up to the end of the last complete record
    lines_consumed: int
    quotes: I64  # positions of the quotes that toggle the quote state, in the whole buffer
    newlines: I64  # positions of the line feeds, in the whole buffer

    def __len__(self) -> int:
        return len(self.starts)

    def head(self, n: int) -> Records:
        """The first ``n`` records."""
        if n >= len(self):
            return self
        return Records(
            self.starts[:n],
            self.ends[:n],
            self.nexts[:n],
            self.first_lines[:n],
            self.unterminated[:n],
            self.blank[:n],
            int(self.starts[n]),
            int(self.first_lines[n]),
            self.quotes,
            self.newlines,
        )


def escaping(escapes: I64) -> Mask:
    """Which escape characters escape the next byte: the 1st, 3rd... of each run of consecutive ones."""
    if len(escapes) == 0:
        return np.zeros(0, dtype=bool)
    index = np.arange(len(escapes))
    run_start = np.r_[True, np.diff(escapes) != 1]
    first = np.maximum.accumulate(np.where(run_start, index, 0))
    return np.asarray((index - first) % 2 == 0)


def quote_positions(a: U8, syn: Syntax) -> I64:
    """Positions of the quote characters that toggle the quote state (escaped ones excluded)."""
    quotes = np.flatnonzero(a == syn.quote)
    if syn.escape is None or len(quotes) == 0:
        return quotes
    escapes = np.flatnonzero(a == syn.escape)
    if len(escapes) == 0:
        return quotes
    active = escapes[escaping(escapes)]
    i = np.minimum(np.searchsorted(active, quotes - 1), max(len(active) - 1, 0))
    escaped = active[i] == quotes - 1 if len(active) else np.zeros(len(quotes), dtype=bool)
    return quotes[~escaped]


def _content_ends(a: U8, starts: I64, line_ends: I64) -> I64:
    """Line ends with a CR just before the LF left out."""
    before = np.maximum(line_ends - 1, 0)
    has_cr = (line_ends > starts) & (a[before] == CR) if len(a) else np.zeros(len(starts), dtype=bool)
    return line_ends - has_cr


def field_counts(starts: I64, ends: I64, quotes: I64, delims: I64) -> I64:
    """Fields of each record [start, end): delimiters outside quoted spans, plus one.

    A record with an odd number of quotes counts its last open span up to its end.
    """
    total = np.searchsorted(delims, ends) - np.searchsorted(delims, starts)
    if len(quotes) == 0 or len(starts) == 0:
        return total + 1
    spans = quoted_spans(starts, ends, quotes)
    inside = np.searchsorted(delims, spans.closes) - np.searchsorted(delims, spans.opens)
    per_record = np.bincount(spans.record, weights=inside, minlength=len(starts)).astype(np.int64)
    return total - per_record + 1


@dataclass
class Spans:
    """Quoted spans of a set of records: opening quote, closing quote (or record end), owning record."""

    record: I64
    opens: I64
    closes: I64
    open_index: I64  # index of the opening quote in the quote positions
    closed: Mask


def quoted_spans(starts: I64, ends: I64, quotes: I64) -> Spans:
    """Pair each record's quotes in order: 1st with 2nd, 3rd with 4th..."""
    lo = np.searchsorted(quotes, starts)
    hi = np.searchsorted(quotes, ends)
    n_open = (hi - lo + 1) // 2
    record = np.repeat(np.arange(len(starts)), n_open)
    k = np.arange(len(record)) - np.repeat(np.cumsum(n_open) - n_open, n_open)
    open_index = lo[record] + 2 * k
    closed = open_index + 1 < hi[record]
    close_at = quotes[np.minimum(open_index + 1, len(quotes) - 1)]
    closes = np.where(closed, close_at, ends[record])
    return Spans(record, quotes[open_index], closes, open_index, closed)


def split_records(
    a: U8,
    syn: Syntax,
    *,
    final: bool,
    n_fields: int | None = None,
    force_tail: bool = False,
    quotes: I64 | None = None,
) -> Records:
    """Split ``a`` into records.

    ``final``: ``a`` ends the stream (a last line without line ending counts; an open quote at the end
    is unterminated). Otherwise an incomplete last line or record is left unconsumed, unless
    ``force_tail`` asks to treat an open record as unterminated (the buffer reached its size cap).
    A multi-line record whose field count differs from ``n_fields`` is taken as an unterminated quote:
    its first line alone is rejected and splitting resumes at the next line.
    """
    nl = np.flatnonzero(a == NL)
    n = len(a)
    line_ends = nl
    line_nexts = nl + 1
    if final and n and (len(nl) == 0 or nl[-1] != n - 1):
        line_ends = np.r_[nl, n]
        line_nexts = np.r_[line_nexts, n]
    line_starts = np.r_[0, line_nexts[:-1]].astype(np.int64) if len(line_ends) else line_ends
    content_ends = _content_ends(a, line_starts, line_ends)
    if quotes is None:
        quotes = quote_positions(a, syn)
    n_lines = len(line_ends)
    if not syn.multiline or len(quotes) == 0:
        firsts = np.arange(n_lines, dtype=np.int64)
        lasts = firsts
        odd = (np.searchsorted(quotes, line_ends) - np.searchsorted(quotes, line_starts)) % 2 == 1
        unterminated = np.asarray(odd)
    else:
        firsts, lasts, unterminated = _group_lines(
            line_starts, content_ends, quotes, final or force_tail, n_fields, _QuoteCheck(a, syn, nl)
        )
    starts = line_starts[firsts]
    ends = content_ends[lasts]
    nexts = line_nexts[lasts]
    blank = (ends == starts) & (firsts == lasts)
    consumed = int(nexts[-1]) if len(nexts) else 0
    lines_consumed = int(lasts[-1]) + 1 if len(lasts) else 0
    return Records(starts, ends, nexts, firsts, unterminated, blank, consumed, lines_consumed, quotes, nl)


@dataclass(frozen=True)
class _QuoteCheck:
    """Whether the quoted spans that join lines into records are well formed: each opens at a
    field's start (or right after the span before it: a doubled quote) and closes before a
    delimiter, a line end or a quote. A span within one line is no quote left open, well formed or
    not: a record whose only misplaced quotes lie within a line stays whole (rejected whole)."""

    a: U8
    syn: Syntax
    newlines: I64

    def well_formed(self, starts: I64, ends: I64, quotes: I64) -> Mask:
        spans = quoted_spans(starts, ends, quotes)
        a, n = self.a, len(self.a)
        before = a[np.maximum(spans.opens - 1, 0)]
        opens_ok = (spans.opens == starts[spans.record]) | np.isin(
            before, (self.syn.delimiter, NL, self.syn.quote)
        )
        after = a[np.minimum(spans.closes + 1, n - 1)]
        at_end = spans.closes + 1 >= ends[spans.record]
        closes_ok = spans.closed & (at_end | np.isin(after, (self.syn.delimiter, self.syn.quote, NL, CR)))
        nl = self.newlines
        joins = np.searchsorted(nl, spans.opens) != np.searchsorted(nl, spans.closes)
        bad = np.bincount(spans.record, weights=joins & ~(opens_ok & closes_ok), minlength=len(starts))
        return np.asarray(bad == 0)


def _group_lines(
    line_starts: I64,
    content_ends: I64,
    quotes: I64,
    close_tail: bool,
    n_fields: int | None,
    check: _QuoteCheck,
) -> tuple[I64, I64, Mask]:
    """Group physical lines into records by quote parity (see ``split_records``)."""
    n_lines = len(line_starts)
    cumulative = np.searchsorted(quotes, content_ends)  # quotes up to the end of each line
    firsts: list[I64] = []
    lasts: list[I64] = []
    flags: list[Mask] = []

    def accept(f: I64, la: I64, unterminated: bool = False) -> None:
        firsts.append(f)
        lasts.append(la)
        flags.append(np.full(len(f), unterminated))

    i0 = 0
    window = n_lines
    while i0 < n_lines:
        hi = min(n_lines, i0 + window)
        base = cumulative[i0 - 1] if i0 else 0
        end_lines = np.flatnonzero((cumulative[i0:hi] - base) % 2 == 0) + i0
        rec_first = np.r_[i0, end_lines[:-1] + 1].astype(np.int64) if len(end_lines) else end_lines
        bad = _first_wrong_multiline(rec_first, end_lines, line_starts, content_ends, quotes, n_fields, check)
        if bad is not None:
            accept(rec_first[:bad], end_lines[:bad])
            line = int(rec_first[bad])
            accept(np.array([line]), np.array([line]), True)
            i0, window = line + 1, FIRST_WINDOW_AFTER_REJECT
            continue
        accept(rec_first, end_lines)
        tail = int(end_lines[-1]) + 1 if len(end_lines) else i0
        if hi < n_lines:
            i0, window = tail, window * 2
            continue
        if tail < n_lines and close_tail:
            accept(np.array([tail]), np.array([tail]), True)
            i0, window = tail + 1, FIRST_WINDOW_AFTER_REJECT
            continue
        break
    if not firsts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=bool)
    return np.concatenate(firsts), np.concatenate(lasts), np.concatenate(flags)


def _first_wrong_multiline(
    rec_first: I64,
    rec_last: I64,
    line_starts: I64,
    content_ends: I64,
    quotes: I64,
    n_fields: int | None,
    check: _QuoteCheck,
) -> int | None:
    """Index of the first multi-line record that is more likely a quote left open on its first line:
    the quotes that join its lines are not those of well-formed quoted fields (a lone quote inside a
    field, as in ``5" pipe``, would join the lines up to the next one). One whose joining quotes are
    well formed stays whole, even with too many or too few fields or a stray quote within a line:
    then it is rejected whole as such."""
    if n_fields is None:
        return None
    multi = np.flatnonzero(rec_last > rec_first)
    if len(multi) == 0:
        return None
    starts, ends = line_starts[rec_first[multi]], content_ends[rec_last[multi]]
    wrong = multi[~check.well_formed(starts, ends, quotes)]
    return int(wrong[0]) if len(wrong) else None


@dataclass
class QuotePairs:
    """Quotes paired within their record, 1st with 2nd, 3rd with 4th…: per opening quote, its index
    in the quotes, its record, whether a closing quote follows in the record, and where its span ends
    (the closing quote, or the record's end for an unterminated record's last quote)."""

    opens: I64
    record: I64
    paired: Mask
    ends: I64


def pair_quotes(starts: I64, quotes: I64, size: int) -> QuotePairs:
    """Pair the quotes of contiguous records starting at ``starts`` and covering ``size`` bytes."""
    record = np.searchsorted(starts, quotes, side="right") - 1
    first = np.searchsorted(quotes, starts)
    opens = np.flatnonzero((np.arange(len(quotes)) - first[record]) % 2 == 0)
    after = np.minimum(opens + 1, len(quotes) - 1)
    paired = (opens + 1 < len(quotes)) & (record[after] == record[opens])
    owner = record[opens]
    record_ends = np.r_[starts[1:], size][owner]
    return QuotePairs(opens, owner, paired, np.where(paired, quotes[after], record_ends))


def analyse_records(
    a: U8,
    starts: I64,
    unterminated: Mask,
    quotes: I64,
    syn: Syntax,
    *,
    newlines: I64 | None = None,
    delimiters: I64 | None = None,
    pairs: QuotePairs | None = None,
) -> tuple[I64, Mask]:
    """Field count and stray-quote flag of every record, from the positions of the special bytes.

    The records must be contiguous and cover ``a`` (blank lines included), as a chunk's do; only an
    ``unterminated`` record may hold an odd number of quotes (its last quote opens a field that runs
    to the record's end). A quoted field must start at a field's start and its closing quote be
    followed by a delimiter, a line end or a doubled quote; otherwise a CSV parser would read it
    differently from the quote-parity count, so the record is flagged. A quote pair in the middle of
    a field is tolerated (read literally) unless it encloses a delimiter or a line break.
    ``newlines`` and ``delimiters`` (positions in ``a``) and the quotes' ``pairs`` are found here
    when not given.
    """
    n = len(starts)
    if delimiters is None:
        delimiters = np.flatnonzero(a == syn.delimiter)
    bounds = np.r_[starts, len(a)]
    counts = np.diff(np.searchsorted(delimiters, bounds)) + 1
    stray = np.zeros(n, dtype=bool)
    if len(quotes) == 0 or n == 0:
        return counts, stray
    # The delimiters in a quoted span are text.
    spans = pairs or pair_quotes(starts, quotes, len(a))
    opens, paired, record = spans.opens, spans.paired, spans.record
    o_pos = quotes[opens]
    inside = np.searchsorted(delimiters, spans.ends) - np.searchsorted(delimiters, o_pos)
    counts -= np.bincount(record, weights=inside, minlength=n).astype(np.int64)
    k = opens[paired]
    o_pos, c_pos = quotes[k], quotes[k + 1]
    before = a[np.maximum(o_pos - 1, 0)]
    at_field_start = (o_pos == 0) | (before == syn.delimiter) | (before == NL)
    continues = (k > 0) & (quotes[np.maximum(k - 1, 0)] == o_pos - 1)
    # a doubled quote continues the span before it: inherit whether that one began a field
    origin = np.maximum.accumulate(np.where(continues, 0, np.arange(len(k))))
    at_field_start = at_field_start[origin]
    following = a[np.minimum(c_pos + 1, len(a) - 1)]
    fine_after = (c_pos + 1 >= len(a)) | (following == syn.delimiter) | (following == syn.quote)
    after_cr = a[np.minimum(c_pos + 2, len(a) - 1)]
    fine_after |= (following == NL) | ((following == CR) & ((c_pos + 2 >= len(a)) | (after_cr == NL)))
    if newlines is None:
        newlines = np.flatnonzero(a == NL)
    encloses = (inside[paired] > 0) | (np.searchsorted(newlines, c_pos) > np.searchsorted(newlines, o_pos))
    flagged = o_pos[(at_field_start & ~fine_after) | (~at_field_start & encloses)]
    stray[np.searchsorted(starts, flagged, side="right") - 1] = True
    return counts, stray
