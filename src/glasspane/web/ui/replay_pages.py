"""Session replays: the list (``/replays``) and one replay's timeline (``/replays/{id}``).

Both read what ``GET /api/v1/replays`` and ``GET /api/v1/replays/{id}`` answer.
The timeline's scrubber (a range input) is a few lines in ``glasspane.js``: it
marks the entries up to the chosen offset; the rows carry their offset.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from glasspane.query import replays
from glasspane.web.deps import instance_of
from glasspane.web.ui.render import page
from glasspane.web.ui.session import LoggedIn

router = APIRouter(include_in_schema=False)
LIST_LIMIT = 100


@router.get("/replays")
def replays_page(
    request: Request,
    session: LoggedIn,
    query: str | None = None,
    period: str | None = None,
    errors: bool = False,
) -> HTMLResponse:
    """The replays of the period, newest first, filtered by the search and errors."""
    instance = instance_of(request)
    search = replays.ReplayQuery.parse(query, errors)
    w = replays.period_window(period)
    found = replays.list_replays(
        instance.store, instance.projects(), w, limit=LIST_LIMIT, query=search
    )
    return page(
        request,
        "replays.html",
        session=session,
        nav="replays",
        replays=found["replays"],
        errors=errors,
        limit=LIST_LIMIT,
    )


@router.get("/replays/{replay_id}")
def replay_page(request: Request, replay_id: str, session: LoggedIn) -> HTMLResponse:
    """What the user did and saw, by time offset, with links to issues and traces."""
    instance = instance_of(request)
    replay = replays.get_replay(instance.store, instance.projects(), replay_id)
    return page(request, "replay.html", session=session, nav="replays", replay=replay)
