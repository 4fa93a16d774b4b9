"""Opening a data file as one uncompressed byte stream: plain, gzip or zip, recognised by content; a
UTF-16 one transcoded to UTF-8 (see ``utf16``), as a compressed one is decompressed."""

from __future__ import annotations

import errno
import gzip
import io
import os
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from impex.formats.errors import FormatError, NotAFile
from impex.formats.utf16 import PROBE, Transcoded, wide_encoding

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"  # an archive of no member is only its end record
ENCRYPTED = 0x01  # bit 0 of a zip member's general purpose flags
SKIP_BLOCK = 4 * 1024 * 1024
# What Path.is_file takes for "no file": missing, a file where a folder should be, a link loop.
_NOTHING_THERE = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP})


class ByteStream(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


@dataclass
class Source:
    """An open byte stream over a file's (uncompressed) content.

    ``transcoded_from`` names the file's encoding ('utf-16-le', 'utf-16-be') when the stream gives its
    content transcoded to UTF-8; offsets then count the UTF-8 bytes, and a resume reads from the start.
    """

    stream: ByteStream
    kind: str  # "plain", "gzip" or "zip"
    total_bytes: int | None  # uncompressed size when cheaply known; transcoded, an estimate of it
    transcoded_from: str | None = None

    def resized(self) -> tuple[int, int] | None:
        """A plain file's size (UTF-16 or not) when opened and now, if something wrote it since; else None."""
        file = self.stream.raw if isinstance(self.stream, Transcoded) else self.stream
        if not isinstance(file, _Snapshot):
            return None
        now = file.size_now()
        return (file.size, now) if now != file.size else None

    def close(self) -> None:
        self.stream.close()


SIZE_SAMPLE = 1024 * 1024  # bytes of a UTF-16 file that tell its size in UTF-8
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a compound file: Excel 97-2003 (.xls), old Word
_SAVE_AS_CSV = "impex imports delimited text (CSV): save the sheet as CSV"
_IN_EXCEL = "(Excel: File → Save As → CSV UTF-8) and import that"
EXCEL = f"an Excel workbook, not a data file: {_SAVE_AS_CSV} {_IN_EXCEL}"
OLD_OFFICE = (
    f"an Excel 97-2003 workbook (or another old Office file), not a data file: {_SAVE_AS_CSV} {_IN_EXCEL}"
)
OPENDOCUMENT = (
    f"an OpenDocument spreadsheet, not a data file: {_SAVE_AS_CSV} (LibreOffice Calc: File → Save As → "
    "Text CSV) and import that"
)


def _office_document(archive: zipfile.ZipFile) -> str | None:
    """What an office document the zip archive is (Excel's .xlsx, OpenDocument's .ods), if it is one."""
    names = set(archive.namelist())
    if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
        return EXCEL
    if "mimetype" in names and archive.read("mimetype").startswith(b"application/vnd.oasis.opendocument"):
        return OPENDOCUMENT
    return None


def _zip_member(archive: zipfile.ZipFile, path: Path) -> zipfile.ZipInfo:
    if (document := _office_document(archive)) is not None:
        raise FormatError(f"{path}: {document}")
    members = [
        info
        for info in archive.infolist()
        if not info.is_dir()
        and not info.filename.startswith("__MACOSX/")
        and not Path(info.filename).name.startswith(".")
    ]
    if not members:
        raise FormatError(f"{path}: the zip archive holds no data file")
    if len(members) > 1:
        names = ", ".join(m.filename for m in members)
        raise FormatError(f"{path}: the zip archive holds several files ({names}); expected exactly one")
    member = members[0]
    if member.flag_bits & ENCRYPTED:
        raise FormatError(
            f"{path}: {member.filename} in the zip archive is encrypted (password-protected): impex "
            "cannot read it; extract it and import the file itself"
        )
    return member


def open_source(path: str | Path, encoding: str | None = None) -> Source:
    """Open ``path`` for reading its uncompressed bytes, transcoded to UTF-8 when it is UTF-16 (as
    ``encoding``, the one requested, says, or else its byte order mark or NUL pattern). Missing file:
    FileNotFoundError naming it; a folder: IsADirectoryError; a pipe or a device: NotAFile; UTF-32,
    or a byte order mark the requested encoding contradicts: FormatError."""
    source = _open_content(Path(path))
    try:
        head = source.stream.read(PROBE)
        wide = wide_encoding(head, encoding, path)
    except BaseException:
        source.close()
        raise
    if isinstance(source.stream, _Snapshot):
        source.stream.seek(0)
    else:  # a decompressing stream cannot go back: open it again
        source.close()
        source = _open_content(Path(path))
    if wide is None:
        return source
    return Source(Transcoded(source.stream, wide), source.kind, _utf8_size(source, wide), wide)


def _utf8_size(source: Source, encoding: str) -> int | None:
    """About how many bytes a UTF-16 file's content takes in UTF-8, from its first megabyte: the run's
    progress counts transcoded bytes. None when the file's size is not known (compressed)."""
    if source.total_bytes is None or not isinstance(source.stream, _Snapshot):
        return None
    sample = source.stream.read(SIZE_SAMPLE)
    source.stream.seek(0)
    if not sample:
        return 0
    return round(len(Transcoded(io.BytesIO(sample), encoding).read()) * source.total_bytes / len(sample))


def _open_content(path: Path) -> Source:
    try:
        mode = path.stat().st_mode
    except OSError as error:
        if error.errno not in _NOTHING_THERE:
            raise
        raise FileNotFoundError(errno.ENOENT, "source file not found", str(path)) from None
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "the source is a folder, not a data file", str(path))
    if not stat.S_ISREG(mode):
        raise NotAFile(
            errno.EINVAL,
            f"the source is {NotAFile.kind(mode)}, not a file: impex reads its source twice over (to "
            "detect the format, then again from any point to resume); save the data to a file first",
            str(path),
        )
    with path.open("rb") as probe:
        magic = probe.read(len(OLE2_MAGIC))
    if magic == OLE2_MAGIC:
        raise FormatError(f"{path}: {OLD_OFFICE}")
    if magic.startswith(GZIP_MAGIC):
        return Source(_Checked(gzip.open(path, "rb"), path, "gzip"), "gzip", None)
    if magic[:4] in (ZIP_MAGIC, EMPTY_ZIP_MAGIC):
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            raise FormatError(f"{path}: not a readable zip archive ({error})") from None
        try:
            info = _zip_member(archive, path)
            stream = archive.open(info)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as error:
            archive.close()
            raise FormatError(f"{path}: not a readable zip archive ({error})") from None
        except BaseException:
            archive.close()
            raise
        # ZipExtFile does not close the archive it came from when opened from a ZipFile object.
        return Source(_Checked(_ZipStream(stream, archive), path, "zip"), "zip", info.file_size)
    plain = _Snapshot(path.open("rb"))
    return Source(plain, "plain", plain.size)


class _Checked:
    """A decompressing stream whose damage (a cut-off or corrupt file) is a FormatError naming the file."""

    def __init__(self, stream: ByteStream, path: Path, kind: str) -> None:
        self._stream = stream
        self._path = path
        self._kind = kind

    def read(self, size: int = -1) -> bytes:
        try:
            data = self._stream.read(size)
        except (EOFError, zlib.error, gzip.BadGzipFile, zipfile.BadZipFile) as error:
            raise FormatError(
                f"{self._path}: the {self._kind} data is cut short or damaged ({error}); "
                "the file is incomplete"
            ) from None
        return data

    def close(self) -> None:
        self._stream.close()


class _Snapshot:
    """A plain file's bytes up to the size it had when opened: what another program appends while it
    is read (maybe half a line) is not read."""

    def __init__(self, file: io.BufferedReader) -> None:
        self._file = file
        self.size = os.fstat(file.fileno()).st_size
        self._left = self.size

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(self._left if size < 0 else min(size, self._left))
        self._left -= len(data)
        return data

    def seek(self, offset: int) -> None:
        self._file.seek(offset)
        self._left = max(self.size - offset, 0)

    def size_now(self) -> int:
        return os.fstat(self._file.fileno()).st_size

    def close(self) -> None:
        self._file.close()


class _ZipStream:
    """A zip member stream that also closes its archive."""

    def __init__(self, stream: ByteStream, archive: zipfile.ZipFile) -> None:
        self._stream = stream
        self._archive = archive

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self._stream.close()
        self._archive.close()


def skip_to(source: Source, offset: int) -> None:
    """Position the stream at byte ``offset`` of the uncompressed content (compressed: read and discard)."""
    if offset <= 0:
        return
    if isinstance(source.stream, _Snapshot):
        source.stream.seek(offset)
        return
    remaining = offset
    while remaining > 0:
        block = source.stream.read(min(SKIP_BLOCK, remaining))
        if not block:
            raise FormatError(
                f"cannot resume at byte {offset}: the source has only {offset - remaining} bytes"
            )
        remaining -= len(block)


@dataclass(frozen=True)
class Head:
    """A file's first bytes, as ``open_source`` gives them."""

    data: bytes
    complete: bool  # the whole content
    transcoded_from: str | None  # as Source's


def read_start(path: str | Path, size: int, encoding: str | None = None) -> Head:
    """The first ``size`` uncompressed bytes of ``path``, transcoded as ``open_source`` does."""
    source = open_source(path, encoding)
    try:
        head = source.stream.read(size)
        return Head(head, len(head) < size, source.transcoded_from)
    finally:
        source.close()


def read_head(path: str | Path, size: int, encoding: str | None = None) -> tuple[bytes, bool]:
    """The first ``size`` uncompressed bytes of ``path`` (transcoded as ``open_source`` does), and
    whether they are the whole content."""
    head = read_start(path, size, encoding)
    return head.data, head.complete
