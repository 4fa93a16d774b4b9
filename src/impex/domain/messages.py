"""A message kept as a code and its parameters, said in English from a catalog of templates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def render(templates: Mapping[str, str], code: str, params: Mapping[str, Any]) -> str:
    """The text of message ``code``. A code or parameter this version does not know (a line written by
    another version) is shown as it is rather than failing."""
    template = templates.get(code)
    if template is None:
        return f"{code} {params}"
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return f"{template} {params}"
