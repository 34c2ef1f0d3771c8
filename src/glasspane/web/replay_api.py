"""Session replays under ``/api/v1/replays`` (any role reads; see ``web.auth``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from glasspane.query import replays
from glasspane.web.auth import require_viewer
from glasspane.web.deps import instance_of

router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_viewer)])


@router.get("/replays", summary="Replays in the period, or those of a trace or an issue")
def list_replays(
    request: Request,
    period: str | None = Query(None, description="15m, 1h, 24h (default), 7d"),
    query: str | None = Query(
        None, description="user:, user.email:, user.id:, user.username:, url:, has:errors, words"
    ),
    errors: bool = Query(False, description="Only replays that saw an error"),
    trace_id: str | None = Query(None, description="Only replays that saw this trace"),
    issue_id: int | None = Query(None, description="Only replays that saw this issue"),
    limit: int = Query(50, description="At most 1000"),
) -> dict[str, Any]:
    instance = instance_of(request)
    w = replays.period_window(period)
    search = replays.ReplayQuery.parse(query, errors)
    return replays.list_replays(
        instance.store, instance.projects(), w, trace_id, issue_id, limit, search
    )


@router.get("/replays/{replay_id}", summary="One replay: segments, links and timeline")
def replay(replay_id: str, request: Request) -> dict[str, Any]:
    instance = instance_of(request)
    return replays.get_replay(instance.store, instance.projects(), replay_id)


@router.get("/replays/{replay_id}/recording", summary="The rrweb events of every segment")
def recording(replay_id: str, request: Request) -> dict[str, Any]:
    return replays.recording(instance_of(request).store, replay_id)
