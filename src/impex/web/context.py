"""What every request handler needs, made once per app and passed explicitly (no globals)."""

from __future__ import annotations

from dataclasses import dataclass

from babel.support import Translations
from fastapi import Request
from fastapi.templating import Jinja2Templates
from itsdangerous import URLSafeTimedSerializer

from impex.settings import Settings
from impex.store.store import Store
from impex.store.users import Users
from impex.web.feeds import JournalFeeds
from impex.web.i18n import Translator, choose_language

LANGUAGE_COOKIE = "impex_lang"


@dataclass(frozen=True)
class WebContext:
    settings: Settings
    store: Store
    users: Users
    sessions: URLSafeTimedSerializer
    translations: dict[str, Translations]
    templates: Jinja2Templates
    feeds: JournalFeeds  # the journal streams' shared polls


def web_context(request: Request) -> WebContext:
    ctx = request.app.state.impex
    assert isinstance(ctx, WebContext)
    return ctx


def translator(request: Request) -> Translator:
    """The request's language: the remembered choice (cookie), else Accept-Language."""
    ctx = web_context(request)
    language = choose_language(request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language"))
    return Translator(language, ctx.translations[language])
