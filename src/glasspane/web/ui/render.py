"""Jinja2 templates, the filters they use, and the page response.

Every page extends ``base.html``. Values are formatted here, once: durations
with the CLI's :func:`format_duration`, rates as percentages, times as UTC and
as an age ("8m ago").
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import time
from datetime import UTC, datetime
from functools import cache, partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from glasspane import __version__
from glasspane.query.period import DEFAULT_PERIOD, describe_window
from glasspane.query.trace_tree import format_duration
from glasspane.web.deps import instance_of
from glasspane.web.ui.scope import SCOPE_PARAMS, typed_params
from glasspane.web.ui.session import Session, optional_session

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
#: Pages larger than this are sent gzipped to browsers that accept it (a 2,000-span
#: trace is ~2 MB of HTML and ~10× less compressed).
GZIP_OVER_BYTES = 32 * 1024
PERIODS = ("5m", "15m", "1h", "24h", "7d")
#: Pages are private and change with every event: never cached, never framed.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
}


def duration(ms: object) -> str:
    return "–" if ms is None else format_duration(ms)


def percent(rate: object, digits: int = 1) -> str:
    """``0.054`` → ``5.4%``; tiny non-zero rates stay visible (``<0.1%``)."""
    if not isinstance(rate, int | float) or math.isnan(rate):
        return "–"
    value = rate * 100
    if 0 < value < 10**-digits:
        return f"<{10**-digits:g}%"
    return f"{value:.{digits}f}%"


def number(value: object, digits: int = 0) -> str:
    """``1234.5`` → ``1,235``; with ``digits``, ``12.35``; short for big ones."""
    if not isinstance(value, int | float):
        return "–"
    if abs(value) >= 1e6:
        return f"{value / 1e6:.1f}M"
    if digits and abs(value) < 100:
        return f"{value:,.{digits}f}".rstrip("0").rstrip(".")
    return f"{value:,.0f}"


def when(ts: object) -> str:
    if not isinstance(ts, int | float):
        return "–"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso(ts: object) -> str:
    if not isinstance(ts, int | float):
        return ""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def ago(ts: object, now: float | None = None) -> str:
    """``8m ago``; the full time belongs in a ``title`` beside it."""
    if not isinstance(ts, int | float):
        return "–"
    seconds = (time.time() if now is None else now) - ts
    if seconds < 0:
        return "just now" if seconds > -60 else "in the future"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return f"{int(seconds)}s ago"


def file_size(value: object) -> str:
    """Bytes for a reader: ``812 B``, ``88.2 KiB``, ``2.1 MiB``."""
    if not isinstance(value, int | float):
        return ""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if value >= size:
            return f"{value / size:.1f} {unit}"
    return f"{int(value)} B"


def short_id(value: object, length: int = 16) -> str:
    text = str(value or "")
    return text if len(text) <= length else text[:length] + "…"


def as_text(value: object) -> str:
    """A value for a key/value table: strings as they are, the rest as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str, indent=None)


def present(mapping: object) -> dict[str, Any]:
    """A mapping without its empty values (``None``, ``""``, ``{}``, ``[]``)."""
    if not isinstance(mapping, dict):
        return {}
    return {k: v for k, v in mapping.items() if v not in (None, "", {}, [])}


def as_mapping(value: object) -> dict[str, Any]:
    """Headers and the like: a dict as it is, a list of pairs as a dict, else empty."""
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        return {str(p[0]): p[1] for p in value if isinstance(p, list | tuple) and len(p) == 2}
    return {}


@cache
def asset_version(name: str) -> str:
    """A short content hash for ``/static/name?v=``, so browsers never keep a stale file."""
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:10]


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        duration=duration,
        percent=percent,
        number=number,
        when=when,
        iso=iso,
        ago=ago,
        short_id=short_id,
        file_size=file_size,
        as_text=as_text,
        present=present,
        as_mapping=as_mapping,
    )
    env.globals.update(version=__version__, periods=PERIODS, asset=asset_version)
    return env


def url(path: str, **params: object) -> str:
    """``path?a=1&b=2`` without the parameters that are ``None`` or empty."""
    kept = [(k, str(v)) for k, v in params.items() if v not in (None, "")]
    return path + (f"?{urlencode(kept)}" if kept else "")


def carrying_url(carry: dict[str, str], path: str, **params: object) -> str:
    """:func:`url` that keeps the reader's project and environment on links to pages
    (unless the link sets them itself)."""
    if path.startswith("/") and not path.startswith("/api/"):
        params = {**{k: v for k, v in carry.items() if k not in params}, **params}
    return url(path, **params)


def kept_params(params: dict[str, str]) -> dict[str, str]:
    """What the navigation carries from page to page: the period and the pickers."""
    return {k: params[k] for k in ("period", *SCOPE_PARAMS) if params.get(k)}


def page(
    request: Request,
    template: str,
    *,
    session: Session | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` with what every page needs (session, current URL, helpers)."""
    typed = typed_params(request)
    context.setdefault("period", typed.get("period") or DEFAULT_PERIOD)
    context.setdefault("query", typed.get("query") or "")
    html = (
        environment()
        .get_template(template)
        .render(
            request=request,
            session=session,
            path=request.url.path,
            params=typed,
            scope_params=kept_params(typed),
            period_label=describe_window(context["period"]),
            picker_projects=[p.name for p in instance_of(request).projects()],
            url=partial(carrying_url, {k: typed[k] for k in SCOPE_PARAMS if typed.get(k)}),
            now=time.time(),
            **context,
        )
    )
    headers = dict(PAGE_HEADERS)
    body = html.encode()
    if len(body) > GZIP_OVER_BYTES and "gzip" in request.headers.get("accept-encoding", ""):
        body = gzip.compress(body, compresslevel=5)
        headers.update({"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return HTMLResponse(body, status_code=status_code, headers=headers)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """The HTML answer to a failed page request (``web.app`` maps errors here)."""
    session = optional_session(request)
    return page(
        request,
        "error.html",
        session=session,
        status_code=status,
        message=message,
        response_status=status,
    )
