"""Guessing a file's encoding and delimiter from its first bytes."""

from __future__ import annotations

import codecs
import functools
import re
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np

from impex.domain.definitions import CsvFormat
from impex.formats.alphabets import one_language_readings
from impex.formats.errors import FormatError, NotText
from impex.formats.readings import STYLES, date_formats, number_reading, timestamp_formats
from impex.formats.split import I64, U8, Records, Syntax, field_counts, quote_positions, split_records
from impex.formats.utf16 import label, without_bom

UTF8_BOM = codecs.BOM_UTF8
WIDE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
DELIMITERS = (",", ";", "\t", "|")
WESTERN = ("cp1252", "iso8859-1", "iso8859-15")
CENTRAL_EUROPEAN = ("cp1250", "iso8859-2")
# What charset-normalizer's guess may be: the code pages files are written in. Read as a rare one
# (Nordic iso8859-10, old DOS and Mac pages), text of a common one still shows only letters.
LIKELY = (
    *CENTRAL_EUROPEAN,
    *("cp1251", "koi8-r", "koi8-u", "iso8859-5", "cp1253", "iso8859-7", "cp1254", "iso8859-9"),
    *("cp1257", "iso8859-13", "cp1255", "iso8859-8", "cp1256", "iso8859-6", "cp1258", "tis-620"),
    *("euc_jp", "euc_kr", "gb2312", "cp949"),
)
STRUCTURE = "\n\r,;|\t\"'\\"
# Bytes no text file holds, except a few by accident: tab, line feed, vertical tab, form feed and
# carriage return are text; NUL never is.
CONTROL = bytes(sorted(set(range(0x20)) - {0x09, 0x0A, 0x0B, 0x0C, 0x0D}))
NOT_CONTROL = bytes(sorted(set(range(256)) - set(CONTROL)))
_NOT_C1 = bytes(sorted(set(range(256)) - set(range(0x80, 0xA0))))
GUESS_BYTES = 262_144  # of a sample, those an encoding is guessed from
MAX_CONTROL_SHARE = 0.01
MAX_STRAY_CONTROLS = 3
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
# Turkish cp1254's İ Ş ş ğ ı read as cp1252 (Icelandic's letters, rare elsewhere): let it be asked.
_TURKISH_AS_WESTERN = "ÝÞþðý"
# Text whose letters beyond ASCII are all Turkish ones, some of them letters only Turkish has, is
# Turkish: read in cp1250 the same bytes are letters too ('Şükrü' as 'Ţükrü', 'İstanbul' as 'Ýstanbul').
_TURKISH = frozenset("çğıöşüâîûÇĞİÖŞÜÂÎÛ")
_ONLY_TURKISH = frozenset("ğıİşŞĞ")
# Inside a word (O’Brien, don’t, l’été) where another code page's letters read as cp1252 show symbols.
APOSTROPHE = "\u2019"
_WESTERN_SIGNS = "€£¥§©®°±²³¹¼½¾¿¡«»‘’‚“”„–—…•†‡‰‹›™·\xa0"


@functools.cache
def ascii_compatible(encoding: str) -> bool:
    """Whether the structural characters are single ASCII bytes in ``encoding``, and such a byte is
    never the second byte of another character (as ``|`` and ``\\`` are in Shift_JIS, Big5, GBK)."""
    structure = STRUCTURE.encode("ascii")
    try:
        if STRUCTURE.encode(encoding) != structure:
            return False
        if any(byte < 0x80 for byte in "é中Ж".encode(encoding, errors="ignore")):
            return False  # 7-bit encodings (HZ, ISO-2022): any ASCII byte may be part of a character
    except (LookupError, UnicodeError):
        return False
    for lead in range(0x80, 0x100):
        for byte in structure:
            try:
                if len(bytes((lead, byte)).decode(encoding)) == 1:
                    return False
            except UnicodeDecodeError:
                continue
    return True


def canonical(encoding: str) -> str:
    """Python's name of an encoding (``latin1`` → ``iso8859-1``), or FormatError if unknown."""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise FormatError(f"unknown encoding {encoding!r}") from None


def _looks_utf8(sample: bytes) -> bool:
    """Valid UTF-8, or mostly: more well-formed multi-byte characters than invalid bytes."""
    try:
        codecs.utf_8_decode(sample, "strict", False)
        return True
    except UnicodeDecodeError:
        pass
    text = sample.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd")
    valid = sum(1 for ch in text if ord(ch) > 127 and ch != "\ufffd")
    return valid > invalid


def reads_as_western(sample: bytes) -> bool:
    """Whether ``sample`` read as cp1252 is Western European text: accented letters inside words, and
    symbols (€, £, ², “…”) beside them at most on one side. Other scripts read as cp1252 show as runs
    of accented letters (Cyrillic: ``Ïðèâåò``) or as symbols inside words (Polish ``Bia³ystok``,
    ``£ódŸ``), or hold bytes cp1252 leaves undefined."""
    return _reads_as(sample, "cp1252", western=True)


def _reads_as(sample: bytes, encoding: str, *, western: bool = False) -> bool:
    """Whether ``sample`` decodes in ``encoding`` with no symbol between two letters of a word (read
    in a neighbouring code page, Polish 'Gęślą' shows 'Gę¶l±'); ``western``: see reads_as_western."""
    try:
        text = sample.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    for run in _NON_ASCII.finditer(text):
        chars = run.group()
        if any("\x80" <= c <= "\x9f" for c in chars):
            return False  # C1 controls: what ISO-8859 pages make of other pages' letters, never text
        if western and (
            len(chars) >= 3
            or not all(c.isalpha() or c in _WESTERN_SIGNS for c in chars)
            or any(c in _TURKISH_AS_WESTERN for c in chars)
        ):
            return False
        before = text[run.start() - 1] if run.start() else " "
        after = text[run.end()] if run.end() < len(text) else " "
        for i, c in enumerate(chars):
            left = chars[i - 1] if i else before
            if c.isupper() and left.islower():
                return False  # a capital inside a word: 'PellŠ', DOS cp850's 'Pellè' read as cp1250
            if c.isalpha() or c == APOSTROPHE:
                continue
            right = chars[i + 1] if i + 1 < len(chars) else after
            if right.isalpha() and (left.isalpha() or unicodedata.category(c) in ("Sc", "No")):
                return False
    return True


def _charset_guess(sample: bytes, path: str | Path) -> str:
    """cp1252 for Western European text (charset-normalizer takes a few accented names for Chinese or
    Baltic code pages), else charset-normalizer's best other guess in which it recognised a language
    and no word holds a symbol. Else FormatError: asking beats guessing. First of all, the one Latin
    code page in which the letters are those of one language, if only one gives that."""
    head = sample[:GUESS_BYTES]
    fitting = [page for page in one_language_readings(head) if _reads_as(head, page)]
    if len(fitting) == 1:  # several: the same letters in each, any reads them
        return fitting[0]
    if reads_as_western(head):
        return "cp1252"
    if not _has_c1_bytes(sample) and _reads_as(head, "iso8859-15", western=True):
        return "iso8859-15"  # where cp1252 would read the euro sign (0xA4) as '¤', œ (0xBD) as '½'
    if _reads_as_turkish(head):
        return "cp1254"
    from charset_normalizer import from_bytes  # only files of no declared encoding need it

    guesses = [name for m in from_bytes(head) if m.coherence and (name := canonical(m.encoding)) in LIKELY]
    # charset-normalizer may offer no Central European code page for Polish or Czech: try those too,
    # where most letters are ASCII (as in Latin script; read as them, Cyrillic is all accents)
    latin = [name for name in CENTRAL_EUROPEAN if _mostly_ascii_letters(head, name)]
    best = next((name for name in [*guesses, *latin] if _reads_as(head, name)), None)
    if best is None:
        at = next(i for i, byte in enumerate(sample) if byte > 0x7F)
        line = sample.count(b"\n", 0, at) + 1
        column = at - sample.rfind(b"\n", 0, at)
        raise FormatError(
            f"{path}: cannot tell the encoding from the text (byte 0x{sample[at]:02x} at line {line}, "
            f"column {column} is not UTF-8): give the encoding, e.g. cp1252, cp1250 or cp1251"
        )
    return best


def _has_c1_bytes(sample: bytes) -> bool:
    """Whether ``sample`` holds a byte 0x80-0x9F, which ISO-8859 pages leave to control characters."""
    return len(sample.translate(None, _NOT_C1)) > 0


def _reads_as_turkish(sample: bytes) -> bool:
    if not _reads_as(sample, "cp1254"):
        return False
    letters = {c for c in sample.decode("cp1254") if not c.isascii() and c.isalpha()}
    return letters <= _TURKISH and bool(letters & _ONLY_TURKISH)


def _mostly_ascii_letters(sample: bytes, encoding: str) -> bool:
    try:
        text = sample.decode(encoding)
    except UnicodeDecodeError:
        return False
    letters = sum(c.isalpha() for c in text)
    return letters > 0 and sum(c.isalpha() and not c.isascii() for c in text) < letters / 2


def binary_byte(sample: bytes) -> int | None:
    """Offset of the first byte showing that ``sample`` is not text (its first NUL, else its first
    control byte) when control bytes, NUL included, are more than 1 % of it and more than a few;
    None for text. A text file with a stray NUL is read: the record holding it is rejected."""
    controls = len(sample.translate(None, NOT_CONTROL))
    if controls <= max(MAX_CONTROL_SHARE * len(sample), MAX_STRAY_CONTROLS):
        return None
    nul = sample.find(b"\x00")
    return nul if nul >= 0 else min(at for c in CONTROL if (at := sample.find(c)) >= 0)


def utf8_misread(sample: bytes, encoding: str) -> tuple[int, str, str] | None:
    """When ``sample`` is UTF-8 text beyond ASCII (which text in another encoding almost never is): the
    line of its first word beyond ASCII, that word, and the word as ``encoding`` reads it ('Köln' as
    'KÃ¶ln'). None otherwise: ASCII only, or not UTF-8."""
    if sample.isascii():
        return None
    try:
        codecs.utf_8_decode(sample, "strict", False)  # a character cut at the sample's end is no error
    except UnicodeDecodeError:
        return None
    at = next(i for i, byte in enumerate(sample) if byte > 0x7F)
    start = max(sample.rfind(sep, 0, at) for sep in (b" ", b"\n", b"\t", b",", b";", b"|", b'"')) + 1
    ends = [
        end
        for sep in (b" ", b"\r", b"\n", b"\t", b",", b";", b"|", b'"')
        if (end := sample.find(sep, at)) >= 0
    ]
    word = sample[start : min(ends, default=len(sample))]
    line = sample.count(b"\n", 0, at) + 1
    return line, word.decode("utf-8", errors="replace"), word.decode(encoding, errors="replace")


def resolve_encoding(
    sample: bytes, requested: str | None, path: str | Path, *, transcoded_from: str | None = None
) -> tuple[str, int]:
    """(encoding, length of a BOM to skip) for a file starting with ``sample``.

    ``sample`` is what ``read_start`` gives: a UTF-16 file comes transcoded to UTF-8 (its encoding is
    then ``transcoded_from``, which this returns), unless another encoding is requested for it.
    UTF-8 with a BOM is reported as ``utf-8-sig``. Other encodings that are not ASCII-compatible
    cannot be split byte-wise and raise FormatError naming the file; binary content raises NotText,
    naming the file and the first binary byte.
    """
    if transcoded_from is not None:
        return transcoded_from, 0
    if sample.startswith(WIDE_BOMS) and not sample.startswith(UTF8_BOM):
        raise FormatError(
            f"{path}: the file starts with a UTF-16 or UTF-32 byte order mark, but its encoding is given as "
            f"{requested}: give encoding utf-16, or leave it out to detect it"
        )
    wide = without_bom(sample)
    if wide is not None:
        raise FormatError(
            f"{path}: the file looks like {label(wide)} without a byte order mark (every other byte is "
            f"NUL), but its encoding is given as {requested}: give encoding utf-16, or leave it out to "
            "detect it"
        )
    at = binary_byte(sample)
    if at is not None:
        line = sample.count(b"\n", 0, at) + 1
        column = at - sample.rfind(b"\n", 0, at)
        raise NotText(
            f"{path}: not a text file: byte 0x{sample[at]:02x} at line {line}, column {column} "
            f"(offset {at}); impex reads delimited text (CSV) in an ASCII-compatible encoding, plain or "
            "in a .gz or .zip file",
            {"byte": f"0x{sample[at]:02x}", "line": line, "column": column},
        )
    if b"\n" not in sample and b"\r" in sample.rstrip(b"\r"):
        at = sample.find(b"\r")
        raise FormatError(
            f"{path}: its lines end in a carriage return alone (CR, as on classic Mac OS: the first at "
            f"offset {at}), not in LF or CRLF: convert the file, e.g. with tr '\\r' '\\n'"
        )
    bom = len(UTF8_BOM) if sample.startswith(UTF8_BOM) else 0
    if requested is not None:
        name = canonical(requested)
        if name in ("utf-8", "utf-8-sig"):
            return ("utf-8-sig" if bom else "utf-8"), bom
        if bom:  # read as another encoding, the mark would be text ('ï»¿' in cp1252) and so would all else
            raise FormatError(
                f"{path}: the file starts with a UTF-8 byte order mark (bytes EF BB BF), but its encoding "
                f"is given as {requested}: give encoding utf-8, or leave it out to detect it"
            )
        if not ascii_compatible(name):
            raise FormatError(
                f"{path}: encoding {requested} is not supported (not ASCII-compatible: a delimiter, quote "
                "or line-end byte can be part of a character in it); convert the file to UTF-8 or UTF-16"
            )
        misread = utf8_misread(sample, name)
        if misread is not None:
            line, word, read = misread
            raise FormatError(
                f"{path}: its encoding is given as {requested}, but the text is UTF-8: line {line} holds "
                f"{word!r}, which {requested} reads as {read!r}. Give encoding utf-8, or leave it out to "
                "detect it"
            )
        return name, 0
    if bom:
        return "utf-8-sig", bom
    if sample.isascii() or _looks_utf8(sample):
        return "utf-8", 0
    name = _charset_guess(sample, path)
    if name in ("ascii", "utf-8"):
        return "utf-8", 0
    if not ascii_compatible(name):
        raise FormatError(f"{path}: detected encoding {name} is not supported (not ASCII-compatible)")
    return name, 0


_EXCEL_SEPARATOR = re.compile(rb'(?i)(?:sep=([^\r\n"\x80-\xff])|"sep=([^\r\n"\x80-\xff])")\r?\n')


def excel_separator(sample: bytes) -> tuple[str, int] | None:
    """The delimiter a first line ``sep=;`` names (as Excel writes and reads it), and that line's length
    with its line end; None if the file does not start so. That line is no header and no record."""
    found = _EXCEL_SEPARATOR.match(sample)
    if found is None:
        return None
    return (found.group(1) or found.group(2)).decode("ascii"), found.end()


def guess_delimiter(sample: bytes, fmt: CsvFormat, final: bool, max_records: int = 200) -> str:
    """The candidate delimiter giving the most consistent field count (more than one field) in the
    sample, below the lines ``fmt.skip_lines`` skips."""
    sample = _below_skipped_lines(sample, fmt.skip_lines)
    a = np.frombuffer(sample, dtype=np.uint8)
    scored: dict[str, tuple[tuple[float, int], Syntax, I64, I64]] = {}
    for candidate in DELIMITERS:
        syn = Syntax.of(fmt, candidate)
        records = _records_as_read(a, syn, final)
        keep = ~records.blank & ~records.unterminated
        starts, ends = records.starts[keep][:max_records], records.ends[keep][:max_records]
        if len(starts) == 0:
            continue
        quotes = quote_positions(a, syn)
        delims = np.flatnonzero(a == syn.delimiter)
        counts = field_counts(starts, ends, quotes, delims)
        mode, freq = Counter(counts.tolist()).most_common(1)[0]
        if mode >= 2:
            scored[candidate] = ((freq / len(counts), mode), syn, starts, ends)
    if not scored:
        return ","
    best = max(score for score, *_ in scored.values())
    tied = [c for c, (score, *_) in scored.items() if score == best]  # in DELIMITERS order
    if len(tied) == 1:
        return tied[0]
    # '1;2,5;3,5' splits as evenly on ',' as on ';': the split whose fields read as numbers or dates wins.
    typed = {c: _typed_share(sample, *scored[c][1:]) for c in tied}
    return max(tied, key=lambda c: typed[c])


def _below_skipped_lines(sample: bytes, skip_lines: int) -> bytes:
    """``sample`` without its first ``skip_lines`` lines: a preamble, not data."""
    at = 0
    for _ in range(skip_lines):
        newline = sample.find(b"\n", at)
        if newline < 0:
            return b""
        at = newline + 1
    return sample[at:]


def _records_as_read(a: U8, syn: Syntax, final: bool) -> Records:
    """The records of ``a`` as the reader splits them, knowing the first record's field count: a quote
    left open is its line's alone, not a field swallowing the lines up to the next quote (which would
    make the lines of a quoted field below read as records of one field each)."""
    records = split_records(a, syn, final=final)
    data = np.flatnonzero(~records.blank)
    if len(data) == 0 or len(records.quotes) == 0:
        return records
    k = int(data[0])
    delims = np.flatnonzero(a == syn.delimiter)
    first = records.starts[k : k + 1], records.ends[k : k + 1]
    n_fields = int(field_counts(*first, records.quotes, delims)[0])
    return split_records(a, syn, final=final, n_fields=n_fields, quotes=records.quotes)


def _typed_share(sample: bytes, syn: Syntax, starts: I64, ends: I64) -> float:
    from impex.formats.chunk import split_fields  # (it imports this module)

    fields = [
        f for s, e in zip(starts.tolist(), ends.tolist(), strict=True) for f in split_fields(sample[s:e], syn)
    ]
    return sum(_typed(f.decode("latin-1").strip()) for f in fields) / max(len(fields), 1)


def _typed(text: str) -> bool:
    """A number in any known style ('1.234,50'), a date or a timestamp."""
    numbers = any(number_reading(text, style) is not None for style in STYLES)
    return numbers or bool(date_formats(text) or timestamp_formats(text))
