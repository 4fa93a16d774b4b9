"""Files that appear under their name only once complete: written under a temporary name, then
renamed over the path. Over anything but a file, that rename would do harm: a named pipe or a device
(``/dev/stdout`` is a link to one) would be replaced by a plain file, a folder would fail only once
the whole file is written; and over a SQLite database (the export's own source, say), every table
of it would be lost."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path

from impex.formats.errors import NotAFile

NAME_MAX = 255  # bytes of a file name on the usual file systems (ext4, XFS, Btrfs, APFS)

SQLITE_HEADER = b"SQLite format 3\x00"  # the first bytes of every SQLite database file


class ADatabase(NotAFile):
    """A SQLite database where impex would write a file over it: a source's, impex's own store, any."""


def check_replaceable(path: Path, what: str) -> None:
    """NotAFile naming ``what`` (``the export file``) and ``path`` unless ``path`` is a file (through
    links) or nothing yet; ADatabase when that file is a SQLite database (a name mistyped would
    replace every table of it)."""
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):  # nothing there yet, or no folder: said later
        return
    if stat.S_ISREG(mode):
        if _starts_with(path, SQLITE_HEADER):
            raise ADatabase(
                errno.EEXIST,
                f"cannot write {what} {path}: it is a SQLite database, which {what} would replace; "
                "give another name",
            )
        return
    raise NotAFile(
        errno.EISDIR if stat.S_ISDIR(mode) else errno.EINVAL,
        f"cannot write {what} {path}: it is {NotAFile.kind(mode)}, not a file; {what} is written "
        "under a temporary name, then renamed over that path once complete",
    )


def through_link(path: Path) -> Path:
    """Where to write for ``path``: the file a link points to (or would, once written), so that the
    link stays a link (the rename would otherwise put the file in the link's place); ``path`` itself
    otherwise, a link to anything but a file included, for ``check_replaceable`` to refuse."""
    if path.is_symlink() and (path.is_file() or not path.exists()):
        return Path(os.path.realpath(path))
    return path


def _starts_with(path: Path, head: bytes) -> bool:
    try:
        with open(path, "rb") as file:
            return file.read(len(head)) == head
    except OSError:  # unreadable: the rename will tell
        return False


def temporary_beside(final: Path, suffix: str, reserve: int = 0) -> Path:
    """A temporary name beside ``final``: its name plus ``suffix``; shortened, with a digest of the
    whole name, where that (and ``reserve`` bytes more, for suffixes of its own) would be longer
    than a file name may be."""
    name = os.fsencode(final.name)
    room = NAME_MAX - len(suffix) - reserve
    if len(name) <= room:
        return final.with_name(final.name + suffix)
    digest = hashlib.sha256(name).hexdigest()[:12]
    head = name[: room - len(digest) - 1].decode("utf-8", "ignore")  # no character cut in two
    return final.with_name(f"{head}~{digest}{suffix}")


def name_that_fits(final: Path) -> Path:
    """``final``; OSError naming it when its name is longer than a file name may be."""
    length = len(os.fsencode(final.name))
    if length > NAME_MAX:
        raise OSError(
            errno.ENAMETOOLONG,
            f"cannot write the export file {final}: its name is {length} bytes long (in UTF-8), and a "
            f"file name may have at most {NAME_MAX}",
        )
    return final
