"""Sentry ``log`` items → log records (protocol.md §5.4).

The container is ``{"version": 2, "items": [...]}``; each entry has a
timestamp, a level, a body, the trace id and typed attributes. The SDKs differ
on where the span and the severity go: Python sends ``span_id`` and puts the
severity in ``sentry.severity_number``; JavaScript sends a top-level
``severity_number`` and the span in ``sentry.trace.parent_span_id``. An entry
that cannot be used is dropped and counted; the entries beside it are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from glasspane.domain import LOG_LEVELS, Batch, LogRecord, Outcome
from glasspane.errors import ItemError
from glasspane.normalize.context import IngestContext
from glasspane.normalize.spans_v2 import flatten_attributes
from glasspane.normalize.values import mapping, optional_hex_id, text, timestamp

T = TypeVar("T")

#: Level spellings seen from SDKs and logging libraries → Sentry's names.
LEVEL_ALIASES = {"warning": "warn", "critical": "fatal", "err": "error", "information": "info"}


def container_items(payload: Any, what: str) -> list[Any]:
    """The ``items`` of a v2 container (logs, metrics); :class:`ItemError` if absent."""
    items = payload.get("items") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        raise ItemError(f'{what} must be an object with an "items" list')
    return items


def each_entry(
    payload: Any,
    ctx: IngestContext,
    what: str,
    convert: Callable[[Any, IngestContext, str], T],
    noun: str,
    category: str,
) -> tuple[list[T], list[Outcome]]:
    """Every usable entry of a v2 container, and one outcome counting the dropped ones."""
    kept: list[T] = []
    dropped = 0
    for i, raw in enumerate(container_items(payload, what)):
        try:
            kept.append(convert(raw, ctx, f"{what} {noun} {i}"))
        except ItemError:
            dropped += 1
    outcomes = [Outcome(ctx.project_id, category, "invalid", dropped, ctx.received_at)]
    return kept, outcomes if dropped else []


def level_name(level: Any, severity_number: int | None) -> str:
    """Sentry's level name from the SDK's level, else from the severity number."""
    name = text(level)
    if name:
        name = name.strip().lower()
        name = LEVEL_ALIASES.get(name, name)
        if name in LOG_LEVELS:
            return name
    if severity_number is not None:
        return severity_level(severity_number)
    return "info"


def severity_level(number: int) -> str:
    """OpenTelemetry severity 1-24 → level (1-4 trace ... 21-24 fatal); 0 is info."""
    if number <= 0:
        return "info"
    names = list(LOG_LEVELS)
    return names[min((number - 1) // 4, len(names) - 1)]


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def normalize_log(raw: Any, ctx: IngestContext, what: str) -> LogRecord:
    raw = mapping(raw)
    if not raw:
        raise ItemError(f"{what} must be a JSON object")
    attrs = flatten_attributes(raw.get("attributes"))
    severity = _int(raw.get("severity_number"))
    if severity is None:
        severity = _int(attrs.get("sentry.severity_number"))
    level = level_name(raw.get("level"), severity)
    span_id = raw.get("span_id") or attrs.get("sentry.trace.parent_span_id")
    when = raw.get("timestamp")
    return LogRecord(
        project_id=ctx.project_id,
        timestamp=ctx.received_at if when is None else timestamp(when, f"{what} timestamp"),
        level=level,
        body=text(raw.get("body")) or "",
        service=ctx.service,
        trace_id=optional_hex_id(raw.get("trace_id"), 32, f"{what} trace_id"),
        span_id=optional_hex_id(span_id, 16, f"{what} span_id"),
        severity_number=severity if severity is not None else LOG_LEVELS[level],
        attributes=attrs,
        environment=text(attrs.get("sentry.environment")) or text(ctx.dsc.get("environment")),
        release=text(attrs.get("sentry.release")) or text(ctx.dsc.get("release")),
    )


def handle_log_item(payload: Any, ctx: IngestContext, what: str, batch: Batch) -> None:
    """The envelope handler for ``log`` items."""
    logs, outcomes = each_entry(payload, ctx, what, normalize_log, "log", "log_item")
    batch.logs.extend(logs)
    batch.outcomes.extend(outcomes)
