"""A job definition's YAML, read as its writer meant it.

PyYAML reads YAML 1.1, where a plain ``NO`` (Norway's country code) is the boolean false, ``010`` the
octal number 8 and ``1:30`` the number 90: a constant, a remapped value or a null marker written so
would change silently. Here a plain scalar keeps its text, as written, wherever a definition takes
text; a column's constant or default keeps YAML's value when the column is not text (``1.5`` is the
number, whatever the file's decimal separator), read as YAML 1.2 reads it (``010`` is ten, only
``true`` and ``false`` are booleans), and a column's source given as a whole number is its position.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml


@dataclass(frozen=True)
class Plain:
    """A plain (unquoted) scalar that YAML would read as something other than text."""

    value: Any
    text: str


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2's nulls, booleans, integers and floats; its plain scalars of another
    type than text are :class:`Plain`."""


_TAG = "tag:yaml.org,2002:"


class DuplicateKey(yaml.YAMLError):
    """A mapping that names one key twice: YAML would keep the last value and say nothing."""

    def __init__(self, key: str, line: int | None = None, first: int | None = None) -> None:
        first_on = f" (first on line {first})" if first else ""
        super().__init__(f"key {key!r} written twice in one mapping{first_on}")
        self.key, self.line, self.first = key, line, first


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[str, int] = {}
    for key, _ in node.value:
        if isinstance(key, yaml.ScalarNode) and key.tag != f"{_TAG}merge":
            line = key.start_mark.line + 1
            if key.value in seen:
                raise DuplicateKey(key.value, line, seen[key.value])
            seen[key.value] = line
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag == f"{_TAG}timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# NULL and Null stay text: a null marker is often written so (null_values: [NULL]).
_Loader.add_implicit_resolver(f"{_TAG}null", re.compile(r"^(?:~|null|)$"), ["~", "n", ""])
_Loader.add_implicit_resolver(
    f"{_TAG}bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(f"{_TAG}int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))  # 010: ten
_Loader.add_implicit_resolver(
    f"{_TAG}float",
    re.compile(
        r"^[-+]?(?:(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|\.(?:inf|Inf|INF))$|^\.(?:nan|NaN|NAN)$"
    ),
    list("-+.0123456789"),
)


def _float(text: str) -> float:
    folded = text.lower()
    return float(folded.replace(".inf", "inf").replace(".nan", "nan"))


def _kept(construct: Any) -> Any:
    def constructor(loader: _Loader, node: yaml.ScalarNode) -> Any:
        value = construct(loader, node)
        return Plain(value, node.value) if node.style is None else value

    return constructor


_Loader.construct_mapping = _construct_mapping  # type: ignore[assignment,method-assign]
_Loader.add_constructor(f"{_TAG}bool", _kept(yaml.SafeLoader.construct_yaml_bool))
_Loader.add_constructor(f"{_TAG}int", _kept(lambda loader, node: int(node.value)))
_Loader.add_constructor(f"{_TAG}float", _kept(lambda loader, node: _float(node.value)))
_Loader.add_constructor(f"{_TAG}timestamp", _kept(yaml.SafeLoader.construct_yaml_timestamp))


def load_yaml(text: str) -> Any:
    """The definition in ``text``: plain scalars as text, but where a column's constant, default or
    source takes YAML's value (see the module's docstring)."""
    return _settle(yaml.load(text, Loader=_Loader))  # a SafeLoader: builds no objects


def _settle(data: Any) -> Any:
    if isinstance(data, Plain):
        return data.text
    if isinstance(data, list):
        return [_settle(item) for item in data]
    if isinstance(data, dict):
        settled = {_settle(key): _settle(value) for key, value in data.items()}
        if isinstance(data.get("columns"), list):
            settled["columns"] = [
                _column(raw, done) for raw, done in zip(data["columns"], settled["columns"], strict=True)
            ]
        return settled
    return data


_YAML_11_BOOLEANS = {"yes": True, "on": True, "no": False, "off": False}


def _column(raw: Any, settled: Any) -> Any:
    """A column's constant and default as YAML's values unless the column takes text (a boolean's
    remapped values too); its source as a position when it is a whole number."""
    if not isinstance(raw, dict):
        return settled
    kind = settled.get("type", "string")
    for key in ("constant", "default"):
        if isinstance(raw.get(key), Plain) and kind != "string":
            settled[key] = raw[key].value
        elif kind == "boolean" and isinstance(raw.get(key), str) and raw[key].lower() in _YAML_11_BOOLEANS:
            settled[key] = _YAML_11_BOOLEANS[raw[key].lower()]  # on, off, yes, no: YAML 1.1 said so too
    remap = settled.get("remap")
    if kind == "boolean" and isinstance(remap, dict):
        words = {
            key: _YAML_11_BOOLEANS.get(value.lower(), value)
            for key, value in remap.items()
            if isinstance(value, str)
        }
        settled["remap"] = {**remap, **words}
    source = raw.get("source")
    if isinstance(source, Plain) and isinstance(source.value, int) and not isinstance(source.value, bool):
        settled["source"] = source.value
    return settled


LineOf = Callable[[tuple[str | int, ...]], "int | None"]


def yaml_lines(text: str) -> LineOf:
    """Where a key path (``("columns", 3, "max_length")``) is written in ``text``: the line of its
    deepest part that the text has (a missing key: the line of the mapping that misses it). The text
    is read again for its lines only when one is asked for: a definition without a problem never is."""

    @functools.cache
    def root() -> yaml.Node | None:
        try:
            return yaml.compose(text, Loader=_Loader)
        except yaml.YAMLError:  # a JSON text that YAML reads otherwise: no lines
            return None

    def line_of(path: tuple[str | int, ...]) -> int | None:
        node, line = root(), None
        for part in path:
            if isinstance(node, yaml.MappingNode):
                found = [
                    (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(part)
                ]
                if not found:
                    break
                key, node = found[-1]
                line = key.start_mark.line + 1
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                break
        return line

    return line_of


def json_lines(text: str) -> LineOf:
    """``yaml_lines`` of a JSON text, which is YAML's flow style."""
    return yaml_lines(_as_yaml(text))


def json_duplicate(text: str) -> DuplicateKey | None:
    """A key a JSON text writes twice in one mapping, with its lines (as YAML reads the text)."""
    try:
        load_yaml(_as_yaml(text))
    except DuplicateKey as duplicate:
        return duplicate
    except yaml.YAMLError:
        pass
    return None


def _as_yaml(json_text: str) -> str:
    return json_text.replace("\t", " ")  # in JSON, a tab is only ever whitespace between tokens
