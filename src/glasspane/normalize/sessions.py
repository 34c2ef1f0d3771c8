"""Release health: ``session`` updates and ``sessions`` aggregates.

A release is required, as Sentry requires it: health is per release, and a
session without one could not be counted anywhere. ``unhandled`` (the browser
SDK's status after an uncaught error) is kept as its own status.
"""

from __future__ import annotations

from typing import Any

from glasspane.domain import SESSION_STATUSES, Batch, SessionAggregate, SessionUpdate
from glasspane.errors import ItemError
from glasspane.normalize.context import IngestContext
from glasspane.normalize.values import mapping, text, timestamp

#: What each aggregate counter means as a session status.
AGGREGATE_COUNTERS = ("exited", "errored", "abnormal", "unhandled", "crashed")


def _release(attrs: dict[str, Any], what: str) -> str:
    release = text(attrs.get("release"))
    if not release:
        raise ItemError(
            f"{what} has no attrs.release: release health is counted per release; set "
            "release in the SDK's init",
            "missing_release",
        )
    return release


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return 0
    return int(value)


def normalize_session(payload: Any, ctx: IngestContext, what: str, batch: Batch) -> None:
    if not isinstance(payload, dict):
        raise ItemError(f"{what} must be a JSON object")
    attrs = mapping(payload.get("attrs"))
    sid = text(payload.get("sid"))
    if not sid:
        raise ItemError(f"{what} has no sid")
    status = text(payload.get("status")) or "ok"
    if status not in SESSION_STATUSES:
        raise ItemError(
            f"{what} has an unknown status {status!r}; expected one of "
            f"{', '.join(SESSION_STATUSES)}"
        )
    raw_ts = payload.get("timestamp")
    ts = ctx.received_at if raw_ts is None else timestamp(raw_ts, f"{what} timestamp")
    raw_started = payload.get("started")
    duration = payload.get("duration")
    batch.sessions.append(
        SessionUpdate(
            project_id=ctx.project_id,
            session_id=sid.replace("-", "").lower()[:64],
            distinct_id=text(payload.get("did")),
            release=_release(attrs, what),
            environment=text(attrs.get("environment")),
            status=status,
            errors=_count(payload.get("errors")),
            started=ts if raw_started is None else timestamp(raw_started, f"{what} started"),
            timestamp=ts,
            init=payload.get("init") is True,
            duration=float(duration) if isinstance(duration, (int, float)) else None,
            received_at=ctx.received_at,
        )
    )


def normalize_sessions(payload: Any, ctx: IngestContext, what: str, batch: Batch) -> None:
    if not isinstance(payload, dict):
        raise ItemError(f"{what} must be a JSON object")
    attrs = mapping(payload.get("attrs"))
    release = _release(attrs, what)
    aggregates = payload.get("aggregates")
    if not isinstance(aggregates, list):
        raise ItemError(f"{what} has no aggregates list")
    for index, entry in enumerate(aggregates):
        entry = mapping(entry)
        if entry.get("started") is None:
            raise ItemError(f"{what} aggregates[{index}] has no started time")
        counts = {name: _count(entry.get(name)) for name in AGGREGATE_COUNTERS}
        batch.session_aggregates.append(
            SessionAggregate(
                project_id=ctx.project_id,
                release=release,
                environment=text(attrs.get("environment")),
                started=timestamp(entry["started"], f"{what} aggregates[{index}].started"),
                distinct_id=text(entry.get("did")),
                received_at=ctx.received_at,
                **counts,
            )
        )
