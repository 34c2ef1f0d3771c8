"""Logs and metrics under ``/api/v1`` (admin token required)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from glasspane.query import logs, metrics
from glasspane.query.performance import window
from glasspane.web.auth import require_admin
from glasspane.web.deps import instance_of

router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_admin)])

PeriodParam = Query(None, description="15m, 1h, 24h (default), 7d")


@router.get("/logs", summary="Logs matching a query, newest first")
def list_logs(
    request: Request,
    query: str | None = Query(
        None, description='Search query, e.g. level:warn service:api "timed out" logger.name:app'
    ),
    period: str | None = PeriodParam,
    limit: int = Query(logs.DEFAULT_LIMIT, description=f"At most {logs.MAX_LIMIT}"),
) -> dict[str, Any]:
    instance = instance_of(request)
    return logs.list_logs(instance.store, instance.projects(), window(query, period), limit)


@router.get("/metrics", summary="One metric's series: count, sum, avg, min, max, p50, p95")
def metric_series(
    request: Request,
    name: str = Query(description="Metric name, e.g. cases.created"),
    query: str | None = Query(None, description="Filter, e.g. service:api tier:gold"),
    period: str | None = PeriodParam,
    interval: float | None = Query(None, description="Bucket seconds (default period/60)"),
    group_by: str | None = Query(None, description="A column (service, ...) or an attribute"),
) -> dict[str, Any]:
    store = instance_of(request).store
    return metrics.metric_series(store, name, window(query, period), interval, group_by)


@router.get("/metrics/names", summary="Metrics with points in the period, with type and unit")
def metric_names(
    request: Request,
    query: str | None = Query(None, description="Filter, e.g. service:api"),
    period: str | None = PeriodParam,
) -> dict[str, Any]:
    return metrics.list_metrics(instance_of(request).store, window(query, period))
