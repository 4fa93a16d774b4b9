"""What every command needs: settings and the store, opened once per command."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import typer
from rich.markup import escape

from impex.cli.render import errors
from impex.settings import Settings, load_settings
from impex.store.store import Store, StoreUnavailable


@dataclass
class AppContext:
    overrides: dict[str, Any] = field(default_factory=dict)
    _settings: Settings | None = None
    _store: Store | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.overrides)
        return self._settings

    @property
    def store(self) -> Store:
        if self._store is None:
            try:
                self._store = Store.open(self.settings.store_url)
            except StoreUnavailable as error:
                errors.print(f"[red]error:[/red] {escape(str(error))}", highlight=False, soft_wrap=True)
                raise typer.Exit(2) from None
        return self._store


def app_context(ctx: typer.Context) -> AppContext:
    obj = ctx.find_root().obj
    if not isinstance(obj, AppContext):
        obj = AppContext()
        ctx.find_root().obj = obj
    return obj
