"""Issues under ``/api/v1/issues`` (any role reads; see ``web.auth``)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from glasspane.query import issues
from glasspane.query.performance import window
from glasspane.web.auth import Member, require_viewer
from glasspane.web.deps import instance_of

router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_viewer)])

QueryParam = Query(None, description="Search query, e.g. is:unresolved error.type:KeyError")
PeriodParam = Query(None, description="Counts over 15m, 1h, 24h (default), 7d")


class StatusIn(BaseModel):
    status: Literal["unresolved", "resolved", "ignored"] = Field(
        description="A resolved issue reopens, marked regressed, when a new event arrives."
    )


@router.get("/issues", summary="Errors grouped into issues, with counts and users in the period")
def list_issues(
    request: Request,
    query: str | None = QueryParam,
    period: str | None = PeriodParam,
    sort: str = Query(issues.DEFAULT_SORT, description="[-]last_seen, first_seen, count or users"),
    limit: int = Query(100, description="At most 1000"),
) -> dict[str, Any]:
    instance = instance_of(request)
    return issues.list_issues(
        instance.store, instance.projects(), window(query, period), sort, limit
    )


@router.get("/issues/{issue_id}", summary="One issue: latest event in full, events, related")
def issue(
    issue_id: int,
    request: Request,
    query: str | None = QueryParam,
    period: str | None = PeriodParam,
    limit: int = Query(50, description="Events on the first page (see .../events)"),
) -> dict[str, Any]:
    instance = instance_of(request)
    w = window(query, period)
    return issues.issue_detail(
        instance.store, instance.projects(), issue_id, w, limit, instance.sourcemaps
    )


@router.post("/issues/{issue_id}", summary="Resolve, ignore or reopen an issue")
def set_issue_status(
    issue_id: int, body: StatusIn, request: Request, actor: Member
) -> dict[str, Any]:
    instance = instance_of(request)
    w = window(None, None)
    answer = issues.set_status(instance.store, instance.projects(), issue_id, body.status, w)
    instance.accounts.record(actor, "issue.status", f"issue {issue_id}", body.status)
    return answer


@router.get("/issues/{issue_id}/tags", summary="Each tag's top values over the issue's events")
def issue_tags(
    issue_id: int,
    request: Request,
    query: str | None = QueryParam,
    period: str | None = PeriodParam,
) -> dict[str, Any]:
    store = instance_of(request).store
    return issues.issue_tags(store, issue_id, window(query, period))


@router.get("/issues/{issue_id}/events", summary="An issue's events, newest first")
def issue_events(
    issue_id: int, request: Request, limit: int = 50, offset: int = 0
) -> dict[str, Any]:
    store = instance_of(request).store
    return issues.issue_events(store, issue_id, window(None, None), limit, offset)


@router.get("/issues/{issue_id}/events/{event_id}", summary="One event of an issue in full")
def issue_event(issue_id: int, event_id: str, request: Request) -> dict[str, Any]:
    instance = instance_of(request)
    return issues.issue_event(instance.store, issue_id, event_id, instance.sourcemaps)
