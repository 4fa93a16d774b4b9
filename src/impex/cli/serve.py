"""``impex serve``: the web UI and the REST API, with embedded workers running the jobs."""

from __future__ import annotations

import errno
import socket
from typing import Annotated

import typer

from impex.cli.context import app_context
from impex.cli.render import console, fail


def serve_cmd(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on (env IMPEX_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (env IMPEX_PORT).")] = None,
    concurrency: Annotated[
        int | None, typer.Option(help="Jobs the embedded worker runs at once (env IMPEX_WORKER_CONCURRENCY).")
    ] = None,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Serve only; separate `impex worker` processes run the jobs.")
    ] = False,
) -> None:
    """Serve the web UI and the REST API (OpenAPI at /api/openapi.json) and run jobs.

    The first start creates the user 'admin' and prints its password once."""
    # The web stack (FastAPI, uvicorn, Jinja2, Babel, argon2) and the engine load only here: other
    # commands start faster.
    import uvicorn

    from impex.engine.worker import Worker
    from impex.store.users import Users
    from impex.web.app import create_app

    app_ctx = app_context(ctx)
    app_ctx.overrides.update(host=host, port=port)
    settings = app_ctx.settings
    _check_free(settings.host, settings.port)
    store = app_ctx.store
    password = Users(store.engine).bootstrap_admin()
    address = f"http://{settings.host}:{settings.port}"
    if password is not None:
        console.print(
            f"First start: created the user [bold]admin[/bold] with the password [bold]{password}[/bold]\n"
            f"Log in at {address}/login — this password is shown only this once.",
            highlight=False,
        )
    worker = None
    if not no_worker:
        worker = Worker(store, settings, concurrency=concurrency or settings.worker_concurrency)
    console.print(f"impex serving {address} (API: {address}/api/docs)", highlight=False)
    app = create_app(settings, store, worker=worker)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", timeout_graceful_shutdown=5)


def _check_free(host: str, port: int) -> None:
    """Refuse, before the first start creates its admin user, an address another program listens on
    (uvicorn would say so in a log line and exit 3, which impex's other commands give a canceled run)."""
    try:
        with socket.create_server((host, port)):  # SO_REUSEADDR as uvicorn binds
            pass
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            reason = "the port is in use (another impex serve?)"
        else:
            reason = error.strerror or str(error)
        raise fail(
            f"cannot serve on {host}:{port}: {reason}; give another --port (or IMPEX_PORT) or --host"
        ) from None
