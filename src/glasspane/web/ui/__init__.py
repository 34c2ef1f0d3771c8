"""The web UI: server-rendered pages over the query layer.

``router`` holds every page; ``web.app`` includes it, mounts :data:`STATIC` at
``/static`` and maps errors on page paths to :func:`error_page`. Pages call the
query functions in-process (no HTTP to the JSON API) and need a login session
(:mod:`.session`). Templates live in ``templates/``, the stylesheet and the
little JavaScript there is in ``static/``; nothing is loaded from elsewhere.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from glasspane.web.ui import (
    explore_pages,
    health_pages,
    issue_pages,
    login,
    performance_pages,
    queries_pages,
    replay_pages,
    settings_pages,
    trace_pages,
)
from glasspane.web.ui.render import STATIC, error_page
from glasspane.web.ui.scope import ScopeMiddleware
from glasspane.web.ui.session import Redirect, redirect_response

__all__ = [
    "STATIC",
    "Redirect",
    "ScopeMiddleware",
    "error_page",
    "is_page",
    "is_page_path",
    "redirect_response",
    "router",
]

#: Paths that are not pages: the JSON API, ingest, health, API docs, assets.
NOT_PAGES = (
    "/api/",
    "/v1/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/redoc",
    "/static/",
)

router = APIRouter(include_in_schema=False)
for module in (
    login,
    performance_pages,
    trace_pages,
    issue_pages,
    explore_pages,
    queries_pages,
    replay_pages,
    health_pages,
    settings_pages,
):
    router.include_router(module.router)


def is_page(request: Request) -> bool:
    """True when an error on this request should be answered with an HTML page."""
    return is_page_path(request.url.path)


def is_page_path(path: str) -> bool:
    return not path.startswith(NOT_PAGES)
