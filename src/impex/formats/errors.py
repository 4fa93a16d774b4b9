"""Errors of the formats package. Structural problems of single records are rejects, not errors."""

from __future__ import annotations


class FormatError(ValueError):
    """The file as a whole cannot be read with the given format (unsupported encoding, bad archive...)."""


class InternalParseError(FormatError):
    """The splitter and the columnar parser disagree: a bug in impex, never the file's fault."""


class NotText(FormatError):
    """The file holds binary bytes: no text encoding reads it (a spreadsheet, an image, UTF-16 without
    a byte order mark...)."""
