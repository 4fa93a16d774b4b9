"""Server-side file paths in jobs made through the web or the API stay inside the configured
folders (``file_folders``): no absolute path elsewhere, no ``../`` escape, no symlink out."""

from __future__ import annotations

from pathlib import Path

from impex.domain.definitions import ExportJob, ImportJob
from impex.web.errors import ApiError


def confine(raw: str, roots: list[Path]) -> Path:
    """``raw`` resolved (relative paths against the first folder), if it lies inside one of ``roots``."""
    if not roots:
        raise ApiError(422, "path_not_allowed", "no file folder is configured (setting file_folders)")
    path = Path(raw)
    resolved = (path if path.is_absolute() else roots[0] / path).resolve()
    if not any(resolved.is_relative_to(root) for root in roots):
        folders = ", ".join(str(r) for r in roots)
        raise ApiError(
            422,
            "path_not_allowed",
            f"{raw}: files must lie inside the configured folders ({folders})",
            {"path": raw, "folders": [str(r) for r in roots]},
        )
    return resolved


def confine_definition(definition: ImportJob | ExportJob, roots: list[Path]) -> ImportJob | ExportJob:
    """The definition with its file path resolved inside ``roots`` (ApiError 422 otherwise)."""
    if isinstance(definition, ImportJob):
        return definition.model_copy(update={"source": str(confine(definition.source, roots))})
    return definition.model_copy(update={"output": str(confine(definition.output, roots))})
