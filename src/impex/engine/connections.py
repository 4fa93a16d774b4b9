"""Named target connections: 'default' is the embedded SQLite data database; others come from
the connections file (YAML: name: url). Passwords never live in job definitions."""

from __future__ import annotations

from pathlib import Path

import yaml

from impex.settings import Settings


class UnknownConnection(LookupError):
    pass


def connection_url(settings: Settings, name: str) -> str:
    if name == "default":
        return settings.default_target_url
    path = settings.connections_file
    known: dict[str, str] = {}
    if path:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        known = {str(k): str(v) for k, v in loaded.items()}
    if name not in known:
        names = ", ".join(["default", *sorted(known)])
        raise UnknownConnection(f"no connection named {name!r} (known: {names})")
    return known[name]
