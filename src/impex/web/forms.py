"""The new-import and new-export forms, turned into job definitions (plain dicts, validated later by
``parse_definition`` like any job file). A field a person fills in that is empty, not a number or
not a valid name is a FormProblem, said in the person's language and naming the field as the form
labels it (the definition's own checks would speak English, of its keys)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from impex.domain.definitions import IDENTIFIER, TABLE_NAME, spelled_delimiter
from impex.web.labels import N_

REQUIRED = N_("fill it in")
NOT_A_NAME = N_(
    "{value} is not a valid name (letters, digits and _, starting with a letter or _, at most 63 characters)"
)
NOT_A_TABLE = N_(
    "{value} is not a valid table name (letters, digits and _, starting with a letter or _, at most 63 "
    "characters; in PostgreSQL, after its schema and a dot if need be: crm.contacts)"
)
NOT_WHOLE = N_("{value} is not a whole number")
NOT_A_NUMBER = N_("{value} is not a number")
FIELD_PROBLEM = N_("{field}: {problem}")


class FormProblem(ValueError):
    """A field that cannot be read; the form is shown again with this message. ``field`` is the
    form's label of it (``which``: the row, for a column's field), ``problem`` a message with the
    ``value`` typed."""

    def __init__(self, field: str, problem: str, value: str = "", which: str = "") -> None:
        self.field, self.problem, self.value, self.which = field, problem, value, which
        super().__init__(self.said(lambda message: message))

    def said(self, gettext: Callable[[str], str]) -> str:
        field = f"{gettext(self.field)} {self.which}".strip()
        problem = gettext(self.problem).format(value=repr(self.value))
        return gettext(FIELD_PROBLEM).format(field=field, problem=problem)


def _checked(form: Mapping[str, str], name: str) -> bool:
    return form.get(name, "") in ("1", "on", "true", "yes")


def _int(form: Mapping[str, str], name: str, field: str, which: str = "") -> int | None:
    raw = form.get(name, "").strip()
    if not raw:
        return None
    if not re.fullmatch(r"\d+", raw):
        raise FormProblem(field, NOT_WHOLE, raw, which)
    return int(raw)


def _float(form: Mapping[str, str], name: str, field: str) -> float | None:
    raw = form.get(name, "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise FormProblem(field, NOT_A_NUMBER, form.get(name, "").strip()) from None


def _text(form: Mapping[str, str], name: str, field: str) -> str:
    """A field that must be filled in."""
    value = form.get(name, "").strip()
    if not value:
        raise FormProblem(field, REQUIRED)
    return value


def _name(value: str, field: str, which: str = "") -> str:
    """A table or column name, as the databases take it unquoted."""
    if not value:
        raise FormProblem(field, REQUIRED, which=which)
    if not IDENTIFIER.match(value):
        raise FormProblem(field, NOT_A_NAME, value, which)
    return value


def _table(value: str, field: str) -> str:
    if not value:
        raise FormProblem(field, REQUIRED)
    if not TABLE_NAME.match(value):
        raise FormProblem(field, NOT_A_TABLE, value)
    return value


def _names(raw: str) -> list[str]:
    """Comma- or space-separated names."""
    return [n for n in re.split(r"[\s,]+", raw) if n]


CONVENTIONS = ("decimal_separator", "thousands_separator", "date_format", "timestamp_format")


def import_columns(form: Mapping[str, str], has_header: bool) -> tuple[list[dict[str, Any]], list[str]]:
    """The mapped columns (rows ``col-N-…`` with ``use`` ticked and a target column; none chosen in an
    existing table's list is "not imported") and the key columns among them."""
    columns: list[dict[str, Any]] = []
    keys: list[str] = []
    # A name the header has twice reads by position: by name, it would say which of the two is meant.
    names = Counter(form.get(f"col-{i}-source", "") for i in range(1, _rows(form) + 1))
    for i in range(1, _rows(form) + 1):
        prefix = f"col-{i}-"
        name = form[prefix + "name"].strip()
        if _checked(form, prefix + "use") and name:
            header_name = form.get(prefix + "source", "")
            which = header_name or f"#{i}"
            _name(name, N_("Target column"), which)
            by_name = has_header and header_name and names[header_name] == 1
            column: dict[str, Any] = {
                "name": name,
                "source": header_name if by_name else i,
                "type": form.get(prefix + "type") or "string",
                "required": _checked(form, prefix + "required"),
            }
            if (length := _int(form, prefix + "max_length", N_("Max. length"), which)) is not None:
                column["max_length"] = length
            # the column's own date or timestamp format, as the preview found it, while it keeps that type
            own = f"{column['type']}_format"
            if own in ("date_format", "timestamp_format") and form.get(prefix + own):
                column[own] = form[prefix + own]
            columns.append(column)
            if _checked(form, prefix + "key"):
                keys.append(name)
    return columns, keys


def _rows(form: Mapping[str, str]) -> int:
    """How many column rows (``col-N-name``, from 1) the form has."""
    n = 0
    while f"col-{n + 1}-name" in form:
        n += 1
    return n


def import_definition(form: Mapping[str, str], source: str) -> dict[str, Any]:
    """An import definition from the new-import form, reading ``source``."""
    name = _text(form, "name", N_("Label"))
    target = {"table": _table(form.get("table", "").strip(), N_("Target table"))}
    has_header = _checked(form, "header")
    columns, keys = import_columns(form, has_header)
    errors: dict[str, Any] = {"stop_at_first_error": _checked(form, "stop_at_first_error")}
    if (max_rejects := _int(form, "max_rejects", N_("Stop after this many rejects"))) is not None:
        errors["max_rejects"] = max_rejects
    max_percent = _float(form, "max_reject_percent", N_("Stop above this reject percentage"))
    if max_percent is not None:
        errors["max_reject_percent"] = max_percent
    if connection := form.get("connection", "").strip():
        target["connection"] = connection
    definition: dict[str, Any] = {
        "kind": "import",
        "name": name,
        "source": source,
        "format": {
            "delimiter": spelled_delimiter(form.get("delimiter", "")) or None,
            "encoding": form.get("encoding") or None,
            "header": has_header,
            "skip_lines": _int(form, "skip_lines", N_("Lines before the header")) or 0,
            # the conventions the preview detected, so that the columns it typed read as it read them
            **{k: form[k] for k in CONVENTIONS if form.get(k)},
        },
        "target": target,
        "columns": columns,
        "reconciliation": {
            "keys": keys,
            "operation": form.get("operation") or "insert",
            "doubles": form.get("doubles") or "last_wins",
            "duplicates": form.get("duplicates") or "reject",
        },
        "errors": errors,
        "commit": form.get("commit") or "incremental",
    }
    if (chunk_rows := _int(form, "chunk_rows", N_("Records per chunk"))) is not None:
        definition["chunk_rows"] = chunk_rows
    return definition


def export_definition(form: Mapping[str, str]) -> dict[str, Any]:
    """An export definition from the new-export form: a table (columns, filter) or an SQL query."""
    name = _text(form, "name", N_("Label"))
    connection = form.get("connection", "").strip() or "default"
    source: dict[str, Any]
    if form.get("source_kind") == "query":
        source = {"connection": connection, "query": _text(form, "query", N_("SQL query"))}
    else:
        source = {"connection": connection, "table": _table(form.get("table", "").strip(), N_("Table"))}
        if columns := [_name(c, N_("Columns")) for c in _names(form.get("columns", ""))]:
            source["columns"] = columns
        if row_filter := form.get("filter", "").strip():
            source["filter"] = row_filter
    output = _text(form, "output", N_("File name"))
    named_gz = output.lower().endswith(".gz")  # as the definition reads the name
    gzip = _checked(form, "gzip") or named_gz
    if gzip and output and not named_gz:
        output += ".gz"
    return {
        "kind": "export",
        "name": name,
        "source": source,
        "output": output,
        "format": {
            "delimiter": spelled_delimiter(form.get("delimiter", ",")) or ",",
            "header": _checked(form, "header"),
            "gzip": gzip,
        },
    }
