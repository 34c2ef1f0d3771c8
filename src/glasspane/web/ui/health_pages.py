"""Release health, cron monitors, user feedback and profiles: ``/releases``
(and one release's sessions over time), ``/crons``, ``/feedback`` and
``/profiles/{id}``.

Each reads what the matching ``/api/v1`` route answers (``web/health_api.py``)
through the same ``query/`` functions.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from glasspane.query import feedback, monitors, profiles, releases
from glasspane.query.replays import period_window
from glasspane.web.deps import instance_of
from glasspane.web.ui import charts
from glasspane.web.ui.render import page
from glasspane.web.ui.session import LoggedIn

router = APIRouter(include_in_schema=False)
FEEDBACK_LIMIT = 200
#: A monitor's status as the crons page names it (``timeout`` is a failed run too).
MONITOR_STATUS = {
    "ok": "ok",
    "error": "failed",
    "timeout": "failed",
    "in_progress": "in progress",
    "missed": "missed",
}


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
    crashes = charts.bar_chart(
        [b["start"] for b in series],
        [b["crashed"] for b in series],
        (w.start, w.end),
        found["interval"],
    )
    return page(
        request,
        "release.html",
        session=session,
        nav="releases",
        release=found["release"],
        projects=found["projects"],
        sessions_chart=sessions,
        crashes_chart=crashes,
    )


@router.get("/crons")
def crons_page(request: Request, session: LoggedIn, period: str | None = None) -> HTMLResponse:
    """Cron monitors: schedule, status, last and next run, recent runs, missed and failed runs."""
    instance = instance_of(request)
    found = monitors.list_monitors(instance.store, instance.projects(), period_window(period))
    rows = found["monitors"]
    problems = [
        {"monitor": m, "at": at, "what": "missed", "run": None}
        for m in rows
        for at in m["missed_at"]
    ] + [
        {"monitor": m, "at": r["started_at"], "what": r["status"], "run": r}
        for m in rows
        for r in m["recent_runs"]
        if r["status"] in ("error", "timeout")
    ]
    problems.sort(key=lambda p: p["at"], reverse=True)
    return page(
        request,
        "crons.html",
        session=session,
        nav="crons",
        monitors=rows,
        problems=problems,
        status_names=MONITOR_STATUS,
    )


@router.get("/feedback")
def feedback_page(request: Request, session: LoggedIn, period: str | None = None) -> HTMLResponse:
    """What users wrote, newest first, each with its replay, trace and error."""
    instance = instance_of(request)
    w = period_window(period)
    rows = feedback.list_feedback(instance.store, instance.projects(), w, None, FEEDBACK_LIMIT)
    return page(
        request,
        "feedback.html",
        session=session,
        nav="feedback",
        feedback=feedback.with_errors(instance.store, rows["feedback"]),
        limit=FEEDBACK_LIMIT,
    )


@router.get("/profiles/{profile_id}")
def profile_page(
    request: Request, profile_id: str, session: LoggedIn, thread: str | None = None
) -> HTMLResponse:
    """One profile's flame graph (one thread) beside its functions by self and total time."""
    instance = instance_of(request)
    found = profiles.flame_graph(instance.store, instance.projects(), profile_id, thread)
    rects, height = charts.flame_rects(found["cells"])
    return page(
        request,
        "profile.html",
        session=session,
        nav="performance",
        profile=found,
        rects=rects,
        flame_width=charts.FLAME_WIDTH,
        flame_height=height,
    )
