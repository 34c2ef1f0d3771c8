"""One trace, stitched across services and projects, in the API's shape."""

from __future__ import annotations

import re
import time
from dataclasses import asdict
from typing import Any

from glasspane.domain import NON_FAILING_STATUSES, Project, Span
from glasspane.errors import NotFound, ProtocolError
from glasspane.query.logs import trace_logs
from glasspane.query.search import parse
from glasspane.query.trace_tree import attach, critical_path, to_node
from glasspane.sourcemaps.mapping import SourceMapper
from glasspane.store.api import Store
from glasspane.store.models import TraceError, Window

#: Links (replays of a trace) are looked up over all time.
ALL_TIME = Window(0.0, float("inf"))
#: At most this many JavaScript errors of a trace have their location mapped
#: through source maps (each costs a read of the event).
MAPPED_ERRORS = 50
_JS_FILE = re.compile(r"\.(?:m|c)?js(?:[?#]|$)")


def normalize_trace_id(trace_id: str) -> str:
    text = trace_id.strip().lower().replace("-", "")
    if len(text) != 32 or any(c not in "0123456789abcdef" for c in text):
        raise ProtocolError(f"Trace id {trace_id!r} is not 32 hex digits")
    return text


def span_json(span: Span, projects: dict[int, Project], known: set[str] | None) -> dict[str, Any]:
    """One span of a trace; ``known`` holds the trace's span ids (``None``: not a trace)."""
    project = projects.get(span.project_id)
    orphan = (
        span.parent_span_id is not None and known is not None and span.parent_span_id not in known
    )
    out: dict[str, Any] = {
        "span_id": span.span_id,
        "parent_span_id": span.parent_span_id,
        "segment_id": span.segment_id,
        "service": span.service,
        "project": project.name if project else str(span.project_id),
        "project_id": span.project_id,
        "transaction": span.transaction,
        "op": span.op,
        "description": span.description,
        "status": span.status,
        "start_timestamp": span.start_timestamp,
        "timestamp": span.timestamp,
        "duration_ms": round(span.duration_ms, 3),
        "is_transaction": span.is_segment,
        "orphan": orphan,
        "tags": span.tags,
        "data": span.data,
    }
    if span.is_segment:
        out.update(
            event_id=span.event_id,
            environment=span.environment,
            release=span.release,
            user={k: v for k, v in asdict(span.user).items() if v is not None},
            sample_rate=span.sample_rate,
            measurements=span.measurements,
            contexts=span.contexts,
            request=span.request,
            sdk=span.sdk,
            platform=span.platform,
        )
    return out


def error_json(error: TraceError, projects: dict[int, Project]) -> dict[str, Any]:
    project = projects.get(error.project_id)
    return {
        "event_id": error.event_id,
        "issue_id": error.issue_id,
        "span_id": error.span_id,
        "project": project.name if project else str(error.project_id),
        "project_id": error.project_id,
        "type": error.type,
        "value": error.value,
        "title": error.title,
        "level": error.level,
        "culprit": error.culprit,
        "transaction": error.transaction,
        "timestamp": error.timestamp,
        "location": asdict(error.location) if error.location else None,
        "contexts": error.contexts,
    }


def trace_status(spans: list[Span], errors: list[TraceError]) -> str:
    failed = any(s.status not in NON_FAILING_STATUSES for s in spans)
    return "error" if failed or errors else "ok"


def mark_critical(span_dicts: list[dict[str, Any]]) -> None:
    """Set ``critical: true`` on the spans that determined the trace's duration."""
    nodes = [to_node(d) for d in span_dicts]
    attach(nodes, [])
    on_path = critical_path(nodes)
    for index, span in enumerate(span_dicts):
        span["critical"] = index in on_path


def mapped_locations(store: Store, sourcemaps: SourceMapper, errors: list[dict[str, Any]]) -> None:
    """Give the JavaScript errors among ``errors`` their original location, from
    their events' frames mapped through source maps; the minified one is kept as
    ``raw_location``. Errors of other files, or without a map, stay as they are."""
    scripts = [e for e in errors if _is_script((e["location"] or {}).get("file"))]
    for error in scripts[:MAPPED_ERRORS]:
        if error["issue_id"] is None:
            continue
        payload = store.issue_event(error["issue_id"], error["event_id"])
        if payload is None:
            continue
        mapped = sourcemaps.map_event(error["project_id"], payload)
        location = _crash_location(mapped)
        if location is not None and location != error["location"]:
            error["raw_location"], error["location"] = error["location"], location


def _is_script(file: Any) -> bool:
    return isinstance(file, str) and _JS_FILE.search(file[-300:]) is not None


def _crash_location(payload: dict[str, Any]) -> dict[str, Any] | None:
    """As ingest picks it: the innermost in-app frame of the last exception, else the last."""
    exceptions = payload.get("exceptions")
    last = exceptions[-1] if isinstance(exceptions, list) and exceptions else {}
    frames = last.get("frames") if isinstance(last, dict) else None
    if not isinstance(frames, list) or not frames:
        return None
    frame = next((f for f in reversed(frames) if f.get("in_app")), frames[-1])
    return {
        "file": frame.get("filename") or frame.get("abs_path"),
        "line": frame.get("lineno"),
        "function": frame.get("function"),
    }


def get_trace(
    store: Store, projects: list[Project], trace_id: str, sourcemaps: SourceMapper | None = None
) -> dict[str, Any]:
    """The trace in the API's shape; :class:`NotFound` when nothing of it arrived.
    With ``sourcemaps``, JavaScript errors are located in their original sources."""
    trace_id = normalize_trace_id(trace_id)
    spans = store.trace_spans(trace_id)
    errors = store.trace_errors(trace_id)
    by_id = {p.id: p for p in projects}
    logs = trace_logs(store, by_id, trace_id)
    if not spans and not errors and not logs:
        raise NotFound(
            f"No trace {trace_id}: nothing with this trace id has arrived (yet). Check the id, "
            "or wait a moment if the SDK has not flushed"
        )
    known = {s.span_id for s in spans}
    services: list[str] = []
    for span in spans:
        if span.service not in services:
            services.append(span.service)
    times = [e.timestamp for e in errors] or [log["timestamp"] for log in logs]
    start = min([s.start_timestamp for s in spans] or times)
    end = max([s.timestamp for s in spans] or times)
    roots = [s for s in spans if s.is_segment and s.parent_span_id not in known]
    root = roots[0] if roots else None
    span_dicts = [span_json(s, by_id, known) for s in spans]
    mark_critical(span_dicts)
    error_dicts = [error_json(e, by_id) for e in errors]
    if sourcemaps is not None:
        mapped_locations(store, sourcemaps, error_dicts)
    return {
        "trace_id": trace_id,
        "transaction": root.transaction if root else None,
        "start_timestamp": start,
        "timestamp": end,
        "duration_ms": round((end - start) * 1000.0, 3),
        "status": trace_status(spans, errors),
        "services": services,
        "spans": span_dicts,
        "errors": error_dicts,
        "replay_ids": [r.replay_id for r in store.list_replays(ALL_TIME, trace_id, None, 20)],
        "logs": logs,
    }


def matching_spans(store: Store, trace_id: str, query: str) -> set[str]:
    """The ids of the trace's spans that meet the span-level terms of ``query``
    (``span.op``, ``span.description``, ``span.status``, ``span.duration``, tags,
    free text on descriptions); :class:`QueryError` for a query that is wrong."""
    tree = parse(query, time.time())
    return store.matching_span_ids(normalize_trace_id(trace_id), tree)
