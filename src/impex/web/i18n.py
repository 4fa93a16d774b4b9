"""Languages of the web UI: gettext catalogs (Babel .po files, compiled in memory when the app
starts), the choice of language per request, and localised numbers, dates, journal lines and
reject messages."""

from __future__ import annotations

import functools
import io
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from babel.core import negotiate_locale
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations

from impex.domain.journal import MESSAGES, STOP_REASONS
from impex.domain.rejects import AND, LINE, Reason, shown
from impex.domain.rejects import MESSAGES as REJECT_MESSAGES
from impex.domain.status import Action, Status
from impex.web.labels import JOURNAL_ACTION_LABELS, N_, REASON_LABELS, STATUS_LABELS

LANGUAGES: dict[str, str] = {
    "en": "English",
    "de": "Deutsch",
    "nl": "Nederlands",
    "pt": "Português",
    "it": "Italiano",
    "es": "Español",
}
DEFAULT_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"


STATUS_VALUES = frozenset(s.value for s in Status)
ACTION_VALUES = frozenset(a.value for a in JOURNAL_ACTION_LABELS)


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def load_translations(language: str) -> Translations:
    """The language's catalog, compiled from its .po file in memory (no .mo files to keep in step)."""
    with open(po_path(language), "rb") as f:
        catalog = read_po(f, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def load_all() -> dict[str, Translations]:
    return {language: load_translations(language) for language in LANGUAGES}


def parse_accept_language(header: str | None) -> list[str]:
    """Language tags of an Accept-Language header, most preferred first."""
    weighted: list[tuple[float, int, str]] = []
    for i, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, i, tag.replace("_", "-")))
    return [tag for _q, _i, tag in sorted(weighted)]


def choose_language(cookie: str | None, accept_language: str | None) -> str:
    """The remembered choice, else the browser's preference, else English."""
    if cookie in LANGUAGES:
        return str(cookie)
    preferred = parse_accept_language(accept_language)
    found = negotiate_locale(preferred, list(LANGUAGES), sep="-")
    if found is None:  # "de-CH" where only "de" exists
        found = next(
            (t.split("-")[0].lower() for t in preferred if t.split("-")[0].lower() in LANGUAGES), None
        )
    return found or DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Translator:
    """One request's language: gettext plus the localised formats templates need."""

    language: str
    translations: Translations

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def status(self, status: Status | str) -> str:
        return self.gettext(STATUS_LABELS[Status(status)])

    def action(self, action: Action | str) -> str:
        return self.gettext(JOURNAL_ACTION_LABELS[Action(action)])

    def reason(self, reason: str) -> str:
        """A reject's reason code in this language (the code itself if it is not one of ours)."""
        try:
            return self.gettext(REASON_LABELS[Reason(reason)])
        except ValueError:
            return reason

    def number(self, value: float | int | None) -> str:
        return "" if value is None else format_decimal(value, locale=self.language)

    def percent(self, fraction: float | None) -> str:
        return "" if fraction is None else format_percent(fraction, locale=self.language)

    def datetime(self, ts: float | None) -> str:
        if not ts:
            return "—"
        return format_datetime(datetime.fromtimestamp(ts), "short", locale=self.language)

    def journal(self, code: str, params: dict[str, Any]) -> str:
        """A journal line in this language: its code's message, with statuses and actions translated."""
        template = MESSAGES.get(code)
        if template is None:
            return f"{code} {params}"
        shown = dict(params)
        if code == "job.transition":
            for key in ("source", "target"):
                if shown.get(key) in STATUS_VALUES:
                    shown[key] = self.status(shown[key])
            if shown.get("action") in ACTION_VALUES:
                shown["action"] = self.action(shown["action"])
        if code in ("run.resumed", "worker.takeover") and isinstance(shown.get("reason"), str):
            shown["reason"] = self.stop_reason(shown["reason"])
        if code == "run.first_error" and "message" in shown:  # the reject's, kept in English too
            said = shown["message"]
            shown["message"] = self.reject(shown.get("reject_code"), shown.get("reject_params"), said)
        shown = {key: self._value(key, value) for key, value in shown.items()}
        try:
            return self.gettext(template).format(**shown)
        except (KeyError, IndexError, ValueError):
            return template.format_map(_Missing(shown))

    def _value(self, key: str, value: Any) -> Any:
        """A journal parameter as this language writes it: numbers, yes/no, and the durations the
        engine stores as text ("2.5 s", an ETA "unknown"); options as JSON, not Python."""
        if isinstance(value, bool):
            return self.gettext(N_("Yes") if value else N_("No"))
        if isinstance(value, int | float):
            return self.number(value)
        if isinstance(value, dict | list):  # a run's options: as a job file or the API writes them
            return json.dumps(value, ensure_ascii=False)
        if key in ("duration", "eta") and isinstance(value, str):
            if value == "unknown":
                return self.gettext(N_("unknown"))
            if seconds := _SECONDS.fullmatch(value):
                return f"{self.number(float(seconds[1]))} s"
        return value

    def stop_reason(self, said: str) -> str:
        """Why a run stopped (stored in English) in this language; one this version does not know
        stays as it is."""
        for template, pattern in _STOP_REASONS:
            if found := pattern.fullmatch(said):
                parts = found.groupdict()
                if "reason" in parts:
                    parts["reason"] = self.stop_reason(parts["reason"])
                return self.gettext(template).format(**parts)
        return said

    def reject(self, code: str | None, params: Mapping[str, Any] | None, message: str) -> str:
        """A reject's message in this language, from its code and parameters. One stored without a
        code (before impex kept them), or with a code this version does not know, shows its English
        ``message``. A database's own words stay as it wrote them."""
        template = REJECT_MESSAGES.get(code) if code is not None else None
        if template is None or params is None:
            return message
        try:
            said = self.gettext(template).format(**shown(params, self.gettext(AND)))
            return self.gettext(LINE).format(line=params["line"], message=said)
        except (KeyError, IndexError, ValueError):
            return message


def _pattern(template: str) -> re.Pattern[str]:
    """What ``template`` gives once formatted, each placeholder a named group."""
    return re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>.+)", re.escape(template)))


_STOP_REASONS = [(template, _pattern(template)) for template in STOP_REASONS]
_SECONDS = re.compile(r"(\d+(?:\.\d+)?) s")


class _Missing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def duration(seconds: float | None) -> str:
    """H:MM:SS, the same in every language."""
    if seconds is None:
        return ""
    whole = round(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


Gettext = Callable[[str], str]
