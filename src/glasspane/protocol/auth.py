"""Where the Sentry SDKs put the project's public key, and DSNs.

Python sends ``X-Sentry-Auth: Sentry sentry_key=..., sentry_version=7``; the
JavaScript SDKs put ``sentry_key`` in the query string; with a ``tunnel`` the
envelope header's ``dsn`` is the only credential. ``trace.public_key`` in the
envelope header is *not* a credential: it is the head service's key.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def parse_auth_header(value: str) -> dict[str, str]:
    """``Sentry k=v, k=v`` (any order, optional prefix) → ``{k: v}``."""
    value = value.strip()
    if value[:7].lower() == "sentry ":
        value = value[7:]
    pairs: dict[str, str] = {}
    for part in value.split(","):
        key, sep, val = part.strip().partition("=")
        if sep:
            pairs[key.strip().lower()] = val.strip()
    return pairs


def key_from_dsn(dsn: str) -> str | None:
    """The public key of ``scheme://KEY[:SECRET]@host/...``; ``None`` if absent."""
    try:
        user = urlsplit(dsn).username
    except ValueError:
        return None
    return user or None


def make_dsn(base_url: str, public_key: str, project_id: int) -> str:
    """``http://KEY@host:port[/prefix]/PROJECT_ID`` for a base URL."""
    parts = urlsplit(base_url)
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{public_key}@{parts.netloc}{path}/{project_id}"
