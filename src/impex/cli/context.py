"""What every command needs: settings and the store, opened once per command; saving a job.

The store (SQLAlchemy, ~0.2 s to import) is imported when a command first asks for it, so that
``impex --help`` does not wait for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import typer

from impex.cli import startup
from impex.cli.render import fail
from impex.domain.status import A
from impex.settings import Settings, load_settings
from impex.store.errors import StoreUnavailable

if TYPE_CHECKING:
    from impex.domain.definitions import ExportJob, ImportJob
    from impex.store.records import RunRecord
    from impex.store.store import Store


@dataclass
class AppContext:
    overrides: dict[str, Any] = field(default_factory=dict)
    _settings: Settings | None = None
    _store: Store | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self.overrides)
            except ValueError as error:
                raise fail(str(error)) from None
        return self._settings

    @property
    def store(self) -> Store:
        if self._store is None:
            from impex.store.store import Store

            try:
                self._store = Store.open(self.settings.store_url)
            except StoreUnavailable as error:
                raise fail(str(error)) from None
            finally:
                startup.release()
        return self._store


def app_context(ctx: typer.Context) -> AppContext:
    obj = ctx.find_root().obj
    if not isinstance(obj, AppContext):
        obj = AppContext()
        ctx.find_root().obj = obj
    return obj


def submit(app: AppContext, definition: ImportJob | ExportJob, *, start: bool, actor: str = "cli") -> int:
    """Save a job (and queue it when ``start``); its id."""
    store = app.store
    job_id = store.create_job(definition.model_dump(mode="json"), owner=actor, actor=actor)
    if start:
        store.transition(job_id, A.START, actor=actor)
    return job_id


def why_failed(store: Store, runs: list[RunRecord]) -> dict[int, list[str]]:
    """Per run that ended with errors, the journal's words for why (technical error, threshold…)."""
    return {run.id: [line.text for line in lines] for run in runs if (lines := store.why_failed(run))}
