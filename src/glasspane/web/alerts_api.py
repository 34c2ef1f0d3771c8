"""Alert rules and their state: ``GET /api/v1/alerts``, ``POST /api/v1/alerts/reload``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from glasspane.web.auth import Admin, require_viewer
from glasspane.web.deps import instance_of

router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_viewer)])


@router.get("/alerts", summary="Alert rules with state, value, threshold and history")
def alerts(request: Request) -> dict[str, Any]:
    return instance_of(request).alerts.snapshot()


@router.post("/alerts/reload", summary="Re-read the alert rules file")
def reload(request: Request, actor: Admin) -> dict[str, Any]:
    instance = instance_of(request)
    engine = instance.alerts
    error = engine.reload()
    instance.accounts.record(actor, "alerts.reload", "alert rules", error or "")
    return {"reloaded": error is None, "error": error, "rules": len(engine.rules.rules)}


@router.get(
    "/alerts/{name:path}",
    summary="One alert rule with its affected users, recent errors, metric series and links",
)
def alert(request: Request, name: str) -> dict[str, Any]:
    return instance_of(request).alerts.detail(name)
