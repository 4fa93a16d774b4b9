"""Database URLs as they may be shown: in a log line, an error message or an API answer."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit

SECRET_PARAMS = {"password", "sslpassword"}


def redact_url(url: str) -> str:
    """The URL with any password (in the user part or the query) replaced by ``***``."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<unparsable URL>"
    netloc, query = parts.netloc, parts.query
    if password is not None:
        user, host = netloc.rsplit("@", 1)
        netloc = f"{user.split(':', 1)[0]}:***@{host}"
    pairs = query.split("&") if query else []
    hidden = [f"{p.split('=', 1)[0]}=***" if _is_secret(p) else p for p in pairs]
    if netloc == parts.netloc and hidden == pairs:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, "&".join(hidden), parts.fragment))


def passwords_in(url: str) -> list[str]:
    """The passwords a URL holds (user part and query), to mask wherever a driver quotes them."""
    try:
        parts = urlsplit(url)
        found = [parts.password] if parts.password else []
    except ValueError:
        return []
    values = [p.split("=", 1)[1] for p in parts.query.split("&") if "=" in p and _is_secret(p)]
    return found + [unquote(v) for v in values if v]


def masked(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def _is_secret(pair: str) -> bool:
    return unquote(pair.split("=", 1)[0]).lower() in SECRET_PARAMS
