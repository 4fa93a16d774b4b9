"""Job definitions: what an operator writes in YAML/JSON (or builds in Python).

Plain pydantic models, validated on load; no I/O here (see ``impex.definitions_io`` for files).
"""

from __future__ import annotations

import codecs
import re
import string
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

# The enums live in ``choices`` (no pydantic, for the CLI's options); they are importable from here too.
from impex.domain.choices import (
    ColumnType,
    CommitMode,
    DoublesPolicy,
    DuplicatesPolicy,
    Operation,
    Transform,
)
from impex.domain.time_formats import check_time_format

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
# A table may be named with its schema (PostgreSQL's crm.contacts); SQLite refuses that when it opens one.
TABLE_NAME = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]{0,62}\.)?[A-Za-z_][A-Za-z0-9_]{0,62}$")
OFFSET_DIRECTIVE = re.compile(r"%[:#]?z")  # a UTC offset in a timestamp format
_DEFAULT_TIMESTAMP = "%Y-%m-%d %H:%M:%S"  # of the file formats; ISO 8601 with a space


class Model(BaseModel):
    # A number where text is taken is that text (JSON's "remap": {"x": 0}, "false_values": [0]).
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


def check_identifier(value: str) -> str:
    if not IDENTIFIER.match(value):
        raise ValueError(
            f"{value!r} is not a valid table or column name "
            "(letters, digits and _, starting with a letter or _, at most 63 characters)"
        )
    return value


def check_table_name(value: str) -> str:
    if not TABLE_NAME.match(value):
        raise ValueError(
            f"{value!r} is not a valid table name (letters, digits and _, starting with a letter or _, at "
            "most 63 characters; in PostgreSQL, after its schema and a dot if need be: crm.contacts)"
        )
    return value


def known_encoding(value: str) -> str:
    try:
        codecs.lookup(value)
    except LookupError:
        raise ValueError(f"unknown encoding {value!r}") from None
    return value


def spelled_delimiter(given: str | None) -> str | None:
    """The delimiter a person typed: a tab is hard to type (in a shell, in a form field), so \\t and
    tab say it too."""
    return "\t" if given in ("\\t", "tab", "TAB") else given


def one_ascii_character(value: str) -> str:
    if len(value.encode("utf-8")) != 1:
        raise ValueError(f"expected a single ASCII character, got {value!r}")
    return value


class CsvFormat(Model):
    """Delimited text. ``None`` for delimiter or encoding means: detect it."""

    delimiter: str | None = None
    quote: str = '"'
    escape: str | None = None  # None: a quote inside a quoted field is doubled ("")
    encoding: str | None = None
    header: bool = True
    skip_lines: int = Field(0, ge=0)
    multiline: bool = True  # quoted fields may hold line breaks
    # A field equal to one (after trimming) is null when bare, the text itself when quoted ("NULL" is the
    # text NULL, "" the empty text), as PostgreSQL's COPY reads CSV; in a typed column a quoted "0" is 0.
    null_values: tuple[str, ...] = ("",)
    quoted_nulls: bool = False  # true: a quoted field equal to a null marker is null too (files quoting all)
    decimal_separator: str = "."
    thousands_separator: str | None = None
    date_format: str = "%Y-%m-%d"
    timestamp_format: str = _DEFAULT_TIMESTAMP
    true_values: tuple[str, ...] = ("true", "t", "yes", "y", "1")
    false_values: tuple[str, ...] = ("false", "f", "no", "n", "0")
    trim: bool = True

    @field_validator("delimiter", "quote", "escape", "decimal_separator")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        return None if value is None else one_ascii_character(value)

    @field_validator("thousands_separator")
    @classmethod
    def _one_grouping_character(cls, value: str | None) -> str | None:
        # Not only ASCII: a no-break space or a typographic apostrophe groups thousands too.
        if value is not None and (len(value) != 1 or value.isdigit() or value in "+-"):
            raise ValueError(f"expected a single character other than a digit or a sign, got {value!r}")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        return None if value is None else known_encoding(value)

    _formats_ok = field_validator("date_format", "timestamp_format")(
        classmethod(lambda cls, v: check_time_format(v))
    )

    @model_validator(mode="after")
    def _distinct_characters(self) -> CsvFormat:
        if self.delimiter is not None and self.delimiter == self.quote:
            raise ValueError(f"quote: {self.quote!r} is the delimiter too: they must differ")
        if self.thousands_separator is not None and self.thousands_separator == self.decimal_separator:
            raise ValueError(
                f"thousands_separator: {self.thousands_separator!r} is the decimal_separator too: "
                "they must differ"
            )
        return self


def with_offset(timestamp_format: str) -> bool:
    """Whether ``timestamp_format`` reads a UTC offset ('%z'): the import stores its moments in UTC."""
    return OFFSET_DIRECTIVE.search(timestamp_format) is not None


class ColumnSpec(Model):
    """One target column and where its value comes from."""

    name: str
    source: str | int | None = None  # header name, or 1-based position; default: the column's name
    constant: Any = None  # a fixed value instead of a source field
    default: Any = None  # used when the source field is empty/null
    type: ColumnType = ColumnType.STRING
    max_length: int | None = Field(None, gt=0)
    precision: int | None = Field(None, gt=0, le=38)  # decimal
    scale: int | None = Field(None, ge=0, le=38)
    required: bool = False
    transforms: tuple[Transform, ...] = ()
    remap: dict[str, str] = Field(default_factory=dict)  # source value -> value, after transforms
    # This column's own, instead of the format's (a file with dates written two ways)
    date_format: str | None = None
    timestamp_format: str | None = None

    _name_ok = field_validator("name")(classmethod(lambda cls, v: check_identifier(v)))
    _formats_ok = field_validator("date_format", "timestamp_format")(
        classmethod(lambda cls, v: None if v is None else check_time_format(v))
    )

    @field_validator("remap", mode="before")
    @classmethod
    def _booleans_as_words(cls, value: Any) -> Any:
        """A boolean remapped to is the word the default true and false values read ("J": true)."""
        if isinstance(value, dict):
            return {k: str(v).lower() if isinstance(v, bool) else v for k, v in value.items()}
        return value

    @field_validator("source")
    @classmethod
    def _position_from_one(cls, value: str | int | None) -> str | int | None:
        if isinstance(value, int) and value < 1:
            raise ValueError("a source position counts from 1")
        return value


class Target(Model):
    connection: str = "default"
    table: str
    create: bool = True  # create the table from the declared columns when it is missing

    _table_ok = field_validator("table")(classmethod(lambda cls, v: check_table_name(v)))


class Reconciliation(Model):
    keys: tuple[str, ...] = ()
    operation: Operation = Operation.INSERT
    doubles: DoublesPolicy = DoublesPolicy.LAST_WINS
    duplicates: DuplicatesPolicy = DuplicatesPolicy.REJECT


class ErrorPolicy(Model):
    stop_at_first_error: bool = False
    max_rejects: int | None = Field(None, ge=0)  # stop once rejects exceed this
    max_reject_percent: float | None = Field(None, ge=0, le=100)


class ImportJob(Model):
    kind: Literal["import"] = "import"
    name: str = Field(min_length=1, max_length=200)
    source: str  # path of the data file (.gz and .zip read transparently)
    format: CsvFormat = CsvFormat()
    target: Target
    columns: tuple[ColumnSpec, ...] = ()  # empty: every header column, as strings
    reconciliation: Reconciliation = Reconciliation()
    errors: ErrorPolicy = ErrorPolicy()
    commit: CommitMode = CommitMode.INCREMENTAL
    chunk_rows: int = Field(100_000, ge=1, le=10_000_000)
    # Memory per chunk is roughly ten times its bytes: this bound keeps a run's footprint flat (the
    # default keeps an import under 300 MB; bigger chunks validate a little faster).
    chunk_bytes: int = Field(3 * 1024 * 1024, ge=64 * 1024, le=1024 * 1024 * 1024)
    queue: str = "default"

    @model_validator(mode="after")
    def _keys_are_columns(self) -> ImportJob:
        names = [c.name for c in self.columns]
        doubled = sorted({n for n in names if names.count(n) > 1})
        if doubled:
            raise ValueError(f"columns: {', '.join(doubled)} declared more than once")
        if self.columns:
            missing = [k for k in self.reconciliation.keys if k not in names]
            if missing:
                raise ValueError(
                    f"reconciliation.keys: {', '.join(missing)} not among the declared columns "
                    f"({', '.join(names)})"
                )
        needs_keys = self.reconciliation.operation is not Operation.INSERT
        if needs_keys and not self.reconciliation.keys:
            op = self.reconciliation.operation.value
            raise ValueError(f"reconciliation.keys: operation {op} needs at least one key column")
        return self


class TableSource(Model):
    connection: str = "default"
    table: str
    columns: tuple[str, ...] = ()  # empty: all
    filter: str | None = None  # an SQL boolean expression
    order_by: tuple[str, ...] = ()
    limit: int | None = Field(None, ge=0)

    _table_ok = field_validator("table")(classmethod(lambda cls, v: check_table_name(v)))

    @field_validator("columns", "order_by")
    @classmethod
    def _names_ok(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        doubled = sorted({v for v in value if value.count(v) > 1})
        if doubled:  # a file's header names each column once
            raise ValueError(f"{', '.join(doubled)} named more than once")
        return tuple(check_identifier(v) for v in value)


class QuerySource(Model):
    connection: str = "default"
    query: str  # a read-only SELECT

    @field_validator("query")
    @classmethod
    def _select_only(cls, value: str) -> str:
        head = value.lstrip().split(None, 1)[0].lower() if value.strip() else ""
        if head not in {"select", "with"}:
            raise ValueError("a query export must be a read-only SELECT (or WITH … SELECT)")
        return value


def _source_kind(value: Any) -> str:
    """A source with a query is a query's; any other, a table's (so that an error names its key
    once, not once for each kind of source)."""
    is_query = isinstance(value, QuerySource) or (isinstance(value, dict) and "query" in value)
    return "query" if is_query else "table"


ExportSource = Annotated[
    Annotated[TableSource, Tag("table")] | Annotated[QuerySource, Tag("query")],
    Discriminator(_source_kind),
]


class OutputFormat(Model):
    delimiter: str = ","
    quote: str = '"'
    quoting: Literal["minimal", "all", "none"] = "minimal"
    header: bool = True
    encoding: str = "utf-8"
    line_ending: Literal["lf", "crlf"] = "lf"
    date_format: str = "%Y-%m-%d"
    timestamp_format: str = _DEFAULT_TIMESTAMP
    decimal_separator: str = "."
    null_value: str = ""
    gzip: bool = False

    @property
    def local_timestamp_format(self) -> str:
        """How a timestamp without a zone is written: ``timestamp_format`` without an offset (there is
        none to write); the default writes a fraction of a second when there is one."""
        if self.timestamp_format == _DEFAULT_TIMESTAMP:
            return f"{_DEFAULT_TIMESTAMP}%.f"
        return OFFSET_DIRECTIVE.sub("", self.timestamp_format)

    @property
    def moment_format(self) -> str:
        """How a timestamp with a zone (a moment: PostgreSQL's timestamptz) is written, in UTC:
        ``timestamp_format`` with its offset, '+00:00' after it when it writes none."""
        if self.timestamp_format == _DEFAULT_TIMESTAMP:
            return f"{_DEFAULT_TIMESTAMP}%.f%:z"
        return self.timestamp_format if with_offset(self.timestamp_format) else f"{self.timestamp_format}%:z"

    @field_validator("delimiter", "quote")
    @classmethod
    def _one_character(cls, value: str) -> str:
        # the CSV writer takes one byte; a line break would end the record
        if value in ("\n", "\r"):
            raise ValueError("a line break cannot be the delimiter or the quote")
        return one_ascii_character(value)

    @field_validator("decimal_separator")
    @classmethod
    def _decimal_point_or_comma(cls, value: str) -> str:
        if value not in (".", ","):
            raise ValueError(f"expected '.' or ',', got {value!r}")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        return known_encoding(value)

    _formats_ok = field_validator("date_format", "timestamp_format")(
        classmethod(lambda cls, v: check_time_format(v))
    )

    @model_validator(mode="after")
    def _distinct_characters(self) -> OutputFormat:
        if self.delimiter == self.quote:
            raise ValueError("delimiter and quote must differ")
        for name in ("date_format", "timestamp_format"):
            pattern = getattr(self, name)
            if any(special in pattern for special in (self.delimiter, self.quote, "\n", "\r")):
                raise ValueError(
                    f"{name} {pattern!r} holds the delimiter, the quote or a line break, which a "
                    f"{name.split('_')[0]} is written with as it is (never quoted): "
                    "the file would not read back"
                )
        if any(special in self.null_value for special in (self.delimiter, self.quote, "\n", "\r")):
            raise ValueError(
                f"null_value {self.null_value!r} holds the delimiter, the quote or a line break: "
                "a null written as it would not read back"
            )
        if self.quoting == "none" and self.decimal_separator == self.delimiter:
            raise ValueError(
                f"decimal_separator {self.decimal_separator!r} is the delimiter: with quoting 'none' "
                "every number with a fraction would read back as two fields"
            )
        return self


FILE_NAME_FIELDS = {"job": "job", "run": 1, "date": "20250101", "time": "000000"}


def check_file_name_template(template: str) -> str:
    """A file name template whose placeholders are among {job}, {run}, {date} and {time}."""
    if "\x00" in template:
        raise ValueError(f"{template!r} holds a NUL character, which no file name may hold")
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]
        unknown = [field for field in fields if field not in FILE_NAME_FIELDS]
        if not unknown:
            template.format(**FILE_NAME_FIELDS)
    except ValueError as error:
        raise ValueError(f"{template!r} is not a file name template: {error}") from None
    if unknown:
        raise ValueError(
            f"unknown placeholder {{{unknown[0]}}} in {template!r} "
            "(use {job}, {run}, {date}, {time}; {{ and }} for a brace)"
        )
    return template


class ExportJob(Model):
    kind: Literal["export"] = "export"
    name: str = Field(min_length=1, max_length=200)
    source: ExportSource
    output: str  # file name template: {job}, {run}, {date}, {time}
    format: OutputFormat = OutputFormat()
    chunk_rows: int = Field(100_000, ge=1, le=10_000_000)
    queue: str = "default"

    _output_ok = field_validator("output")(classmethod(lambda cls, v: check_file_name_template(v)))

    @model_validator(mode="before")
    @classmethod
    def _gzip_when_named_gz(cls, data: Any) -> Any:
        """A file named ….gz is written compressed when the format does not say otherwise (a format
        that says gzip: false is followed: definitions stored before this rule say it for every file)."""
        if not isinstance(data, dict) or not str(data.get("output", "")).lower().endswith(".gz"):
            return data
        fmt = data.get("format", {})
        if isinstance(fmt, OutputFormat) and "gzip" not in fmt.model_fields_set:
            return {**data, "format": fmt.model_copy(update={"gzip": True})}
        if isinstance(fmt, dict) and "gzip" not in fmt:
            return {**data, "format": {**fmt, "gzip": True}}
        return data


JobDefinition = Annotated[ImportJob | ExportJob, Field(discriminator="kind")]
