"""Options of an import definition that contradict each other, each named by its key path.

Checked when a job is defined (a job file, the API, the web form), not by the models themselves: a
job stored before a check existed still runs as it did (the option was ignored).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from impex.domain.definitions import ColumnSpec, ColumnType, CsvFormat, ImportJob, Reconciliation, Transform

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """What is wrong at ``path`` (``("columns", 3, "max_length")``)."""

    path: Path
    message: str


def nul_problems(data: Any, path: Path = ()) -> list[Problem]:
    """Every string of a raw definition (keys too) that holds a NUL character: no path, SQL or name
    has one, and a PostgreSQL store could not keep it."""
    if isinstance(data, str):
        return [Problem(path, "a NUL character (\\x00) is not allowed")] if "\x00" in data else []
    if isinstance(data, dict):
        problems = []
        for key, value in data.items():
            inner = (*path, str(key))
            problems += nul_problems(key, inner) + nul_problems(value, inner)
        return problems
    if isinstance(data, list):
        return [p for i, item in enumerate(data) for p in nul_problems(item, (*path, i))]
    return []


def import_problems(job: ImportJob) -> list[Problem]:
    """Every contradiction of ``job``'s options, in the order of its keys."""
    problems = _format_problems(job.format)
    for i, column in enumerate(job.columns):
        problems += [
            Problem(("columns", i, *p.path), p.message) for p in _column_problems(column, job.format)
        ]
    problems += _reconciliation_problems(job.reconciliation)
    return problems


def _format_problems(fmt: CsvFormat) -> list[Problem]:
    problems = []
    if fmt.escape is not None and fmt.escape == fmt.delimiter:
        problems.append(
            Problem(("format", "escape"), f"the escape character {fmt.escape!r} is the delimiter")
        )
    true = {word.lower(): word for word in fmt.true_values}
    both = [word for word in fmt.false_values if word.lower() in true]
    if both:
        listed = ", ".join(repr(word) for word in both)
        problems.append(
            Problem(
                ("format", "false_values"), f"{listed} also among true_values (compared regardless of case)"
            )
        )
    return problems


def _column_problems(column: ColumnSpec, fmt: CsvFormat) -> list[Problem]:
    problems = []
    kind = column.type.value
    if column.max_length is not None and column.type is not ColumnType.STRING:
        problems.append(
            Problem(("max_length",), f"only a string column has a maximum length; this one is {kind}")
        )
    for key in ("precision", "scale"):
        if getattr(column, key) is not None and column.type is not ColumnType.DECIMAL:
            problems.append(Problem((key,), f"only a decimal column has a {key}; this one is {kind}"))
    for key, owner in (("date_format", ColumnType.DATE), ("timestamp_format", ColumnType.TIMESTAMP)):
        if getattr(column, key) is not None and column.type is not owner:
            problems.append(Problem((key,), f"only a {owner.value} column has a {key}; this one is {kind}"))
    if column.precision is not None and column.scale is not None and column.scale > column.precision:
        problems.append(
            Problem(("scale",), f"{column.scale} is larger than the precision, {column.precision}")
        )
    if column.constant is not None and column.source is not None:
        problems.append(Problem(("constant",), "a column takes a constant or a source, not both"))
    for key in column.remap:
        if (prepared := _transformed(key, column.transforms, fmt.trim)) != key:
            problems.append(
                Problem(
                    ("remap", key),
                    f"never matches: the remap compares the field trimmed and transformed, "
                    f"which make {key!r} {prepared!r} (the remap is case-sensitive)",
                )
            )
        elif key in fmt.null_values and (
            fmt.quoted_nulls or (key == "" and column.type is not ColumnType.STRING)
        ):
            problems.append(
                Problem(
                    ("remap", key),
                    f"never matches: a field equal to {key!r} is null (format.null_values) before the remap; "
                    "a default gives nulls a value",
                )
            )
    return problems


def _transformed(text: str, transforms: tuple[Transform, ...], trim: bool) -> str:
    """``text`` as trimming and the transforms leave it (Unicode's case rules, as Polars applies them)."""
    text = text.strip() if trim else text
    for transform in transforms:
        match transform:
            case Transform.TRIM:
                text = text.strip()
            case Transform.LOWER:
                text = text.lower()
            case Transform.UPPER:
                text = text.upper()
            case Transform.CAPITALIZE:
                text = text[:1].upper() + text[1:].lower()
    return text


def _reconciliation_problems(reconciliation: Reconciliation) -> list[Problem]:
    keys = reconciliation.keys
    doubled = sorted({key for key in keys if keys.count(key) > 1})
    if doubled:
        return [Problem(("reconciliation", "keys"), f"{', '.join(doubled)} named more than once")]
    return []
