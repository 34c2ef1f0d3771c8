"""Issues: the list (starting at ``is:unresolved``), one issue, and its status form."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from glasspane.access.roles import MEMBER
from glasspane.errors import ProtocolError
from glasspane.instance import Instance
from glasspane.query import issues, logs
from glasspane.query.performance import window
from glasspane.web.auth import accounts_of
from glasspane.web.deps import instance_of
from glasspane.web.ui import charts
from glasspane.web.ui.login import form
from glasspane.web.ui.render import page, url
from glasspane.web.ui.scope import scoped, typed_params
from glasspane.web.ui.session import LoggedIn, check_csrf, check_role

router = APIRouter(include_in_schema=False)
DEFAULT_QUERY = "is:unresolved"
STATUSES = ("unresolved", "resolved", "ignored")
#: The issue page shows the last this many logs of the event's trace; Logs has them all.
ISSUE_LOGS_SHOWN = 100


@router.get("/issues")
def issues_page(
    request: Request,
    session: LoggedIn,
    query: str | None = None,
    period: str | None = None,
    sort: str = issues.DEFAULT_SORT,
) -> HTMLResponse:
    """``query`` absent means ``is:unresolved``; an empty ``query=`` lists every status."""
    typed = typed_params(request)
    text = DEFAULT_QUERY if typed.get("query") is None else (typed.get("query") or "").strip()
    instance = instance_of(request)
    w = window(scoped(typed, text), period)
    found = issues.list_issues(instance.store, instance.projects(), w, sort, 100)
    for row in found["issues"]:
        row["spark"] = charts.spark_bars(row.get("series") or [], 100, 22)
    return page(
        request,
        "issues.html",
        session=session,
        nav="issues",
        query=text,
        rows=found["issues"],
        sort=sort,
    )


def _frames(exception: dict[str, Any]) -> list[dict[str, Any]]:
    """Frames with the crash first, as people read a stack trace in a browser."""
    return list(reversed(exception.get("frames") or []))


@router.get("/issues/{issue_id}")
def issue_page(
    request: Request,
    issue_id: int,
    session: LoggedIn,
    period: str | None = None,
) -> HTMLResponse:
    instance = instance_of(request)
    w = window(None, period)
    issue = issues.issue_detail(
        instance.store, instance.projects(), issue_id, w, 50, instance.sourcemaps
    )
    series = issue.get("series") or []
    interval = (w.end - w.start) / max(1, len(series))
    stamps = [w.start + i * interval for i in range(len(series))]
    event = issue.get("latest_event") or {}
    return page(
        request,
        "issue.html",
        session=session,
        nav="issues",
        issue=issue,
        event=event,
        exceptions=list(reversed(event.get("exceptions") or [])),
        frames=_frames,
        chart=charts.bar_chart(stamps, series, (w.start, w.end), interval),
        statuses=STATUSES,
        trace_logs=_trace_logs(instance, event),
        trace_logs_shown=ISSUE_LOGS_SHOWN,
        tags=issues.issue_tags(instance.store, issue_id, w)["tags"],
    )


@router.get("/issues/{issue_id}/events/{event_id}")
def event_page(request: Request, issue_id: int, event_id: str, session: LoggedIn) -> HTMLResponse:
    """One event of the issue in full, as the issue page shows its latest one."""
    instance = instance_of(request)
    issue = issues.issue_detail(
        instance.store, instance.projects(), issue_id, window(None, None), 1, instance.sourcemaps
    )
    event = issues.issue_event(instance.store, issue_id, event_id, instance.sourcemaps)
    return page(
        request,
        "event.html",
        session=session,
        nav="issues",
        issue=issue,
        event=event,
        exceptions=list(reversed(event.get("exceptions") or [])),
        frames=_frames,
        neighbours=issues.event_neighbours(instance.store, issue_id, event["event_id"]),
        trace_logs=_trace_logs(instance, event),
        trace_logs_shown=ISSUE_LOGS_SHOWN,
    )


def _trace_logs(instance: Instance, event: dict[str, Any]) -> list[dict[str, Any]]:
    """The logs of the event's trace, oldest first (none without a trace)."""
    trace_id = event.get("trace_id")
    if not trace_id:
        return []
    projects = {p.id: p for p in instance.projects()}
    return logs.trace_logs(instance.store, projects, str(trace_id))


@router.post("/issues/{issue_id}/status")
async def set_status(request: Request, issue_id: int, session: LoggedIn) -> Response:
    """Resolve, ignore or reopen (CSRF-checked), then back to the issue."""
    fields = await form(request)
    check_csrf(request, session, fields.get("csrf"))
    check_role(session, MEMBER)
    status = fields.get("status", "")
    if status not in STATUSES:
        raise ProtocolError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
    instance = instance_of(request)
    await run_in_threadpool(
        issues.set_status, instance.store, instance.projects(), issue_id, status, window(None, None)
    )
    record = accounts_of(request).record
    await run_in_threadpool(record, session.principal, "issue.status", f"issue {issue_id}", status)
    return RedirectResponse(url(f"/issues/{issue_id}", updated=status), status_code=303)
