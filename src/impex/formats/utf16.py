"""UTF-16 files (Excel's "Unicode Text"), read as a UTF-8 stream transcoded below the reader.

The record splitter works on ASCII-compatible bytes, so a UTF-16 file is transcoded to UTF-8 as it
is read, and everything above (records, lines, chunks, checkpoints) sees UTF-8. A unit that is no
UTF-16 (a lone surrogate, the last byte of an odd byte count) is kept as escapes, one per byte:
U+DC00 plus the byte, written in UTF-8 as three bytes that are never valid UTF-8 (and never a line
end, a delimiter or a quote). So the record holding it is rejected as ``bad_encoding`` by the same
check as in any UTF-8 file, and the file's own bytes come back from the transcoded ones exactly.
"""

from __future__ import annotations

import codecs
import itertools
import re
from pathlib import Path
from typing import Protocol

from impex.formats.errors import UnsupportedEncoding

LE, BE = "utf-16-le", "utf-16-be"
UTF16 = frozenset({"utf-16", LE, BE})
UTF32 = frozenset({"utf-32", "utf-32-le", "utf-32-be"})
BOMS = {LE: codecs.BOM_UTF16_LE, BE: codecs.BOM_UTF16_BE}
LABELS = {LE: "UTF-16LE", BE: "UTF-16BE"}
PROBE = 4096  # bytes of the content that tell UTF-16 from other text
BLOCK = 1024 * 1024
ESCAPES = "impex.utf16-units"
_ESCAPE_BASE = 0xDC00


_ESCAPED = re.compile("([\udc00-\udcff]+)")


def _escape_units(error: UnicodeError) -> tuple[str, int]:
    """Decoding: each byte of a bad unit as U+DC00 plus the byte."""
    if isinstance(error, UnicodeDecodeError):
        bad = error.object[error.start : error.end]
        return "".join(chr(_ESCAPE_BASE + byte) for byte in bad), error.end
    raise error


codecs.register_error(ESCAPES, _escape_units)


def _name(encoding: str) -> str:
    """Python's name of ``encoding``; an unknown one as given (the encoding check names it)."""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return encoding


def without_bom(sample: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when ``sample`` reads as mostly ASCII text in it: a NUL in nearly
    every second byte, on one side of each pair; else None."""
    pairs = sample[: len(sample) // 2 * 2][:PROBE]
    if len(pairs) < 4:
        return None
    high, low = pairs[0::2].count(0), pairs[1::2].count(0)
    half = len(pairs) // 2
    if low >= 0.9 * half and high <= 0.1 * half:
        return LE
    if high >= 0.9 * half and low <= 0.1 * half:
        return BE
    return None


def wide_encoding(head: bytes, requested: str | None, path: str | Path) -> str | None:
    """'utf-16-le' or 'utf-16-be' when the content starting with ``head`` is to be read as UTF-16:
    ``requested`` says so, or (none requested) its byte order mark or NUL pattern does. None for
    other text. UnsupportedEncoding for UTF-32, and for a mark that contradicts the requested one."""
    name = _name(requested) if requested else None
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) or name in UTF32:
        raise UnsupportedEncoding(
            f"{path}: UTF-32 files are not supported; convert the file to UTF-8 or UTF-16 "
            "(Excel's 'Unicode Text')"
        )
    marked = next((codec for codec, bom in BOMS.items() if head.startswith(bom)), None)
    if name is None:
        return marked or without_bom(head)
    if name not in UTF16:
        if marked:
            mark = " ".join(f"{byte:02X}" for byte in BOMS[marked])
            raise UnsupportedEncoding(
                f"{path}: the file starts with a {LABELS[marked]} byte order mark (bytes {mark}), but its "
                f"encoding is given as {requested}: give encoding utf-16, or leave it out to detect it"
            )
        return None
    if head.startswith(codecs.BOM_UTF8):
        raise UnsupportedEncoding(
            f"{path}: the file starts with a UTF-8 byte order mark (bytes EF BB BF), but its encoding is "
            f"given as {requested}: give encoding utf-8, or leave it out to detect it"
        )
    if not marked and head and b"\x00" not in head:
        raise UnsupportedEncoding(
            f"{path}: its encoding is given as {requested}, but its start holds no NUL byte, which UTF-16 "
            "text holds in every ASCII character (a delimiter, a line end): give its encoding, or leave it "
            "out to detect it"
        )
    if name == "utf-16":  # the mark says the order; without one, the NUL pattern; else Windows' LE
        return marked or without_bom(head) or LE
    if marked and marked != name:
        raise UnsupportedEncoding(
            f"{path}: the file starts with a {LABELS[marked]} byte order mark, but its encoding is given "
            f"as {requested}: give encoding utf-16, or leave it out to detect it"
        )
    return name


class _Stream(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


class Transcoded:
    """A UTF-16 byte stream read as UTF-8 (its byte order mark left out; bad units as escapes)."""

    def __init__(self, stream: _Stream, encoding: str) -> None:
        self.raw = stream  # the file's own bytes
        self._bom = BOMS[encoding]
        self._decoder = codecs.getincrementaldecoder(encoding)(errors=ESCAPES)
        self._out = b""
        self._started = False
        self._eof = False

    def read(self, size: int = -1, /) -> bytes:
        while not self._eof and (size < 0 or len(self._out) < size):
            block = self.raw.read(BLOCK if size < 0 else max(BLOCK, 2 * (size - len(self._out))))
            if not self._started:
                self._started = True
                block = block.removeprefix(self._bom)
            self._eof = not block
            text = self._decoder.decode(block, final=self._eof)
            self._out += text.encode("utf-8", "surrogatepass")
        if size < 0 or size >= len(self._out):
            data, self._out = self._out, b""
        else:
            data, self._out = self._out[:size], self._out[size:]
        return data

    def close(self) -> None:
        self.raw.close()


def as_text(data: bytes) -> str:
    """Transcoded bytes as text: a bad unit's escapes stay escapes."""
    return data.decode("utf-8", "surrogatepass")


def to_file(data: bytes, encoding: str) -> bytes:
    """Transcoded bytes as they are in the file: in ``encoding`` again, bad units as they were (by
    hand: the codec takes no odd byte count from an error handler)."""
    parts = _ESCAPED.split(as_text(data))
    return b"".join(
        bytes(ord(c) - _ESCAPE_BASE for c in part) if odd else part.encode(encoding)
        for odd, part in zip(itertools.cycle((False, True)), parts, strict=False)
    )


def bad_unit(data: bytes, offset: int) -> bytes:
    """The file's bytes of the bad unit whose escapes start at ``offset`` of transcoded ``data``."""
    found = _ESCAPED.match(as_text(data[offset:]))
    return bytes(ord(c) - _ESCAPE_BASE for c in found.group()) if found else b""


def shown(data: bytes) -> str:
    """Transcoded bytes as text to show, a bad unit's bytes written as \\xNN."""
    return "".join(
        f"\\x{ord(c) - _ESCAPE_BASE:02x}" if _ESCAPE_BASE <= ord(c) <= _ESCAPE_BASE + 0xFF else c
        for c in as_text(data)
    )


def label(encoding: str) -> str:
    """How messages name the encoding: UTF-16LE, UTF-16BE."""
    return LABELS.get(encoding, encoding)
