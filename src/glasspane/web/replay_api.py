"""Session replays under ``/api/v1/replays`` (admin token required)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from glasspane.query import replays
from glasspane.web.auth import require_admin
from glasspane.web.deps import instance_of

router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_admin)])


@router.get("/replays", summary="Replays in the period, or those of a trace or an issue")
def list_replays(
    request: Request,
    period: str | None = Query(None, description="15m, 1h, 24h (default), 7d"),
    trace_id: str | None = Query(None, description="Only replays that saw this trace"),
    issue_id: int | None = Query(None, description="Only replays that saw this issue"),
    limit: int = Query(50, description="At most 1000"),
) -> dict[str, Any]:
    instance = instance_of(request)
    w = replays.period_window(period)
    return replays.list_replays(instance.store, instance.projects(), w, trace_id, issue_id, limit)


@router.get("/replays/{replay_id}", summary="One replay: segments, links and timeline")
def replay(replay_id: str, request: Request) -> dict[str, Any]:
    instance = instance_of(request)
    return replays.get_replay(instance.store, instance.projects(), replay_id)


@router.get("/replays/{replay_id}/recording", summary="The rrweb events of every segment")
def recording(replay_id: str, request: Request) -> dict[str, Any]:
    return replays.recording(instance_of(request).store, replay_id)
