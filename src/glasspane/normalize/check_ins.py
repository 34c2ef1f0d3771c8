"""Cron monitors: ``check_in`` items → :class:`CheckIn`.

A run is one ``check_in_id``: the Python ``@monitor`` sends ``in_progress`` and
then ``ok`` or ``error`` with the same id; a heartbeat sends only the closing
status. Node omits ``timestamp``, so the arrival time stands in for it.
"""

from __future__ import annotations

import uuid
from typing import Any

from glasspane.domain import Batch, CheckIn
from glasspane.errors import ItemError
from glasspane.normalize.context import IngestContext
from glasspane.normalize.values import mapping, optional_hex_id, text, timestamp

STATUSES = frozenset({"in_progress", "ok", "error"})
MAX_SLUG = 128


def normalize_check_in(payload: Any, ctx: IngestContext, what: str, batch: Batch) -> None:
    if not isinstance(payload, dict):
        raise ItemError(f"{what} must be a JSON object")
    slug = text(payload.get("monitor_slug"))
    if not slug or len(slug) > MAX_SLUG:
        raise ItemError(f"{what} needs a monitor_slug of 1-{MAX_SLUG} characters")
    status = text(payload.get("status"))
    if status not in STATUSES:
        raise ItemError(f"{what} status must be in_progress, ok or error, got {status!r}")
    check_in_id = optional_hex_id(payload.get("check_in_id"), 32, f"{what} check_in_id")
    raw_ts = payload.get("timestamp")
    duration = payload.get("duration")
    trace = mapping(mapping(payload.get("contexts")).get("trace"))
    batch.check_ins.append(
        CheckIn(
            project_id=ctx.project_id,
            check_in_id=check_in_id or uuid.uuid4().hex,
            monitor_slug=slug,
            status=status,
            timestamp=ctx.received_at if raw_ts is None else timestamp(raw_ts, f"{what} timestamp"),
            duration=float(duration)
            if isinstance(duration, (int, float)) and not isinstance(duration, bool)
            else None,
            environment=text(payload.get("environment")),
            release=text(payload.get("release")),
            trace_id=optional_hex_id(trace.get("trace_id"), 32, f"{what} contexts.trace.trace_id"),
            monitor_config=mapping(payload.get("monitor_config")),
            received_at=ctx.received_at,
        )
    )
