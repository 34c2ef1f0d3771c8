"""The server's own health: ``GET /api/v1/status`` and ``GET /metrics`` (admin token)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from glasspane import __version__, server_metrics, server_status
from glasspane.store.location import StoreLocation, store_location
from glasspane.web.auth import require_admin
from glasspane.web.deps import instance_of

router = APIRouter(dependencies=[Depends(require_admin)])


def _location(request: Request) -> StoreLocation:
    instance = instance_of(request)
    return store_location(instance.config.store, instance.config.data_path)


@router.get("/api/v1/status", summary="Ingest rate, writer queue, journal lag, store size")
def status(request: Request) -> dict[str, Any]:
    """``accepted_per_s`` and ``stored_per_s`` are over the last 10 seconds, counted
    over every glasspane process; ``disk_bytes`` is null for a ClickHouse server."""
    location = _location(request)
    return {
        "version": __version__,
        "store": {"kind": location.kind, "location": location.location},
        "ingest": asdict(server_status.ingest_status()),
        "disk_bytes": location.disk_bytes(),
    }


@router.get(
    "/metrics",
    summary="glasspane's own metrics in Prometheus text format",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
def metrics(request: Request) -> Response:
    body, content_type = server_metrics.render(_location(request).disk_bytes())
    return Response(body, media_type=content_type)
