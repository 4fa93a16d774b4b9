"""Reading job definitions from YAML or JSON files, with messages that name the bad key; showing a
stored one as YAML."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from impex.definition_yaml import load_yaml
from impex.domain.definitions import ExportJob, ImportJob, JobDefinition

_ADAPTER: TypeAdapter[ImportJob | ExportJob] = TypeAdapter(JobDefinition)


class DefinitionError(ValueError):
    """A definition file that cannot be used; the message lists every problem with its key."""


def parse_definition(data: Any, origin: str = "definition") -> ImportJob | ExportJob:
    if not isinstance(data, dict):
        raise DefinitionError(
            f"{origin}: expected a mapping of keys (kind, name, source, …), got {type(data).__name__}"
        )
    if data.get("kind") not in ("import", "export"):
        raise DefinitionError(f"{origin}: kind: expected 'import' or 'export', got {data.get('kind')!r}")
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as e:
        raise DefinitionError(_describe(e, origin)) from None


def definition_yaml(stored: dict[str, Any]) -> str:
    """A stored definition as compact YAML: only the keys that differ from their defaults, as a user
    writes a job file (a definition a later version no longer reads is shown whole)."""
    try:
        parsed = parse_definition(stored)
    except DefinitionError:
        shown = stored
    else:
        shown = {"kind": parsed.kind, "name": parsed.name}
        shown.update(parsed.model_dump(mode="json", exclude_defaults=True))
    return yaml.safe_dump(shown, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100)


def _describe(error: ValidationError, origin: str) -> str:
    lines = []
    for item in error.errors():
        location = [str(p) for p in item["loc"]]
        if location and location[0] in ("import", "export"):
            location = location[1:]  # the discriminator's branch name is noise for the user
        location = [p for p in location if not p.startswith("function-")]
        if location[:1] == ["source"] and location[1:2] in (["table"], ["query"]):
            del location[1]  # the kind of an export's source: noise too
        key = ".".join(location) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key (check its spelling)"
        elif item["type"] == "missing":
            message = "required key is missing"
        shown = repr(item.get("input"))
        # a check of the whole definition names its keys and values itself: the whole input is noise
        if item["type"] != "missing" and shown not in message and location:
            message = f"{message} (got {shown})"
        lines.append(f"{origin}: {key}: {message}")
    return "\n".join(lines)


def load_definition(path: str | Path) -> ImportJob | ExportJob:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DefinitionError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DefinitionError(f"{path}: a folder, not a job definition file") from None
    except UnicodeDecodeError as e:
        line = e.object[: e.start].count(b"\n") + 1
        raise DefinitionError(
            f"{path}: not UTF-8 text (byte 0x{e.object[e.start]:02x} at line {line}): save it as UTF-8"
        ) from None
    except OSError as e:
        raise DefinitionError(f"{path}: cannot be read: {e.strerror or e}") from None
    if not text.strip():
        raise DefinitionError(f"{path}: the file is empty: expected a job definition (kind, name, source, …)")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else load_yaml(text)
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        raise DefinitionError(
            f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: {e}"
        ) from None
    definition = parse_definition(data, str(path))
    return _resolve_paths(definition, path.parent)


def _resolve_paths(definition: ImportJob | ExportJob, base: Path) -> ImportJob | ExportJob:
    """Relative file paths in a definition file are relative to that file."""
    if isinstance(definition, ImportJob):
        source = Path(definition.source)
        if not source.is_absolute():
            return definition.model_copy(update={"source": os.path.abspath(base / source)})
        return definition
    output = Path(definition.output)
    if not output.is_absolute():
        return definition.model_copy(update={"output": os.path.abspath(base / output)})
    return definition
