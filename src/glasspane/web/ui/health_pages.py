"""Release health, cron monitors, user feedback and profiles: ``/releases``
(and one release's sessions over time), ``/crons``, ``/feedback`` and
``/profiles/{id}``.

Each reads what the matching ``/api/v1`` route answers (``web/health_api.py``)
through the same ``query/`` functions.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from glasspane.query import releases
from glasspane.query.replays import period_window
from glasspane.web.deps import instance_of
from glasspane.web.ui import charts
from glasspane.web.ui.render import page, percent
from glasspane.web.ui.session import LoggedIn

router = APIRouter(include_in_schema=False)


@router.get("/releases")
def releases_page(
    request: Request,
    session: LoggedIn,
    period: str | None = None,
    environment: str | None = None,
    project: str | None = None,
) -> HTMLResponse:
    """Crash-free sessions and users, sessions, users and adoption per release."""
    instance = instance_of(request)
    w = period_window(period)
    rows = releases.list_releases(instance.store, instance.projects(), w, project)["releases"]
    environments = sorted({e for r in rows for e in r["environments"]})
    if environment:
        rows = [r for r in rows if environment in r["environments"]]
    return page(
        request,
        "releases.html",
        session=session,
        nav="releases",
        releases=rows,
        environments=environments,
        environment=environment or "",
    )


@router.get("/releases/{release:path}")
def release_page(
    request: Request,
    release: str,
    session: LoggedIn,
    period: str | None = None,
    project: str | None = None,
) -> HTMLResponse:
    """One release: its health in the period and its sessions over time."""
    instance = instance_of(request)
    w = period_window(period)
    found = releases.release_over_time(instance.store, instance.projects(), w, release, project)
    series = found["series"]
    sessions = charts.bar_chart(
        [b["start"] for b in series],
        [b["sessions"] for b in series],
        (w.start, w.end),
        found["interval"],
    )
    rates = charts.line_chart(
        [b["start"] + found["interval"] / 2 for b in series],
        {
            "crash-free sessions": [
                1 - b["crashed"] / b["sessions"] if b["sessions"] else None for b in series
            ]
        },
        lambda v: percent(v, 0),
        (w.start, w.end),
        width=900,
        floor_top=1,
    )
    return page(
        request,
        "release.html",
        session=session,
        nav="releases",
        release=found["release"],
        projects=found["projects"],
        sessions_chart=sessions,
        rates_chart=rates,
    )
