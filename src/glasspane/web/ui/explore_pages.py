"""Explore pages: the logs (``/explore/logs``), searched as ``GET /api/v1/logs`` is.

The page is server-rendered like every other; its live tail is a small poll in
``glasspane.js`` that fetches this same page again and swaps in its table.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from glasspane.query import logs
from glasspane.web.deps import instance_of
from glasspane.web.ui.render import page
from glasspane.web.ui.session import LoggedIn

router = APIRouter(include_in_schema=False)
#: Seconds between two polls of the live tail.
LIVE_TAIL_SECONDS = 5


@router.get("/explore/logs")
def logs_page(
    request: Request,
    session: LoggedIn,
    query: str | None = None,
    period: str | None = None,
    level: str | None = None,
    limit: int = logs.DEFAULT_LIMIT,
) -> HTMLResponse:
    """The logs matching the search and level, newest first, each linking its trace."""
    instance = instance_of(request)
    w = logs.level_window(query, period, level or None)
    found = logs.list_logs(instance.store, instance.projects(), w, limit)["logs"]
    return page(
        request,
        "logs.html",
        session=session,
        nav="logs",
        logs=found,
        level=level or "",
        levels=logs.LEVELS,
        limit=limit,
        live=request.query_params.get("live") == "1",
        live_seconds=LIVE_TAIL_SECONDS,
    )
