"""User feedback in the API's shape, linked to its replay, trace and error."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from glasspane.domain import Feedback, Project
from glasspane.errors import ProtocolError
from glasspane.store.api import SdkItemReader, TraceReader
from glasspane.store.models import Window

MAX_LIMIT = 1000


def feedback_json(f: Feedback, projects: dict[int, Project]) -> dict[str, Any]:
    project = projects.get(f.project_id)
    return {
        "event_id": f.event_id,
        "project": project.name if project else str(f.project_id),
        "project_id": f.project_id,
        "timestamp": f.timestamp,
        "message": f.message,
        "name": f.name,
        "contact_email": f.contact_email,
        "url": f.url,
        "replay_id": f.replay_id,
        "associated_event_id": f.associated_event_id,
        "trace_id": f.trace_id,
        "environment": f.environment,
        "release": f.release,
        "user": {k: v for k, v in asdict(f.user).items() if v is not None},
        "tags": f.tags,
    }


def list_feedback(
    store: SdkItemReader, projects: list[Project], window: Window, replay_id: str | None, limit: int
) -> dict[str, Any]:
    if not 1 <= limit <= MAX_LIMIT:
        raise ProtocolError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    by_id = {p.id: p for p in projects}
    rows = store.list_feedback(window, replay_id, limit)
    return {"feedback": [feedback_json(f, by_id) for f in rows]}


def with_errors(store: TraceReader, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each feedback with ``error``: the issue and title of the error it is about,
    when that error has arrived (else ``None``; the id alone is still shown)."""
    ids = sorted({r["associated_event_id"] for r in rows if r["associated_event_id"]})
    found = {e.event_id: e for e in store.errors_by_id(ids)} if ids else {}
    for r in rows:
        error = found.get(r["associated_event_id"] or "")
        r["error"] = (
            {"event_id": error.event_id, "issue_id": error.issue_id, "title": error.title}
            if error
            else None
        )
    return rows
