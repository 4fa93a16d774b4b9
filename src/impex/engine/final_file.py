"""Files that appear under their name only once complete: written under a temporary name, then
renamed over the path. Over anything but a file, that rename would do harm: a named pipe or a device
(``/dev/stdout`` is a link to one) would be replaced by a plain file, a folder would fail only once
the whole file is written."""

from __future__ import annotations

import errno
import stat
from pathlib import Path


def check_replaceable(path: Path, what: str) -> None:
    """OSError naming ``what`` (``the export file``) and ``path`` unless ``path`` is a file (through
    links) or nothing yet."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    except NotADirectoryError:
        return  # a file where a folder should be: the caller says so
    if stat.S_ISREG(mode):
        return
    raise OSError(
        errno.EISDIR if stat.S_ISDIR(mode) else errno.EINVAL,
        f"cannot write {what} {path}: it is {_kind(mode)}, not a file; {what} is written under a "
        "temporary name, then renamed over that path once complete",
    )


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"
