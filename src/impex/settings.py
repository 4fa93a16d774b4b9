"""Every setting, declared once: name, default, environment variable and help.

The CLI help, the README table and a test are driven by ``SETTINGS``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    kind: type = str
    least: float | None = None  # the smallest value that makes sense
    most: float | None = None  # the largest

    @property
    def env(self) -> str:
        return f"IMPEX_{self.name.upper()}"


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", "impex-data", "Folder of the embedded SQLite store and default target database."),
    Setting(
        "database_url",
        "",
        "Metadata store URL (jobs, runs, journal, rejects); empty: sqlite:///DATA_DIR/impex.db.",
    ),
    Setting(
        "default_target",
        "",
        "URL of the 'default' target connection; empty: sqlite:///DATA_DIR/data.db.",
    ),
    Setting(
        "connections_file",
        "",
        "YAML file naming extra connections: `name: url`, or `name: {url, password_env | password_file}`.",
    ),
    Setting("worker_concurrency", 2, "Jobs one worker process runs at once.", int, 1),
    Setting(
        "lease_seconds",
        30.0,
        "A running job whose worker sent no heartbeat for this long is taken over.",
        float,
        0.1,
    ),
    Setting("heartbeat_seconds", 2.0, "How often a worker renews the leases of its jobs.", float, 0.01),
    Setting("poll_seconds", 0.5, "How often an idle worker looks for queued jobs.", float, 0.01),
    Setting("progress_seconds", 5.0, "How often a run writes a progress line to its journal.", float, 0.0),
    Setting(
        "commit_seconds",
        1.0,
        "How often an import commits the chunks it has written (every stop commits first); a crash "
        "redoes at most this much work.",
        float,
        0.0,
    ),
    Setting("host", "127.0.0.1", "Address `impex serve` listens on."),
    Setting("port", 8080, "Port `impex serve` listens on.", int, 0, 65535),
    Setting(
        "file_folders",
        "",
        "Server folders that jobs created through the web UI or API may read and write, separated by "
        "the OS path separator (`:`); empty: DATA_DIR/files.",
    ),
    Setting(
        "upload_max_mb",
        512,
        "Largest file the web UI or API accepts as an upload, in MiB; uploads are stored in "
        "FIRST_FILE_FOLDER/uploads.",
        int,
        1,
    ),
)


@dataclass(frozen=True)
class Settings:
    values: Mapping[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def data_path(self) -> Path:
        return Path(self.values["data_dir"])

    @property
    def store_url(self) -> str:
        url = self.values["database_url"]
        return url or f"sqlite:///{self.data_path / 'impex.db'}"

    @property
    def file_roots(self) -> list[Path]:
        """The folders web and API jobs may use for their files, resolved."""
        raw = self.values["file_folders"]
        folders = [Path(p) for p in raw.split(os.pathsep) if p] if raw else [self.data_path / "files"]
        return [p.resolve() for p in folders]

    @property
    def default_target_url(self) -> str:
        url = self.values["default_target"]
        return url or f"sqlite:///{self.data_path / 'data.db'}"


def load_settings(
    overrides: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Defaults, then environment variables, then explicit overrides (e.g. CLI options)."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for s in SETTINGS:
        raw: Any = s.default
        if s.env in env:
            raw = env[s.env]
        if overrides and overrides.get(s.name) is not None:
            raw = overrides[s.name]
        try:
            values[s.name] = s.kind(raw)
        except ValueError:
            raise ValueError(
                f"setting {s.name} ({s.env}): {raw!r} is not a valid {s.kind.__name__}"
            ) from None
        if s.least is not None and values[s.name] < s.least:
            raise ValueError(f"setting {s.name} ({s.env}): {raw!r} is less than {s.least:g}, its least value")
        if s.most is not None and values[s.name] > s.most:
            raise ValueError(
                f"setting {s.name} ({s.env}): {raw!r} is more than {s.most:g}, its largest value"
            )
    return Settings(values)
