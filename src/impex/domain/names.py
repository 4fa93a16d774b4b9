"""Table and column names made from what people write: a header, a file's name."""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePath

MAX_IDENTIFIER = 63

# Letters that Unicode does not decompose into a base letter and an accent, so that dropping the
# accents alone would drop them ("Straße" would become "strae").
_SPELLED_OUT = str.maketrans(
    {
        "ß": "ss",
        "ẞ": "SS",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ø": "o",
        "Ø": "O",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "þ": "th",
        "Þ": "TH",
        "ł": "l",
        "Ł": "L",
        "ı": "i",
        "ħ": "h",
        "Ħ": "H",
        "ŧ": "t",
        "Ŧ": "T",
        "ŋ": "ng",
        "Ŋ": "NG",
    }
)


def ascii_spelling(text: str) -> str:
    """``text`` with its Latin letters in ASCII (``é`` → ``e``, ``ß`` → ``ss``) and whatever else is
    not ASCII dropped."""
    spelled = unicodedata.normalize("NFKD", text.translate(_SPELLED_OUT))
    return spelled.encode("ascii", "ignore").decode("ascii")


def identifier(text: str) -> str:
    """``text`` as a table or column name: Latin letters without their accents (``é`` → ``e``, ``ß`` →
    ``ss``), lower case, any other run of characters as ``_``, ``_`` before a leading digit; empty
    when nothing of it can be written so (``"日本"``, ``"$$"``)."""
    name = re.sub(r"[^a-z0-9]+", "_", ascii_spelling(text).lower()).strip("_")
    if name and name[0].isdigit():
        name = "_" + name
    return name[:MAX_IDENTIFIER]


def file_stem(file_name: str) -> str:
    """A file's name without its directory and extensions: the compression's (``.gz``, ``.zip``) and
    the format's (``my.data.csv.gz`` → ``my.data``)."""
    name = PurePath(file_name).name
    for compressed in (".gz", ".zip"):
        name = name.removesuffix(compressed)
    return PurePath(name).stem if PurePath(name).suffix else name


def table_name_for(file_name: str) -> str:
    """The table a file's rows go to when none is named: its stem as an identifier (``Straße.csv`` →
    ``strasse``, ``my.data.csv`` → ``my_data``); empty when nothing of it can be written so."""
    return identifier(file_stem(file_name))
