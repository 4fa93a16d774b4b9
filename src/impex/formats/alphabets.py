"""Which single-byte code page a text is in, told by its letters: read in the right one, the letters
beyond ASCII are those of one language; read in a neighbouring one, some turn into another language's
letters. Hungarian's ő and ű read as cp1252 are Portuguese õ and French û beside Hungarian ö and á;
Czech ř reads as Danish ø beside Czech í and á."""

from __future__ import annotations

import re

# Each language's letters beyond ASCII (lower case), in the code pages that write it.
ALPHABETS: dict[str, frozenset[str]] = {
    name: frozenset(letters)
    for name, letters in {
        "german": "äöüß",
        "french": "àâæçéèêëîïôœùûüÿ",
        "spanish": "áéíñóúü",
        "portuguese": "áàâãçéêíóôõú",
        "italian": "àèéìíîòóùú",
        "catalan": "àçéèíïòóúü",
        "dutch": "áäéëèíïóöúü",
        "danish, norwegian": "æøåéó",
        "swedish": "åäöé",
        "finnish": "åäöšž",
        "icelandic": "áæðéíóöúýþ",
        "estonian": "äõöüšž",
        "polish": "ąćęłńóśźż",
        "czech": "áčďéěíňóřšťúůýž",
        "slovak": "áäčďéíĺľňóôŕšťúýž",
        "hungarian": "áéíóöőúüű",
        "croatian, slovene": "čćđšž",
        "romanian": "ăâîşţșț",
        "lithuanian": "ąčęėįšųūž",
        "latvian": "āčēģīķļņšūž",
        "turkish": "çğıöşüâî",
    }.items()
}
# The code pages of Latin-script text that read one another's bytes as letters.
LATIN_PAGES = ("cp1252", "cp1250", "cp1257", "cp1254")
_LETTERS = re.compile(r"[^\W\d_]")


def letters_of_one_language(text: str) -> bool:
    """Whether ``text`` is in a Latin script (most letters ASCII: another script read in a Latin code
    page is all accents) whose letters beyond ASCII are all those of one language (none: no)."""
    letters = _LETTERS.findall(text)
    beyond = {"i" if c == "İ" else c.lower() for c in letters if not c.isascii()}
    if not beyond or sum(not c.isascii() for c in letters) * 2 >= len(letters):
        return False
    return any(beyond <= alphabet for alphabet in ALPHABETS.values())


def one_language_readings(sample: bytes) -> list[str]:
    """The Latin code pages in which ``sample``'s letters are those of one language."""
    readings = []
    for page in LATIN_PAGES:
        try:
            text = sample.decode(page)
        except UnicodeDecodeError:
            continue
        if letters_of_one_language(text):
            readings.append(page)
    return readings
