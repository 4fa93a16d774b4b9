"""Reading job definitions from YAML or JSON files, with messages that name the bad key; showing a
stored one as YAML."""

from __future__ import annotations

import difflib
import json
import os
import re
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from impex.definition_yaml import (
    DuplicateKey,
    LineOf,
    json_duplicate,
    json_lines,
    load_yaml,
    yaml_lines,
)
from impex.domain.consistency import Problem, import_problems, nul_problems
from impex.domain.definitions import ExportJob, ImportJob, JobDefinition
from impex.validate.literals import literal_problems

_ADAPTER: TypeAdapter[ImportJob | ExportJob] = TypeAdapter(JobDefinition)


class DefinitionError(ValueError):
    """A definition file that cannot be used; the message lists every problem with its key."""


def parse_definition(
    data: Any, origin: str = "definition", line_of: LineOf | None = None
) -> ImportJob | ExportJob:
    """``data`` as a job definition, or a :class:`DefinitionError` naming each bad key by its path
    (``columns[3].max_length``), and its line in the file when ``line_of`` tells it."""
    if not isinstance(data, dict):
        raise DefinitionError(
            f"{origin}: expected a mapping of keys (kind, name, source, …), got {type(data).__name__}"
        )
    if data.get("kind") not in ("import", "export"):
        raise DefinitionError(f"{origin}: kind: expected 'import' or 'export', got {data.get('kind')!r}")
    if nuls := nul_problems(data):
        raise DefinitionError(_describe(nuls, origin, line_of))
    try:
        definition = _ADAPTER.validate_python(data)
    except ValidationError as e:
        raise DefinitionError(_describe(_problems(e, data), origin, line_of)) from None
    if isinstance(definition, ImportJob):
        problems = import_problems(definition) + literal_problems(definition)
        if problems:
            raise DefinitionError(_describe(problems, origin, line_of))
    return definition


def stored_definition(stored: dict[str, Any]) -> ImportJob | ExportJob:
    """A definition the store holds, without the checks of a new one (:func:`parse_definition`):
    a job accepted before a check existed is still shown and run as it was."""
    try:
        return _ADAPTER.validate_python(stored)
    except ValidationError as e:
        raise DefinitionError(_describe(_problems(e, stored), "definition", None)) from None


def definition_yaml(stored: dict[str, Any]) -> str:
    """A stored definition as compact YAML: only the keys that differ from their defaults, as a user
    writes a job file (a definition a later version no longer reads is shown whole)."""
    try:
        parsed = stored_definition(stored)
    except DefinitionError:
        shown = stored
    else:
        shown = {"kind": parsed.kind, "name": parsed.name}
        shown.update(parsed.model_dump(mode="json", exclude_defaults=True))
    return yaml.safe_dump(shown, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100)


def _problems(error: ValidationError, data: dict[str, Any]) -> list[Problem]:
    problems = []
    for item in error.errors():
        path = [p for p in item["loc"] if not str(p).startswith("function-") and p != "[key]"]
        if path and path[0] in ("import", "export"):
            path = path[1:]  # the discriminator's branch name is noise for the user
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key" + _spelling(data.get("kind"), path)
        if path[:1] == ["source"] and path[1:2] in (["table"], ["query"]):
            del path[1]  # the kind of an export's source: noise too
        if item["type"] == "missing":
            message = "required key is missing"
        # a check of a whole mapping may name the key it is about: "reconciliation.keys: …"
        named = re.match(r"([a-z_]+(?:\.[a-z_]+)*): ", message)
        if named:
            path += named.group(1).split(".")
            message = message[named.end() :]
        shown = repr(item.get("input"))
        said = item["type"] in ("missing", "extra_forbidden") or named or shown in message
        if not said and path:
            message = f"{message} (got {shown})"
        problems.append(Problem(tuple(path), message))
    return problems


def _spelling(kind: Any, path: list[str | int]) -> str:
    """A hint for an unknown key: the key of that place it is closest to."""
    known = _keys_at(ExportJob if kind == "export" else ImportJob, path[:-1])
    close = difflib.get_close_matches(str(path[-1]), known, n=1, cutoff=0.6) if path else []
    return f": did you mean {close[0]!r}?" if close else " (check its spelling)"


def _keys_at(model: type[BaseModel], path: list[str | int]) -> list[str]:
    """The keys the mapping at ``path`` takes (an export's source: its kind, ``table`` or ``query``,
    follows ``source`` in the path)."""
    parts = iter(path)
    for part in parts:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        models = _models_in(field.annotation) if field is not None else []
        if len(models) > 1:
            kind = str(next(parts, ""))
            models = [m for m in models if m.__name__.lower().startswith(kind)]
        if len(models) != 1:
            return []
        model = models[0]
    return list(model.model_fields)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def _describe(problems: list[Problem], origin: str, line_of: LineOf | None) -> str:
    lines = []
    for problem in problems:
        line = line_of(problem.path) if line_of is not None else None
        where = f"{origin}, line {line}" if line is not None else origin
        lines.append(f"{where}: {key_path(problem.path) or '(top level)'}: {problem.message}")
    return "\n".join(lines)


def key_path(path: tuple[str | int, ...]) -> str:
    """``("columns", 3, "remap", "N/A")`` as ``columns[3].remap['N/A']``."""
    shown = ""
    for part in path:
        if isinstance(part, int):
            shown += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            shown += f".{part}" if shown else part
        else:
            shown += f"[{part!r}]"
    return shown


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
    is_json = path.suffix.lower() == ".json"
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys) if is_json else load_yaml(text)
    except DuplicateKey as e:
        twice = (json_duplicate(text) or e) if is_json else e  # JSON's reader tells no line
        where = f"{path}, line {twice.line}" if twice.line else str(path)
        raise DefinitionError(
            f"{where}: {twice}: {'JSON' if is_json else 'YAML'} would keep the last one"
        ) from None
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        raise DefinitionError(f"{path}: not valid {'JSON' if is_json else 'YAML'}: {e}") from None
    definition = parse_definition(data, str(path), json_lines(text) if is_json else yaml_lines(text))
    return _resolve_paths(definition, path.parent)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    twice = next((key for i, key in enumerate(keys) if key in keys[:i]), None)
    if twice is not None:
        raise DuplicateKey(twice)
    return dict(pairs)


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
