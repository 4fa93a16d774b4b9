"""Columnar validation and casting of parsed CSV records into typed target columns.

``build_plan`` resolves the declared columns against the file's fields once; ``validate`` then turns
each chunk (a frame of text columns ``f1..fN``) into typed good rows and one error per bad record.
"""

from impex.validate.plan import (
    Plan,
    PlanError,
    PlannedColumn,
    TargetColumn,
    build_plan,
    default_columns,
    sanitise_names,
    target_schema,
    utc_columns,
)
from impex.validate.validator import ERROR_SCHEMA, Validated, field_name, validate

__all__ = [
    "ERROR_SCHEMA",
    "Plan",
    "PlanError",
    "PlannedColumn",
    "TargetColumn",
    "Validated",
    "build_plan",
    "default_columns",
    "field_name",
    "sanitise_names",
    "target_schema",
    "utc_columns",
    "validate",
]
