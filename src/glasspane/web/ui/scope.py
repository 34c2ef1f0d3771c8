"""The pickers every page shares: project, environment and time range.

The reader's choice lives in the URL (``project``, ``environment``,
``period``), so a link shares the view and the navigation keeps it from page to
page. :class:`ScopeMiddleware` makes the choice apply to every page without
each page knowing about it:

- a custom range comes from the range form as ``from`` and ``to``; the page is
  redirected (303) to the same URL with ``period=FROM/TO`` instead, the form
  :func:`glasspane.query.period.parse_window` reads;
- ``project`` and ``environment`` become search terms put in front of the
  page's ``query`` before the page reads it. The page still shows the query as
  the reader typed it (:func:`typed_params`).

Pages whose search is not the search language (replays, the quick search, a
trace's span search) are left alone.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

#: URL parameters the pickers own.
SCOPE_PARAMS = ("project", "environment")
#: Pages whose ``query`` is not the search language or means one object.
UNSCOPED = ("/replays", "/search", "/traces/", "/login", "/logout", "/settings", "/static/")
_STATE_KEY = "glasspane.typed_params"
#: A picker value longer than this is refused by the search parser anyway.
MAX_VALUE_CHARS = 200


def _quoted(value: str) -> str:
    """A value as one search-language term, whatever characters it holds."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def scope_terms(params: dict[str, str]) -> str:
    """``project:"x" environment:"y"`` for the pickers set in ``params``."""
    return " ".join(
        f"{name}:{_quoted(params[name][:MAX_VALUE_CHARS])}"
        for name in SCOPE_PARAMS
        if params.get(name)
    )


def scoped(params: dict[str, str], query: str) -> str:
    """``query`` narrowed by the pickers (parenthesised, so an ``OR`` stays inside)."""
    terms = scope_terms(params)
    if not terms:
        return query
    return f"{terms} ({query})" if query.strip() else terms


def typed_params(request: Request) -> dict[str, str]:
    """The URL's parameters as the reader wrote them (before the pickers' terms)."""
    state: dict[str, Any] = request.scope.get("state") or {}
    typed = state.get(_STATE_KEY)
    return dict(typed) if typed is not None else dict(request.query_params)


class ScopeMiddleware:
    """Applies the pickers to page requests (see the module's docstring)."""

    def __init__(self, app: ASGIApp, is_page_path: Any) -> None:
        self.app = app
        self.is_page_path = is_page_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope.get("method") != "GET"
            or not self.is_page_path(path)
            or path.startswith(UNSCOPED)
        ):
            await self.app(scope, receive, send)
            return
        raw = scope.get("query_string", b"").decode("latin-1")
        pairs = parse_qsl(raw, keep_blank_values=True)
        params = dict(pairs)
        if "from" in params or "to" in params:
            await _to_period(scope, pairs)(scope, receive, send)
            return
        if any(params.get(name) for name in SCOPE_PARAMS):
            scope.setdefault("state", {})[_STATE_KEY] = params
            query = scoped(params, params.get("query") or "")
            rewritten = [(k, v) for k, v in pairs if k != "query"] + [("query", query)]
            scope["query_string"] = urlencode(rewritten).encode("latin-1", "replace")
        await self.app(scope, receive, send)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M")


def _to_period(scope: Scope, pairs: list[tuple[str, str]]) -> RedirectResponse:
    """The custom range form's ``from``/``to`` as ``period=FROM/TO``."""
    params = dict(pairs)
    start, end = params.get("from", "").strip(), params.get("to", "").strip()
    kept = [(k, v) for k, v in pairs if k not in ("from", "to", "period")]
    if start or end:
        # One end only: the range runs from 24 h ago, or up to now.
        now = time.time()
        kept.append(("period", f"{start or _iso(now - 86400)}/{end or _iso(now)}"))
    target = scope.get("path", "/") + (f"?{urlencode(kept)}" if kept else "")
    return RedirectResponse(target, status_code=303)
