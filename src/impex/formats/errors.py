"""Errors of the formats package. Structural problems of single records are rejects, not errors."""

from __future__ import annotations

import stat


class FormatError(ValueError):
    """The file as a whole cannot be read with the given format (unsupported encoding, bad archive...)."""


class InternalParseError(FormatError):
    """The splitter and the columnar parser disagree: a bug in impex, never the file's fault."""


class UnsupportedEncoding(FormatError):
    """The file's text is in an encoding impex does not read (UTF-32), or not in the one requested (its
    byte order mark says another)."""


class NotText(FormatError):
    """The file holds binary bytes: no text encoding reads it (a spreadsheet, an image...).
    ``where``: the first such byte (as 0xNN), its line and column."""

    def __init__(self, message: str, where: dict[str, str | int] | None = None) -> None:
        super().__init__(message)
        self.where = where or {}


class NotAFile(OSError):
    """Something other than a file where impex reads or writes one: a folder, a named pipe, a device.
    Its ``strerror`` is the whole message."""

    @staticmethod
    def kind(mode: int) -> str:
        """What a path of this ``st_mode`` is, in words."""
        if stat.S_ISDIR(mode):
            return "a folder"
        if stat.S_ISFIFO(mode):
            return "a named pipe (FIFO)"
        if stat.S_ISSOCK(mode):
            return "a socket"
        return "a device"
