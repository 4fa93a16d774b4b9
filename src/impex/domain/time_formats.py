"""Date and timestamp formats as a definition gives them: strftime directives (chrono's, which Polars
reads and writes with), checked when the job is defined rather than found out by every value of a
column being rejected."""

from __future__ import annotations

import re

# %, an optional padding flag, then one directive: %.3f, %:z, %#z and letters.
DIRECTIVE = re.compile(r"%[-_0]?(\.?[369]?f|:{1,3}z|#z|.)", re.S)
KNOWN = set("YCyqmbBhdeaAwuUWGgVjDxFvHkIlPpMSfRTXrZzcs+tn%")
_LAYOUT_WORDS = re.compile(r"YYYY|yyyy|YY|yy|MM|DD|dd|HH|hh|mm|SS|ss")
# Layout words other tools write (Excel, Java, SQL) and the directive each means.
_SPELLED = {"YYYY": "%Y", "YY": "%y", "MM": "%m", "DD": "%d", "HH": "%H", "mm": "%M", "SS": "%S"}
_SPELLED |= {"yyyy": "%Y", "yy": "%y", "dd": "%d", "hh": "%H", "ss": "%S"}


def check_time_format(value: str) -> str:
    """``value`` when every ``%`` directive of it is one chrono knows and it has one that reads a part of
    a date or time; else a ValueError that says what to write (``DD.MM.YYYY``: ``%d.%m.%Y``)."""
    directives = [m.group(1) for m in DIRECTIVE.finditer(value)]
    unknown = [f"%{d}" for d in directives if d[-1] not in KNOWN]
    if unknown:
        raise ValueError(
            f"{value!r}: {', '.join(dict.fromkeys(unknown))} is no strftime directive "
            "(%Y year, %m month, %d day, %H hour, %M minute, %S second, %z UTC offset…)"
        )
    if not any(d not in ("%", "t", "n") for d in directives):
        spelled = _LAYOUT_WORDS.sub(lambda m: _SPELLED[m.group()], value)
        hint = f"; write {spelled!r} for {value!r}" if spelled != value else ""
        raise ValueError(
            f"{value!r} has no directive, so it would read no value: a format is written with strftime "
            f"directives (%d.%m.%Y reads 31.12.2024){hint}"
        )
    return value
