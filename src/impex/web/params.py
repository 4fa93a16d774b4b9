"""Free text an API caller sends (a search, an owner, a label): any string but one holding a NUL
character, which no name or value here has and which a PostgreSQL store refuses to compare or keep."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field


def _no_nul(text: str) -> str:
    if "\x00" in text:
        raise ValueError("a NUL character (\\x00) is not allowed")
    return text


Text = Annotated[str, AfterValidator(_no_nul), Field(json_schema_extra={"pattern": "^[^\\x00]*$"})]
