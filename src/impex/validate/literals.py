"""The values a definition writes itself (constants, defaults, remapped values) checked against their
column's type and length when the job is defined, rather than at its first run or on every record."""

from __future__ import annotations

from typing import Any

from impex.domain.consistency import Problem
from impex.domain.definitions import ImportJob
from impex.validate.plan import PlanError, PlannedColumn, column_format, polars_dtype
from impex.validate.validator import literal_value


def literal_problems(job: ImportJob) -> list[Problem]:
    """Each constant, default and remapped value of ``job`` that its column cannot hold. A value
    remapped to a null marker is a null, which any column holds."""
    problems = []
    for i, spec in enumerate(job.columns):
        try:
            column = PlannedColumn(spec, None, polars_dtype(spec))
        except PlanError:
            continue  # a scale above the precision: a problem of its own
        checks: list[tuple[tuple[str, ...], Any, str]] = [
            (("constant",), spec.constant, "constant"),
            (("default",), spec.default, "default"),
        ]
        checks += [(("remap", key), value, "remapped value") for key, value in spec.remap.items()]
        own = column_format(spec, job.format)
        for path, literal, what in checks:
            if literal is None or (what == "remapped value" and literal in job.format.null_values):
                continue
            try:
                value = literal_value(column, literal, own, what, prepared=what == "constant")
            except PlanError as error:
                why = str(error).removeprefix(f"column {spec.name}: ")
                problems.append(Problem(("columns", i, *path), why))
                continue
            if what == "constant" and value is None and spec.required and spec.default is None:
                problems.append(
                    Problem(("columns", i, *path), f"{literal!r} reads as null, and a value is required")
                )
    return problems
