"""How a row a database refused is reported, whatever the database: the columns the refusal is
about and their values before the database's reason, as in ``column age = '-1': …``."""

from __future__ import annotations

import polars as pl

from impex.domain.rejects import shown_value


def said(columns: list[str], values: dict[str, str | None], reason: str) -> str:
    """``reason`` after the columns it is about and their values (those known), the way other
    rejects name them."""
    if not columns:
        return reason
    named = ", ".join(f"{c} = {_shown(values[c])}" if c in values else c for c in columns)
    return f"{'column' if len(columns) == 1 else 'columns'} {named}: {reason}"


def value_text(values: pl.Series) -> str | None:
    """The one value of ``values`` as text (bytes in hex, as ``\\x…``)."""
    if values.dtype == pl.Binary:
        value = values.item()
        return None if value is None else "\\x" + bytes(value).hex()
    return values.cast(pl.String, strict=False).item()


def _shown(value: str | None) -> str:
    return "null" if value is None else f"'{shown_value(value)}'"
