"""Sentry ingest: ``/api/{project_id}/envelope/`` and the legacy ``/store/``.

A 200 is sent only after the writer has committed the data. Problems with
single items are reported (and counted) without losing the items beside them;
only when nothing usable was left does the request get a 400. Items over their
category's quota are dropped the same way (``quotas``): the answer names the
exhausted categories in ``X-Sentry-Rate-Limits``, and is a 429 only when
nothing was left.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from glasspane import server_metrics
from glasspane.domain import Batch, Outcome
from glasspane.errors import ItemError, LimitExceeded, ProtocolError
from glasspane.ingest.auth import authenticate, request_key
from glasspane.ingest.body import read_body
from glasspane.ingest.grouping import may_map, regroup
from glasspane.ingest.offload import off_loop
from glasspane.ingest.quotas import Admission, CategoryQuotas
from glasspane.ingest.ratelimit import limits_header, refused_outcomes
from glasspane.ingest.target import IngestTarget
from glasspane.normalize.context import IngestContext
from glasspane.normalize.envelope import normalize_envelope, normalize_item
from glasspane.normalize.sanitize import Policy, sanitize_batch
from glasspane.protocol.envelope import Envelope, Item, parse_envelope
from glasspane.protocol.streams import decompress

#: Bodies up to this size (decoded) are parsed and normalised on the event loop:
#: a few milliseconds at worst, whatever they hold, since every step is linear
#: (tests/unit/test_linear_time.py). Larger ones, and any whose items expand, are
#: handled in worker threads, so that one envelope delays only itself.
INLINE_PARSE_LIMIT = 64 * 1024
#: Items decompressed while normalised (up to 100 MiB): never normalised inline.
EXPANDING_ITEMS = frozenset({"replay_recording"})


def _instance(request: Request) -> IngestTarget:
    instance: IngestTarget = request.app.state.instance
    return instance


async def _decoded_body(request: Request, instance: IngestTarget) -> bytes:
    body = await read_body(request, instance.config.max_body_size)
    encoding = request.headers.get("content-encoding")
    if not encoding:
        return body
    limit = instance.config.max_decompressed_size
    if len(body) <= INLINE_PARSE_LIMIT < limit:
        # A small body is decoded here, but never past a small body's worth of
        # output: a bomb of a few KiB is decoded (again) in a thread.
        try:
            return decompress(body, encoding, INLINE_PARSE_LIMIT)
        except LimitExceeded:
            pass
    return await off_loop(decompress, body, encoding, limit)


def _context(
    request: Request, project_id: int, service: str, headers: dict[str, Any]
) -> IngestContext:
    instance = _instance(request)
    dsc = headers.get("trace")
    event_id = headers.get("event_id")
    return IngestContext(
        project_id=project_id,
        service=service,
        received_at=time.time(),
        client_ip=request.client.host if request.client else None,
        dsc=dsc if isinstance(dsc, dict) else {},
        envelope_event_id=event_id if isinstance(event_id, str) else None,
        max_spans=instance.config.max_spans_per_transaction,
    )


def _normalize(parsed: Envelope, ctx: IngestContext, policy: Policy) -> tuple[Batch, list[str]]:
    batch, problems = normalize_envelope(parsed, ctx)
    return sanitize_batch(batch, policy), problems


def _inline(body: bytes, parsed: Envelope | None = None) -> bool:
    """Whether the work on ``body`` is small enough for the event loop."""
    if len(body) > INLINE_PARSE_LIMIT:
        return False
    return parsed is None or not any(item.type in EXPANDING_ITEMS for item in parsed.items)


def _limit(request: Request, key: str) -> int:
    """Take one token of the key's rate limit (:class:`RateLimited` when empty)."""
    refused: int = request.app.state.rate_limiter.check(key)
    return refused


def _admit(request: Request, key: str, items: list[Item]) -> Admission:
    """The items within the key's per-category quotas (:class:`RateLimited` when none are)."""
    quotas: CategoryQuotas = request.app.state.quotas
    return quotas.admit(key, items)


def _dropped(request: Request, key: str, project_id: int, now: float) -> list[Outcome]:
    quotas: CategoryQuotas = request.app.state.quotas
    return quotas.dropped_outcomes(key, project_id, now)


async def _commit(request: Request, batch: Batch) -> None:
    if may_map(batch):  # maps are files, read and parsed off the event loop
        batch = await off_loop(regroup, batch, request.app.state.sourcemaps)
    if len(batch):
        await asyncio.wrap_future(_instance(request).write(batch))
    server_metrics.count_batch(batch)


def _answer(
    event_id: str | None, problems: list[str], exhausted: dict[str, int] | None = None
) -> Response:
    body: dict[str, Any] = {"id": event_id or uuid.uuid4().hex}
    if problems:
        body["errors"] = problems
    response = Response(orjson.dumps(body), media_type="application/json")
    if exhausted:  # a 200 that still holds back the categories over quota
        response.headers["X-Sentry-Rate-Limits"] = limits_header(exhausted)
    return response


async def envelope(request: Request) -> Response:
    instance = _instance(request)
    project_id = request.path_params["project_id"]
    key = request_key(request)
    refused = 0
    if key:  # refuse early, before reading a stranger's body or a limited key's
        authenticate(instance, project_id, key)
        refused = _limit(request, key)
    body = await _decoded_body(request, instance)
    limits = (instance.config.max_item_size, instance.config.max_envelope_items)
    if _inline(body):
        parsed = parse_envelope(body, *limits)
    else:
        parsed = await off_loop(parse_envelope, body, *limits)
    header_key = key or request_key(request, parsed.headers)
    project = authenticate(instance, project_id, header_key)
    if not key:
        refused = _limit(request, project.public_key)
    admission = _admit(request, project.public_key, parsed.items)
    parsed = dataclasses.replace(parsed, items=admission.kept)
    ctx = _context(request, project.id, project.name, parsed.headers)
    policy: Policy = request.app.state.policy
    if _inline(body, parsed):
        batch, problems = _normalize(parsed, ctx, policy)
    else:
        batch, problems = await off_loop(_normalize, parsed, ctx, policy)
    batch.outcomes.extend(refused_outcomes(project.id, refused, ctx.received_at))
    batch.outcomes.extend(_dropped(request, project.public_key, project.id, ctx.received_at))
    await _commit(request, batch)
    if problems and len(batch) == len(batch.outcomes):  # nothing usable was left
        raise ProtocolError("; ".join(problems))
    event_id = ctx.envelope_event_id or _first_event_id(batch)
    return _answer(event_id, problems, admission.exhausted)


def _first_event_id(batch: Batch) -> str | None:
    if batch.errors:
        return batch.errors[0].event_id
    return next((s.event_id for s in batch.spans if s.event_id), None)


def _normalize_event(item: Item, ctx: IngestContext, policy: Policy) -> Batch:
    try:
        batch = normalize_item(item, ctx)
    except ItemError as exc:
        raise ProtocolError(str(exc).replace('Envelope item 1 ("event")', "Event body")) from None
    return sanitize_batch(batch, policy)


async def store(request: Request) -> Response:
    """The legacy endpoint: one event (or transaction) as a JSON body."""
    instance = _instance(request)
    project_id = request.path_params["project_id"]
    project = authenticate(instance, project_id, request_key(request))
    refused = _limit(request, project.public_key)
    body = await _decoded_body(request, instance)
    ctx = _context(request, project.id, project.name, {})
    item = Item(1, "event", {}, body)
    _admit(request, project.public_key, [item])
    policy: Policy = request.app.state.policy
    if _inline(body):
        batch = _normalize_event(item, ctx, policy)
    else:
        batch = await off_loop(_normalize_event, item, ctx, policy)
    batch.outcomes.extend(refused_outcomes(project.id, refused, ctx.received_at))
    batch.outcomes.extend(_dropped(request, project.public_key, project.id, ctx.received_at))
    await _commit(request, batch)
    return _answer(_first_event_id(batch), [])


#: Plain Starlette routes: ingest is the hot path, so it skips FastAPI's
#: per-request dependency and validation machinery.
ROUTES = [
    Route("/api/{project_id}/envelope/", envelope, methods=["POST"]),
    Route("/api/{project_id}/envelope", envelope, methods=["POST"]),
    Route("/api/{project_id}/store/", store, methods=["POST"]),
    Route("/api/{project_id}/store", store, methods=["POST"]),
]
