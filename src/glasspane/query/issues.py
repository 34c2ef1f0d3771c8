"""Issues in the API's shapes: the list, one issue with its latest event, its
events and related issues, and status changes (docs/semantics.md "Issues").

``count``, ``users`` and ``series`` are over the window's matching events;
``first_seen``, ``last_seen`` and ``total`` over all time. Every status is
listed unless the query says ``is:unresolved|resolved|ignored``.
"""

from __future__ import annotations

from typing import Any

from glasspane.domain import Project
from glasspane.errors import NotFound, ProtocolError
from glasspane.sourcemaps.mapping import SourceMapper
from glasspane.store.api import IssueStore, Store
from glasspane.store.models import IssueEvent, IssueSummary, RelatedIssue, TagBreakdown, Window

SERIES_BUCKETS = 24
#: Values shown per tag; the rest are counted together as ``other``.
TOP_TAG_VALUES = 5
DEFAULT_SORT = "-last_seen"
MAX_LIMIT = 1000
#: Contexts every SDK sends; the others (``blockchain`` ...) are the app's own.
STANDARD_CONTEXTS = frozenset(
    {"trace", "runtime", "os", "device", "browser", "app", "culture", "cloud_resource"}
)


def _limit(limit: int, what: str = "limit") -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ProtocolError(f"{what} must be between 1 and {MAX_LIMIT}, got {limit}")
    return limit


def _project_name(projects: dict[int, Project], project_id: int) -> str:
    project = projects.get(project_id)
    return project.name if project else str(project_id)


def issue_json(issue: IssueSummary, projects: dict[int, Project]) -> dict[str, Any]:
    return {
        "id": issue.id,
        "title": issue.title,
        "category": issue.category,
        "type": issue.type,
        "value": issue.value,
        "culprit": issue.culprit,
        "level": issue.level,
        "status": issue.status,
        "count": issue.count,
        "users": issue.users,
        "first_seen": issue.first_seen,
        "last_seen": issue.last_seen,
        "project": _project_name(projects, issue.project_id),
        "project_id": issue.project_id,
        "total_count": issue.total,
        "regressed": issue.regressed_at is not None,
        "regressed_at": issue.regressed_at,
        "series": issue.series,
    }


def list_issues(
    store: IssueStore, projects: list[Project], window: Window, sort: str, limit: int
) -> dict[str, Any]:
    """``{issues: [...], interval}``; ``interval`` is the seconds per series point."""
    by_id = {p.id: p for p in projects}
    rows = store.list_issues(window, sort, _limit(limit), SERIES_BUCKETS)
    return {
        "issues": [issue_json(i, by_id) for i in rows],
        "interval": (window.end - window.start) / SERIES_BUCKETS,
    }


def _issue(store: IssueStore, issue_id: int, window: Window) -> IssueSummary:
    issue = store.get_issue(issue_id, window, SERIES_BUCKETS)
    if issue is None:
        raise NotFound(f"No issue {issue_id}: list the issues with GET /api/v1/issues")
    return issue


def issue_detail(
    store: Store,
    projects: list[Project],
    issue_id: int,
    window: Window,
    events: int,
    sourcemaps: SourceMapper | None = None,
) -> dict[str, Any]:
    """The issue, its latest event in full, the first page of its events, related issues."""
    by_id = {p.id: p for p in projects}
    issue = _issue(store, issue_id, window)
    latest = store.issue_event(issue_id)
    return {
        **issue_json(issue, by_id),
        "latest_event": event_json(_mapped(latest, sourcemaps)) if latest else None,
        **events_page(store, issue_id, events, 0),
        "related": [related_json(r, by_id) for r in store.related_issues(issue_id)],
        "replay_ids": [
            r.replay_id for r in store.list_replays(Window(0.0, float("inf")), None, issue_id, 20)
        ],
    }


def events_page(store: IssueStore, issue_id: int, limit: int, offset: int) -> dict[str, Any]:
    """``{events: [...], next_offset}``; ``next_offset`` is null on the last page."""
    if offset < 0:
        raise ProtocolError(f"offset must be 0 or more, got {offset}")
    rows = store.issue_events(issue_id, _limit(limit) + 1, offset)
    more = len(rows) > limit
    return {
        "events": [event_row_json(e) for e in rows[:limit]],
        "next_offset": offset + limit if more else None,
    }


def issue_events(store: IssueStore, issue_id: int, window: Window, limit: int, offset: int) -> dict:
    _issue(store, issue_id, window)
    return events_page(store, issue_id, limit, offset)


def issue_event(
    store: IssueStore, issue_id: int, event_id: str, sourcemaps: SourceMapper | None = None
) -> dict[str, Any]:
    payload = store.issue_event(issue_id, event_id.replace("-", "").lower())
    if payload is None:
        raise NotFound(f"No event {event_id} in issue {issue_id}")
    return event_json(_mapped(payload, sourcemaps))


#: How many of an issue's newest events the event page looks through for its neighbours.
NEIGHBOUR_SCAN = 500


def event_neighbours(store: IssueStore, issue_id: int, event_id: str) -> dict[str, str | None]:
    """``{newer, older}``: the event ids next to ``event_id`` in the issue's events,
    newest first. Only the newest ``NEIGHBOUR_SCAN`` events are looked through, so an
    older event has no neighbours here (the events list still pages to it)."""
    wanted = event_id.replace("-", "").lower()
    ids = [e.event_id for e in store.issue_events(issue_id, NEIGHBOUR_SCAN)]
    if wanted not in ids:
        return {"newer": None, "older": None}
    at = ids.index(wanted)
    return {
        "newer": ids[at - 1] if at > 0 else None,
        "older": ids[at + 1] if at + 1 < len(ids) else None,
    }


def _mapped(payload: dict[str, Any], sourcemaps: SourceMapper | None) -> dict[str, Any]:
    """The stored event with its JavaScript frames mapped through uploaded source maps."""
    project_id = payload.get("project_id")
    if sourcemaps is None or not isinstance(project_id, int):
        return payload
    return sourcemaps.map_event(project_id, payload)


def set_status(
    store: IssueStore, projects: list[Project], issue_id: int, status: str, window: Window
) -> dict[str, Any]:
    if not store.set_issue_status(issue_id, status):
        raise NotFound(f"No issue {issue_id}: list the issues with GET /api/v1/issues")
    return issue_json(_issue(store, issue_id, window), {p.id: p for p in projects})


def issue_tags(store: IssueStore, issue_id: int, window: Window) -> dict[str, Any]:
    """``{tags: [...]}``: each tag's top values over the issue's events matching the
    window, with their shares of the events that carry the tag."""
    _issue(store, issue_id, window)
    return {"tags": [tag_json(t) for t in store.issue_tags(issue_id, window, TOP_TAG_VALUES)]}


def tag_json(tag: TagBreakdown) -> dict[str, Any]:
    def share(count: int) -> float:
        return round(count / tag.total, 4) if tag.total else 0.0

    return {
        "key": tag.key,
        "total": tag.total,
        "values": [{"value": v, "count": n, "share": share(n)} for v, n in tag.values],
        "other": {"count": tag.other, "share": share(tag.other)},
    }


def related_json(related: RelatedIssue, projects: dict[int, Project]) -> dict[str, Any]:
    return {
        "id": related.id,
        "title": related.title,
        "culprit": related.culprit,
        "status": related.status,
        "project": _project_name(projects, related.project_id),
        "project_id": related.project_id,
        "shared_traces": related.shared_traces,
    }


def event_row_json(event: IssueEvent) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "timestamp": event.timestamp,
        "trace_id": event.trace_id,
        "span_id": event.span_id,
        "transaction": event.transaction,
        "service": event.service,
        "environment": event.environment,
        "release": event.release,
        "level": event.level,
        "value": event.value,
        "user": event.user,
    }


# -- one event in full (from the stored ErrorEvent JSON) ------------------------------


def frame_json(frame: dict[str, Any]) -> dict[str, Any]:
    return {
        "file": frame.get("filename") or frame.get("abs_path"),
        "abs_path": frame.get("abs_path"),
        "function": frame.get("function"),
        "module": frame.get("module"),
        "line": frame.get("lineno"),
        "column": frame.get("colno"),
        "in_app": frame.get("in_app"),
        "context_line": frame.get("context_line"),
        "pre_context": frame.get("pre_context") or [],
        "post_context": frame.get("post_context") or [],
        "vars": frame.get("vars") or {},
        # The minified location, when the frame was mapped through a source map.
        "raw": frame.get("raw"),
    }


def exception_json(exc: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": exc.get("type"),
        "value": exc.get("value"),
        "module": exc.get("module"),
        "mechanism": exc.get("mechanism") or {},
        "frames": [frame_json(f) for f in exc.get("frames") or []],
    }


def event_json(payload: dict[str, Any]) -> dict[str, Any]:
    """An event as the issue page shows it. ``exceptions`` is the chain, the cause
    first (as the SDKs send it); frames run from the outermost call to the crash."""
    contexts = payload.get("contexts") or {}
    user = {k: v for k, v in (payload.get("user") or {}).items() if v is not None}
    trace_id = payload.get("trace_id")
    return {
        "event_id": payload.get("event_id"),
        "timestamp": payload.get("timestamp"),
        "received_at": payload.get("received_at"),
        "level": payload.get("level"),
        "platform": payload.get("platform"),
        "title": payload.get("title"),
        "message": payload.get("message"),
        "culprit": payload.get("culprit"),
        "location": payload.get("location"),
        "exceptions": [exception_json(e) for e in payload.get("exceptions") or []],
        "contexts": contexts,
        "custom_contexts": {k: v for k, v in contexts.items() if k not in STANDARD_CONTEXTS},
        "tags": payload.get("tags") or {},
        "user": user,
        "breadcrumbs": payload.get("breadcrumbs") or [],
        "request": payload.get("request") or {},
        "release": payload.get("release"),
        "environment": payload.get("environment"),
        "transaction": payload.get("transaction"),
        "service": payload.get("service"),
        "trace_id": trace_id,
        "span_id": payload.get("span_id"),
        "trace_url": f"/api/v1/traces/{trace_id}" if trace_id else None,
        "extra": payload.get("extra") or {},
        "sdk": payload.get("sdk") or {},
        "fingerprint": payload.get("fingerprint"),
        "category": payload.get("category") or "error",
        # A performance issue's: {span_ids, statement, repeated, duration_ms}; else null.
        "evidence": payload.get("evidence") or None,
    }
