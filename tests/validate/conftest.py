"""Fixtures for the validate tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl
import pytest

from impex.domain.definitions import ColumnSpec, CsvFormat
from impex.validate import Validated, build_plan, validate


@pytest.fixture
def run_one() -> Callable[..., Validated]:
    """Validate ``values`` as the only field of a headerless file, into a column ``c`` made from ``spec``."""

    def run(values: list[str | None], fmt: CsvFormat | None = None, **spec: Any) -> Validated:
        column = ColumnSpec.model_validate({"name": "c", "source": 1, **spec})
        plan = build_plan([column], None, 1)
        frame = pl.DataFrame({"f1": values}, schema={"f1": pl.String})
        return validate(frame, plan, fmt or CsvFormat())

    return run
