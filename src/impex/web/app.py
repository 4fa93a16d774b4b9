"""The web application: REST API under /api (OpenAPI at /api/openapi.json) and the pages."""

from __future__ import annotations

import re
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from itsdangerous import URLSafeTimedSerializer

from impex.engine.worker import Worker
from impex.settings import Settings
from impex.store.store import Store
from impex.store.users import Users
from impex.web import api_connections, api_jobs, api_uploads, api_users, pages, pages_new
from impex.web.auth import LoginRequired
from impex.web.context import WebContext
from impex.web.errors import install_error_handlers
from impex.web.feeds import JournalFeeds
from impex.web.i18n import load_all

HERE = Path(__file__).parent
JOB_BUTTON = re.compile(r"/jobs/(\d+)/\w+")


def _login_for(request: Request) -> str:
    """The login form, then back to the page asked for; for a form sent without a session (a button
    pressed after it ended), back to the page the form was on, not to its POST-only address, and
    the login says that nothing was done."""
    if request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return f"/login?next={quote(target, safe='/')}"
    if request.url.path == "/logout":  # logged out already
        return "/login"
    button = JOB_BUTTON.fullmatch(request.url.path)
    page = f"/jobs/{button.group(1)}" if button else request.url.path
    return f"/login?next={quote(page, safe='/')}&undone=1"


def create_app(settings: Settings, store: Store, *, worker: Worker | None = None) -> FastAPI:
    """The app over ``store``. With ``worker``, it also runs jobs (embedded worker): started with
    the app and stopped with it (running jobs stop at a chunk boundary and resume on the next start)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        thread = None
        if worker is not None:
            thread = threading.Thread(target=worker.serve, name="impex-worker", daemon=True)
            thread.start()
        try:
            yield
        finally:
            if worker is not None and thread is not None:
                worker.shutdown.request("server stop")
                thread.join()

    app = FastAPI(
        title="impex",
        summary="Import/export jobs: create, run, pause, cancel; journal and rejects.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    users = Users(store.engine)
    app.state.impex = WebContext(
        settings=settings,
        store=store,
        users=users,
        sessions=URLSafeTimedSerializer(users.secret("session_secret"), salt="impex-session"),
        translations=load_all(),
        templates=Jinja2Templates(directory=HERE / "templates"),  # autoescapes by default
        feeds=JournalFeeds(store.engine, api_jobs.STREAM_POLL_SECONDS),
    )
    install_error_handlers(app)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _error: LoginRequired) -> Response:
        return RedirectResponse(_login_for(request), status_code=303)

    @app.get("/api/health", tags=["server"], summary="Is the server up (no login needed)")
    def health() -> dict[str, Any]:
        return {"status": "ok", "store": store.store_id}

    # pages_new before pages: /jobs/new/… is not a job id
    routers = (api_jobs, api_uploads, api_users, api_connections, pages_new, pages)
    for module in routers:
        app.include_router(module.router)
    # every route, for the Allow header of a 405 (the router names only the first route of the path)
    app.state.routes = [*app.router.routes, *(route for module in routers for route in module.router.routes)]
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return app
