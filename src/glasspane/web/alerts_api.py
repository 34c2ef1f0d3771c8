"""Alert rules and their state: ``GET /api/v1/alerts``, ``POST /api/v1/alerts/reload``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from glasspane.web.auth import require_admin
from glasspane.web.deps import instance_of

router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_admin)])


@router.get("/alerts", summary="Alert rules with state, value, threshold and history")
def alerts(request: Request) -> dict[str, Any]:
    return instance_of(request).alerts.snapshot()


@router.post("/alerts/reload", summary="Re-read the alert rules file")
def reload(request: Request) -> dict[str, Any]:
    engine = instance_of(request).alerts
    error = engine.reload()
    return {"reloaded": error is None, "error": error, "rules": len(engine.rules.rules)}
