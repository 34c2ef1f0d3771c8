"""Logs in the API's shape: searched (newest first), and under a trace's spans."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from glasspane.domain import LogRecord, Project
from glasspane.errors import ProtocolError
from glasspane.filters import And, Cmp
from glasspane.query.performance import window
from glasspane.store.api import LogMetricReader
from glasspane.store.models import Window

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
#: A trace shows at most this many logs (oldest first); the logs API pages the rest.
TRACE_LOG_LIMIT = 1000
#: The levels logs are stored with (``normalize.logs``), least severe first.
LEVELS = ("trace", "debug", "info", "warn", "error", "fatal")


def level_window(query: str | None, period: str | None, level: str | None) -> Window:
    """The window of a search narrowed to one level (the logs page's level filter)."""
    w = window(query, period)
    if not level:
        return w
    if level not in LEVELS:
        raise ProtocolError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    only = Cmp("level", "=", level)
    return replace(w, filter=only if w.filter is None else And((w.filter, only)))


def log_json(log: LogRecord, projects: dict[int, Project]) -> dict[str, Any]:
    project = projects.get(log.project_id)
    return {
        "timestamp": log.timestamp,
        "level": log.level,
        "severity_number": log.severity_number,
        "body": log.body,
        "trace_id": log.trace_id,
        "span_id": log.span_id,
        "service": log.service,
        "project": project.name if project else str(log.project_id),
        "project_id": log.project_id,
        "environment": log.environment,
        "release": log.release,
        "attributes": log.attributes,
    }


def list_logs(
    store: LogMetricReader, projects: list[Project], w: Window, limit: int = DEFAULT_LIMIT
) -> dict[str, Any]:
    if not 1 <= limit <= MAX_LIMIT:
        raise ProtocolError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    by_id = {p.id: p for p in projects}
    return {"logs": [log_json(log, by_id) for log in store.list_logs(w, limit)]}


def trace_logs(
    store: LogMetricReader, projects: dict[int, Project], trace_id: str
) -> list[dict[str, Any]]:
    """The trace's logs, oldest first, each with the span it was written in (or None)."""
    return [log_json(log, projects) for log in store.trace_logs(trace_id, TRACE_LOG_LIMIT)]
