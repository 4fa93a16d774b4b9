"""The gettext catalogs' source strings, found in the code, and keeping the .po files in step.

``python -m impex.web.catalogs`` adds every new string to each language's .po file (with an empty
translation to fill in) and drops strings no longer used; a test fails while any is untranslated."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po
from jinja2.ext import babel_extract

from impex.domain.journal import MESSAGES, STOP_REASONS
from impex.domain.rejects import AND, LINE
from impex.domain.rejects import MESSAGES as REJECT_MESSAGES
from impex.web.i18n import LANGUAGES, po_path

WEB = Path(__file__).parent


def _from_python() -> Iterator[str]:
    for path in sorted(WEB.glob("*.py")):
        for _line, message, _comments, _context in extract_from_file("python", path):
            if isinstance(message, str):
                yield message


def _from_templates() -> Iterator[str]:
    for path in sorted((WEB / "templates").glob("*.html")):
        with open(path, "rb") as f:
            for _line, _function, message, _comments in babel_extract(f, ("_", "gettext"), [], {}):
                if isinstance(message, str):
                    yield message


def source_strings() -> list[str]:
    """Every msgid the UI uses: marked strings in the code and templates, the journal's messages and
    why runs stopped, and the rejects' (with the frame and the key names' joint they are said in)."""
    rejects = [LINE, AND, *REJECT_MESSAGES.values()]
    journal = [*MESSAGES.values(), *STOP_REASONS]
    found = dict.fromkeys([*_from_python(), *_from_templates(), *journal, *rejects])
    return sorted(found)


def read_catalog(language: str) -> Catalog:
    path = po_path(language)
    if not path.exists():
        return Catalog(locale=language, domain="messages", project="impex")
    with open(path, "rb") as f:
        return read_po(f, locale=language)


def update_catalogs() -> dict[str, list[str]]:
    """Add new strings to every .po file, drop unused ones; returns the untranslated ones per language."""
    wanted = source_strings()
    missing: dict[str, list[str]] = {}
    for language in LANGUAGES:
        old = read_catalog(language)
        new = Catalog(locale=language, domain="messages", project="impex")
        for msgid in wanted:
            entry = old.get(msgid)
            new.add(msgid, entry.string if entry is not None else "")
        path = po_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            write_po(f, new, width=110, omit_header=False, sort_output=True)
        missing[language] = [m for m in wanted if not (new.get(m) and new[m].string)]
    return missing


if __name__ == "__main__":
    for language, untranslated in update_catalogs().items():
        print(f"{language}: {len(untranslated)} untranslated")
