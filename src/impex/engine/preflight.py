"""Checks made before a job is saved: a connection, source or output file that a run could only fail
on is refused at once, with a stable code, rather than saved and left to end with errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from impex.domain.definitions import ExportJob, ImportJob, QuerySource, TableSource
from impex.engine.connections import BadConnection, UnknownConnection, connection_names, connection_url
from impex.engine.export_readers import open_source as open_table_or_query
from impex.engine.final_file import check_replaceable, name_that_fits, through_link
from impex.formats.detect import HEAD_BYTES
from impex.formats.errors import FormatError, NotAFile, NotText
from impex.formats.sniff import resolve_encoding
from impex.formats.source import read_start
from impex.settings import Settings
from impex.targets import TargetError


class Refused(Exception):
    """A job its runs could only fail: ``code`` for programs, the message for people."""

    def __init__(self, code: str, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


def connection_of(definition: ImportJob | ExportJob) -> str:
    """The connection a job's runs use: an import's target's, an export's source's."""
    return definition.target.connection if isinstance(definition, ImportJob) else definition.source.connection


def check_sources(settings: Settings, definition: ImportJob | ExportJob) -> None:
    """What a job's runs read and write can be: an import's file, an export's table or query and its
    output file (paths already confined where the caller confines them)."""
    if isinstance(definition, ImportJob):
        check_data_file(definition.source, definition.format.encoding)
    else:
        check_export_source(settings, definition.source)
        check_output(definition.output)


def check_connection(settings: Settings, name: str) -> None:
    """The server knows a connection of this name (a job naming another could only fail)."""
    try:
        known = connection_names(settings)
    except BadConnection as error:
        raise Refused("bad_connection", str(error), {"connection": name}) from None
    if name not in known:
        raise Refused(
            "unknown_connection",
            f"no connection named {name!r} (known: {', '.join(known)})",
            {"connection": name, "known": known},
        )


def check_data_file(path: str, encoding: str | None = None) -> None:
    """An import's source file can be opened and read as text, as its run begins by doing."""
    details: dict[str, Any] = {"source": path}
    try:
        start = read_start(path, HEAD_BYTES, encoding)
        resolve_encoding(start.data, encoding, path, transcoded_from=start.transcoded_from)
    except (IsADirectoryError, NotAFile) as error:
        raise Refused("source_not_a_file", f"{path}: {error.strerror}", details) from None
    except FileNotFoundError as error:
        raise Refused("source_not_found", f"{path}: {error.strerror}", details) from None
    except NotText as error:  # an image, a binary file: where its first binary byte is
        raise Refused("source_not_text", _naming(path, str(error)), details | error.where) from None
    except FormatError as error:  # an Excel workbook, UTF-32, a damaged archive
        raise Refused("source_unreadable", _naming(path, str(error)), details) from None
    except OSError as error:  # no permission, an I/O error
        raise Refused("source_unreadable", f"{path}: {error.strerror or error}", details) from None


def _naming(path: str, message: str) -> str:
    return message if path in message else f"{path}: {message}"


def check_export_source(settings: Settings, source: TableSource | QuerySource) -> None:
    """An export's table (and columns) exist, or its query prepares, on its connection; with its
    filter and order."""
    details = {"connection": source.connection}
    try:
        opened = open_table_or_query(connection_url(settings, source.connection), source)
        try:
            opened.column_names()  # a query is prepared here
            opened.check()
        finally:
            opened.close()
    except UnknownConnection:
        check_connection(settings, source.connection)  # says which connections there are
        raise
    except BadConnection as error:
        raise Refused("bad_connection", str(error), details) from None
    except TargetError as error:
        raise Refused("source_unreadable", str(error), details) from None


def check_output(path: str) -> None:
    """An export's file can be renamed over: a file, or nothing yet (a name template is named only when
    its run begins)."""
    if "{" in Path(path).name:
        return
    try:
        check_replaceable(through_link(name_that_fits(Path(path))), "the export file")
    except NotAFile as error:
        raise Refused("output_not_a_file", str(error.strerror), {"output": path}) from None
    except OSError as error:  # a name longer than the file system takes
        raise Refused("output_name_too_long", str(error.strerror), {"output": path}) from None
