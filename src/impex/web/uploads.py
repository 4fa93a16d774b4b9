"""Uploaded data files: streamed from a multipart body into the first file folder under a temporary
name, checked to be delimited text, and renamed only once complete and accepted. A refused or
broken upload leaves nothing behind. The preview is ``detect_format`` on the stored file."""

from __future__ import annotations

import codecs
import re
import secrets
import time
from collections.abc import AsyncIterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import ValidationError
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from impex.domain.definitions import TABLE_NAME, CsvFormat, with_offset
from impex.domain.names import ascii_spelling, file_stem
from impex.engine.connections import BadConnection, UnknownConnection, connection_url
from impex.formats.detect import DetectedFormat, detect_format, title_lines
from impex.formats.errors import FormatError, NotText, UnsupportedEncoding
from impex.formats.sniff import resolve_encoding
from impex.formats.source import read_start
from impex.settings import Settings
from impex.targets import TargetError, open_target
from impex.validate.plan import sanitise_names
from impex.web.errors import ApiError

UPLOAD_DIR = "uploads"
PART_PREFIX = ".part-"
PREVIEW_LINES = 200
SNIFF_BYTES = 256 * 1024
ENVELOPE_BYTES = 64 * 1024  # multipart boundaries, part headers and small fields around the file
MAX_FIELD_BYTES = 4096
MAX_BAD_SHARE = 0.01  # more undecodable characters than this in the head: not in that encoding
# What reading a file can raise: FormatError also for a cut gzip stream or a bad zip (formats.source).
UNREADABLE = (FormatError, OSError)
STORED_NAME = re.compile(r"^uploads/[A-Za-z0-9][A-Za-z0-9._-]{0,150}$")


def format_options(fields: Mapping[str, str | None]) -> CsvFormat:
    """The format options sent beside the file; empty ones are detected."""
    options: dict[str, Any] = {k: v for k, v in fields.items() if k in ("delimiter", "encoding") and v}
    if options.get("delimiter") in ("\\t", "tab"):
        options["delimiter"] = "\t"
    if header := fields.get("header"):
        options["header"] = header.lower() in ("1", "true", "yes", "on")
    if skip := fields.get("skip_lines"):
        options["skip_lines"] = skip
    try:
        return CsvFormat(**options)
    except ValidationError as error:
        message = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise ApiError(422, "validation_error", message) from None


def upload_folder(roots: list[Path]) -> Path:
    return roots[0] / UPLOAD_DIR


def too_large(limit: int) -> ApiError:
    mib = limit // (1024 * 1024)
    return ApiError(
        413,
        "payload_too_large",
        f"the file is larger than the upload limit of {mib} MiB (setting upload_max_mb)",
        {"limit_bytes": limit},
    )


@dataclass
class Received:
    """A multipart body read to its end: the file part in ``temp`` and the small text fields."""

    temp: Path | None = None
    filename: str = ""
    size: int = 0
    fields: dict[str, str] = field(default_factory=dict)

    def discard(self) -> None:
        if self.temp is not None:
            self.temp.unlink(missing_ok=True)
            self.temp = None


class _Sink:
    """Multipart callbacks: the file part goes to disk, counted against the limit as it arrives."""

    def __init__(self, folder: Path, limit: int) -> None:
        self.folder, self.limit = folder, limit
        self.received = Received()
        self.out: BinaryIO | None = None
        self.headers: dict[str, str] = {}
        self.header_field = b""
        self.header_value = b""
        self.part_name = ""
        self.value = bytearray()

    def callbacks(self) -> Any:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self.headers, self.part_name, self.value = {}, "", bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def _header_end(self) -> None:
        name = self.header_field.decode("latin-1").lower()
        # Latin-1 keeps the bytes as they are: parse_options_header encodes the value back to Latin-1,
        # and the file name's UTF-8 bytes (as browsers send them) are decoded below
        self.headers[name] = self.header_value.decode("latin-1")
        self.header_field = self.header_value = b""

    def _headers_finished(self) -> None:
        _kind, params = parse_options_header(self.headers.get("content-disposition", ""))
        self.part_name = params.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" not in params:
            return
        if self.received.temp is not None:
            raise ApiError(422, "one_file_only", "send one file per upload")
        self.received.filename = params[b"filename"].decode("utf-8", "replace")
        self.received.temp = self.folder / f"{PART_PREFIX}{secrets.token_hex(8)}"
        self.out = self.received.temp.open("xb")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self.out is None:
            if len(self.value) + end - start > MAX_FIELD_BYTES:
                raise ApiError(422, "field_too_long", f"form field {self.part_name!r} is too long")
            self.value += data[start:end]
            return
        self.received.size += end - start
        if self.received.size > self.limit:
            raise too_large(self.limit)
        self.out.write(data[start:end])

    def _part_end(self) -> None:
        if self.out is not None:
            self.out.close()
            self.out = None
        elif self.part_name:
            self.received.fields[self.part_name] = self.value.decode("utf-8", "replace")

    def close(self) -> None:
        if self.out is not None:
            self.out.close()
            self.out = None


async def receive(
    content_type: str | None, content_length: str | None, body: AsyncIterable[bytes], folder: Path, limit: int
) -> Received:
    """Read a multipart body, its file part streamed into ``folder`` under a temporary name.

    ApiError 415 when it is not multipart, 413 as soon as the file passes ``limit`` bytes (or the
    declared length shows it will), 400 when the body breaks the multipart syntax. On any failure
    the temporary file is gone."""
    kind, params = parse_options_header(content_type)
    if kind != b"multipart/form-data" or not params.get(b"boundary"):
        raise ApiError(415, "not_multipart", "send the file as multipart/form-data, in a field named 'file'")
    if content_length and content_length.isdigit() and int(content_length) > limit + ENVELOPE_BYTES:
        raise too_large(limit)
    folder.mkdir(parents=True, exist_ok=True)
    sink = _Sink(folder, limit)
    parser = MultipartParser(params[b"boundary"], sink.callbacks())
    try:
        async for chunk in body:
            parser.write(chunk)
        parser.finalize()
        sink.close()
    except BaseException as error:
        sink.close()
        sink.received.discard()
        if isinstance(error, MultipartParseError):
            raise ApiError(
                400, "bad_multipart", f"the multipart/form-data body cannot be read: {error}"
            ) from None
        raise
    return sink.received


def check_text(path: Path, requested_encoding: str | None) -> str:
    """The encoding of ``path``'s content (decompressed when gzip/zip), or ApiError 415 when it is
    binary or mostly undecodable. A few bad bytes are left to the import, which rejects their records."""
    try:
        start = read_start(path, SNIFF_BYTES, requested_encoding)
    except UnsupportedEncoding as error:  # UTF-32; or a mark, or no NUL byte, that the choice contradicts
        code = "undecodable" if requested_encoding else "unsupported_encoding"
        raise ApiError(415, code, str(error), {"encoding": requested_encoding}) from None
    except UNREADABLE as error:
        raise ApiError(415, "not_text", f"the file cannot be read as text: {error}") from None
    head, complete = start.data, start.complete
    if not head:
        raise ApiError(422, "empty_file", "the file is empty")
    try:
        encoding, bom = resolve_encoding(
            head, requested_encoding, "the file", transcoded_from=start.transcoded_from
        )
    except NotText as error:
        raise ApiError(415, "not_text", f"{error}; upload a CSV file", error.where or None) from None
    except FormatError as error:
        raise ApiError(415, "unsupported_encoding", str(error), {"encoding": requested_encoding}) from None
    # a UTF-16 file's head comes transcoded to UTF-8
    decoder = codecs.getincrementaldecoder("utf-8" if start.transcoded_from else encoding)(errors="replace")
    text = decoder.decode(head[bom:], final=complete)
    if text.count("\ufffd") > MAX_BAD_SHARE * max(1, len(text)):
        raise ApiError(
            415,
            "undecodable",
            f"the file cannot be decoded as {encoding}; choose its encoding",
            {"encoding": encoding},
        )
    return encoding


def safe_filename(name: str) -> str:
    """The uploaded file's own name, reduced to a harmless one (no folders, no leading dot)."""
    base = re.split(r"[\\/]", name)[-1]
    # Latin letters spelt in ASCII, as a table name spells them: the new-import page suggests the table
    # `impex import` of the same file fills (Straße.csv: strasse, not stra_e).
    spelled = "".join(ascii_spelling(c) or c for c in base)
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", spelled).lstrip(".")[-100:]
    stem = file_stem(cleaned)
    if not re.search("[A-Za-z0-9]", stem):  # nothing to name a table after (日本.csv)
        cleaned = "upload" + (cleaned[len(stem) :] or ".csv")
    return cleaned


@dataclass(frozen=True)
class StoredUpload:
    name: str  # relative to the first file folder: uploads/…
    path: Path
    size: int
    original_name: str


def accept(received: Received, roots: list[Path], fmt: CsvFormat) -> tuple[StoredUpload, DetectedFormat]:
    """Check the received file, preview it, and only then give it its final name."""
    if received.temp is None:
        raise ApiError(422, "no_file", "the form holds no file; send it in a field named 'file'")
    try:
        encoding = check_text(received.temp, fmt.encoding)
        detected = preview_file(received.temp, fmt.model_copy(update={"encoding": encoding}))
        stamp = time.strftime("%Y%m%d-%H%M%S")
        name = f"{UPLOAD_DIR}/{stamp}-{secrets.token_hex(3)}-{safe_filename(received.filename)}"
        final = roots[0] / name
        received.temp.rename(final)
        received.temp = None
    finally:
        received.discard()
    return StoredUpload(name, final, received.size, received.filename), detected


def preview_file(path: Path, fmt: CsvFormat, header: bool | None = None) -> DetectedFormat:
    """``detect_format`` on the first 200 records; ``header`` overrides the header guess. Lines above
    the header that do not fit it (a report's title) are passed over unless ``fmt`` says how many to."""
    try:
        detected = detect_format(path, fmt, PREVIEW_LINES, header=header)
        if detected.first_line_reject is None or header is False or "skip_lines" in fmt.model_fields_set:
            return detected
        skip = title_lines(path, fmt)
        if skip is None:
            return detected
        return detect_format(path, fmt.model_copy(update={"skip_lines": skip}), PREVIEW_LINES, header=header)
    except UNREADABLE as error:
        raise ApiError(415, "unreadable", f"the file cannot be read as delimited text: {error}") from None


def stored_path(roots: list[Path], name: str) -> Path:
    """The path of an accepted upload, by the name ``accept`` gave it (ApiError 404 otherwise)."""
    path = (roots[0] / name).resolve() if STORED_NAME.match(name) else None
    if path is None or not path.is_relative_to(upload_folder(roots)) or not path.is_file():
        raise ApiError(404, "upload_not_found", f"no uploaded file {name!r}", {"upload": name})
    return path


def existing_columns(settings: Settings, connection: str | None, table: str | None) -> list[str] | None:
    """The columns of ``table`` in the named connection when it exists there; None when it does not
    (or no table is named). A connection that cannot be used is a 422 naming it (never a password)."""
    if not table or not TABLE_NAME.match(table):
        return None
    try:
        session = open_target(connection_url(settings, connection or "default"))
    except (UnknownConnection, BadConnection, TargetError) as error:
        raise ApiError(422, "bad_connection", str(error)) from None
    try:
        return session.table_columns(table) if session.table_exists(table) else None
    except TargetError as error:
        raise ApiError(422, "bad_connection", str(error)) from None
    finally:
        session.close()


def match_table_columns(names: list[str], table_columns: list[str]) -> list[str]:
    """Per file column, the existing table column of the same name once both are normalised (case,
    spaces and punctuation as _, accents removed), each table column taken once; "" where none is."""
    by_norm: dict[str, str] = {}
    for column in table_columns:
        by_norm.setdefault(sanitise_names([column])[0], column)
    matched: list[str] = []
    for norm in sanitise_names(names):
        matched.append(by_norm.pop(norm, ""))
    return matched


def preview_dict(detected: DetectedFormat, table_columns: list[str] | None = None) -> dict[str, Any]:
    """The detected format, a guessed mapping per column and the first records, as JSON.

    ``table_columns``: the columns of the target table when it exists already. Each file column is then
    mapped to the table column of the same normalised name, or to none ("not imported")."""
    pairs = list(enumerate(zip(detected.column_names, detected.column_types, strict=False), 1))
    if table_columns is None:
        # named as impex import names them, so that either can load the file into the other's table
        targets = sanitise_names([name for _i, (name, _kind) in pairs])
    else:
        targets = match_table_columns([name for _i, (name, _kind) in pairs], table_columns)
    own = detected.conventions.own_formats  # a column writing its dates its own way: read so
    columns = [
        {
            "position": i,
            "source": name,
            "target": target,
            "use": bool(target),
            "type": (own[i - 1][0] if i - 1 in own else kind).value,
            "own_format": own[i - 1][1] if i - 1 in own else None,
        }
        for (i, (name, kind)), target in zip(pairs, targets, strict=True)
    ]
    return {
        "encoding": detected.encoding,
        "delimiter": detected.delimiter,
        "skip_lines": detected.skip_lines,
        "has_header": detected.has_header,
        "header": detected.header,
        "decimal_separator": detected.conventions.decimal_separator,
        "thousands_separator": detected.conventions.thousands_separator,
        "date_format": detected.conventions.date_format,
        "timestamp_format": detected.conventions.timestamp_format,
        "utc": with_offset(detected.conventions.timestamp_format),
        "table_columns": table_columns,
        "columns": columns,
        "rows": detected.sample[:PREVIEW_LINES],
    }
