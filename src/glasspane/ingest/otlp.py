"""OTLP/HTTP receivers: ``/v1/{signal}`` and ``/api/{project_id}/integration/otlp/v1/{signal}``.

The project key comes from ``X-Sentry-Auth`` (Sentry's OTLP integrations), an
``Authorization: Bearer <key>`` header, or the ``sentry_key`` parameter. The
answer is what the exporters expect: ``{}`` (JSON) or an empty protobuf
message, with a partial success when some data was dropped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from glasspane import server_metrics
from glasspane.domain import Batch, Project
from glasspane.errors import AuthError, NotFound
from glasspane.ingest.auth import authenticate, request_key
from glasspane.ingest.body import read_body
from glasspane.ingest.offload import off_loop
from glasspane.ingest.quotas import CategoryQuotas
from glasspane.ingest.ratelimit import refused_outcomes
from glasspane.ingest.target import IngestTarget
from glasspane.normalize.context import IngestContext
from glasspane.normalize.otlp_logs import normalize_logs
from glasspane.normalize.otlp_metrics import normalize_metrics
from glasspane.normalize.otlp_traces import normalize_traces
from glasspane.normalize.sanitize import Policy, sanitize_batch
from glasspane.protocol import otlp
from glasspane.protocol.streams import decompress

NORMALIZERS: dict[str, Callable[[Any, IngestContext], Batch]] = {
    "traces": normalize_traces,
    "logs": normalize_logs,
    "metrics": normalize_metrics,
}
SIGNALS = tuple(NORMALIZERS)


def _key(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request_key(request)


def _project(request: Request, instance: IngestTarget) -> Project:
    key = _key(request)
    path_id = request.path_params.get("project_id")
    if path_id is not None:
        return authenticate(instance, path_id, key)
    project = instance.project_by_key(key) if key else None
    if project is None:
        raise AuthError(
            "OTLP needs a project key: set the exporter header "
            '"Authorization=Bearer <DSN public key>" (OTEL_EXPORTER_OTLP_HEADERS), '
            "or use the sentry_key parameter"
        )
    return project


def _normalize(signal: str, message: Any, ctx: IngestContext, policy: Policy) -> Batch:
    return sanitize_batch(NORMALIZERS[signal](message, ctx), policy)


async def receive(request: Request) -> Response:
    instance: IngestTarget = request.app.state.instance
    signal = request.path_params["signal"]
    if signal not in SIGNALS:
        raise NotFound(f"OTLP signal {signal!r} is unknown; use traces, logs or metrics")
    project = _project(request, instance)
    refused: int = request.app.state.rate_limiter.check(project.public_key)
    body = await read_body(request, instance.config.max_body_size)
    body = await off_loop(
        decompress,
        body,
        request.headers.get("content-encoding"),
        instance.config.max_decompressed_size,
    )
    content_type = request.headers.get("content-type")
    message = await off_loop(otlp.decode, signal, body, content_type)
    ctx = IngestContext(
        project.id,
        project.name,
        time.time(),
        client_ip=request.client.host if request.client else None,
    )
    batch = await off_loop(_normalize, signal, message, ctx, request.app.state.policy)
    # An export is one message: over its category's quota it is refused whole (429).
    quotas: CategoryQuotas = request.app.state.quotas
    quotas.admit_count(project.public_key, QUOTA_CATEGORY[signal], _quantity(signal, batch))
    rejected = sum(o.quantity for o in batch.outcomes)
    reasons = sorted({f"{o.category} ({o.reason})" for o in batch.outcomes})
    # earlier refused requests are counted, but are not this request's rejections
    batch.outcomes.extend(refused_outcomes(project.id, refused, ctx.received_at))
    batch.outcomes.extend(quotas.dropped_outcomes(project.public_key, project.id, ctx.received_at))
    if len(batch):
        await asyncio.wrap_future(instance.write(batch))
    server_metrics.count_batch(batch)
    note = f"glasspane does not store {', '.join(reasons)}" if rejected else ""
    payload, media_type = otlp.encode_response(signal, content_type, rejected, note)
    return Response(payload, media_type=media_type)


#: The data category each OTLP signal counts against (``rate_limit_categories``).
QUOTA_CATEGORY = {"traces": "span", "logs": "log_item", "metrics": "trace_metric"}


def _quantity(signal: str, batch: Batch) -> int:
    if signal == "traces":
        return len(batch.spans)
    return len(batch.logs) if signal == "logs" else len(batch.metrics)


ROUTES = [
    Route("/v1/{signal}", receive, methods=["POST"]),
    Route("/v1/{signal}/", receive, methods=["POST"]),
    Route("/api/{project_id}/integration/otlp/v1/{signal}", receive, methods=["POST"]),
    Route("/api/{project_id}/integration/otlp/v1/{signal}/", receive, methods=["POST"]),
]
