"""Credentials kept out of everything a run stores or prints.

``redact_url`` removes the user information and the values of
credential-like query parameters (``api-key``, ``key``, ``token``,
``access_token``, ...) from a URL before it is stored (provenance, eval
results). ``mask`` hides, in any message, the secrets this process was
given (``remember``: the API key and the credentials inside the base URL,
noted when a client is built) and anything shaped like one: a bearer or
basic token, an ``sk-`` key, credentials inside a URL or an ``api-key``
header. Every stored or printed error message goes through ``mask``.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import urlsplit, urlunsplit

MASK = "***"
MIN_SECRET_CHARS = 6  # a shorter "secret" would mask ordinary words in messages

# a parameter name one of whose parts (split at - _ .) names a credential: api-key, access_token
_CREDENTIAL_PARAM = (
    r"(?:[a-z0-9]+[-_.])*(?:apikey|key|token|secret|password|passwd|signature|sig|auth"
    r"|credentials?)(?:[-_.][a-z0-9]+)*"
)
_IS_CREDENTIAL_PARAM = re.compile(rf"(?i){_CREDENTIAL_PARAM}")
_PATTERNS = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[\w.~+/=-]{6,}"), rf"\1 {MASK}"),
    (re.compile(r"\bsk-[\w-]{6,}"), f"sk-{MASK}"),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@"), rf"\1{MASK}@"),
    (re.compile(rf"(?i)([?&;]{_CREDENTIAL_PARAM}=)[^&#;\s\"']+"), rf"\1{MASK}"),
    (re.compile(r"(?i)\b((?:x-)?api[-_]?key[\"']?\s*[:=]\s*[\"']?)[^\s\"',;&]+"), rf"\1{MASK}"),
)

_known: set[str] = set()
_lock = threading.Lock()


def remember(*secrets: str | None) -> None:
    """Note secrets to be masked in every later message (empty and very short values ignored)."""
    with _lock:
        _known.update(s for s in secrets if s and len(s) >= MIN_SECRET_CHARS)


def url_secrets(url: str | None) -> list[str]:
    """The credentials inside ``url``: its password (or a lone user name) and secret parameters."""
    if not url:
        return []
    try:
        parts = urlsplit(url)
        found = [parts.password or parts.username or ""]
    except ValueError:
        return []
    for pair in parts.query.split("&"):
        name, _, value = pair.partition("=")
        if value and _IS_CREDENTIAL_PARAM.fullmatch(name):
            found.append(value)
    return [secret for secret in found if secret]


def redact_url(url: str) -> str:
    """``url`` without user information or secret query values; unchanged when it holds none."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return mask(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
    query = "&".join(_redact_pair(pair) for pair in parts.query.split("&")) if parts.query else ""
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _redact_pair(pair: str) -> str:
    name, equals, value = pair.partition("=")
    return f"{name}={MASK}" if equals and value and _IS_CREDENTIAL_PARAM.fullmatch(name) else pair


def mask(text: str) -> str:
    """``text`` with every remembered secret and anything shaped like a credential masked."""
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for secret in known:
        text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
