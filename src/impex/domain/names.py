"""Table and column names made from what people write: a header, a file's name."""

from __future__ import annotations

import re
import unicodedata

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


def identifier(text: str) -> str:
    """``text`` as a table or column name: Latin letters without their accents (``é`` → ``e``, ``ß`` →
    ``ss``), lower case, any other run of characters as ``_``, ``_`` before a leading digit; empty
    when nothing of it can be written so (``"日本"``, ``"$$"``)."""
    spelled = unicodedata.normalize("NFKD", text.translate(_SPELLED_OUT))
    ascii_only = spelled.encode("ascii", "ignore").decode("ascii")
    name = re.sub(r"[^a-z0-9]+", "_", ascii_only.lower()).strip("_")
    if name and name[0].isdigit():
        name = "_" + name
    return name[:MAX_IDENTIFIER]
