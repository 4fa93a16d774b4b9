"""The new-import and new-export forms, turned into job definitions (plain dicts, validated later by
``parse_definition`` like any job file). A value that is not even a number is a FormProblem."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import Any


class FormProblem(ValueError):
    """A field that cannot be read; the form is shown again with this message."""


def _checked(form: Mapping[str, str], name: str) -> bool:
    return form.get(name, "") in ("1", "on", "true", "yes")


def _int(form: Mapping[str, str], name: str) -> int | None:
    raw = form.get(name, "").strip()
    if not raw:
        return None
    if not re.fullmatch(r"\d+", raw):
        raise FormProblem(f"{name}: {raw!r} is not a whole number")
    return int(raw)


def _float(form: Mapping[str, str], name: str) -> float | None:
    raw = form.get(name, "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise FormProblem(f"{name}: {raw!r} is not a number") from None


def _names(raw: str) -> list[str]:
    """Comma- or space-separated names."""
    return [n for n in re.split(r"[\s,]+", raw) if n]


CONVENTIONS = ("decimal_separator", "thousands_separator", "date_format", "timestamp_format")


def _delimiter(raw: str) -> str:
    return "\t" if raw in ("\\t", "tab") else raw


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
            by_name = has_header and header_name and names[header_name] == 1
            column: dict[str, Any] = {
                "name": name,
                "source": header_name if by_name else i,
                "type": form.get(prefix + "type") or "string",
                "required": _checked(form, prefix + "required"),
            }
            if (length := _int(form, prefix + "max_length")) is not None:
                column["max_length"] = length
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
    has_header = _checked(form, "header")
    columns, keys = import_columns(form, has_header)
    errors: dict[str, Any] = {"stop_at_first_error": _checked(form, "stop_at_first_error")}
    if (max_rejects := _int(form, "max_rejects")) is not None:
        errors["max_rejects"] = max_rejects
    if (max_percent := _float(form, "max_reject_percent")) is not None:
        errors["max_reject_percent"] = max_percent
    target = {"table": form.get("table", "").strip()}
    if connection := form.get("connection", "").strip():
        target["connection"] = connection
    definition: dict[str, Any] = {
        "kind": "import",
        "name": form.get("name", "").strip(),
        "source": source,
        "format": {
            "delimiter": _delimiter(form.get("delimiter", "")) or None,
            "encoding": form.get("encoding") or None,
            "header": has_header,
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
    if (chunk_rows := _int(form, "chunk_rows")) is not None:
        definition["chunk_rows"] = chunk_rows
    return definition


def export_definition(form: Mapping[str, str]) -> dict[str, Any]:
    """An export definition from the new-export form: a table (columns, filter) or an SQL query."""
    connection = form.get("connection", "").strip() or "default"
    source: dict[str, Any]
    if form.get("source_kind") == "query":
        source = {"connection": connection, "query": form.get("query", "")}
    else:
        source = {"connection": connection, "table": form.get("table", "").strip()}
        if columns := _names(form.get("columns", "")):
            source["columns"] = columns
        if row_filter := form.get("filter", "").strip():
            source["filter"] = row_filter
    output = form.get("output", "").strip()
    named_gz = output.lower().endswith(".gz")  # as the definition reads the name
    gzip = _checked(form, "gzip") or named_gz
    if gzip and output and not named_gz:
        output += ".gz"
    return {
        "kind": "export",
        "name": form.get("name", "").strip(),
        "source": source,
        "output": output,
        "format": {
            "delimiter": _delimiter(form.get("delimiter", ",")) or ",",
            "header": _checked(form, "header"),
            "gzip": gzip,
        },
    }
