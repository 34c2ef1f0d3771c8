"""Release health: crash-free sessions and users per release.

Each session counts once, by its worst update: ``crashed`` (the SDK's crash),
``unhandled`` (the browser's uncaught error), ``abnormal`` (the app died
without saying how), ``errored`` (handled errors only) or ``healthy``.
**Crash-free** counts ``crashed`` and ``unhandled`` sessions as crashes: a
browser reports an uncaught error as ``unhandled`` where the other SDKs would
say ``crashed`` (docs/decisions/006-replay-and-release-health.md). Users are the SDKs'
distinct ids (``did``); sessions without one count for sessions only.
"""

from __future__ import annotations

from typing import Any

from glasspane.domain import Project
from glasspane.store.api import SdkItemReader
from glasspane.store.models import ReleaseHealth, Window


def _rate(part: int, whole: int) -> float | None:
    return round(1.0 - part / whole, 6) if whole else None


def release_json(health: ReleaseHealth, projects: dict[int, Project]) -> dict[str, Any]:
    project = projects.get(health.project_id)
    crashes = health.crashed + health.unhandled
    return {
        "release": health.release,
        "project": project.name if project else str(health.project_id),
        "project_id": health.project_id,
        "environments": health.environments,
        "sessions": health.sessions,
        "healthy": health.healthy,
        "errored": health.errored,
        "abnormal": health.abnormal,
        "unhandled": health.unhandled,
        "crashed": health.crashed,
        "crash_free_sessions": _rate(crashes, health.sessions),
        "users": health.users,
        "crashed_users": health.crashed_users,
        "crash_free_users": _rate(health.crashed_users, health.users),
        "first_seen": health.first_seen,
        "last_seen": health.last_seen,
    }


def list_releases(
    store: SdkItemReader, projects: list[Project], window: Window, project: str | None = None
) -> dict[str, Any]:
    by_id = {p.id: p for p in projects}
    rows = [release_json(h, by_id) for h in store.release_health(window)]
    if project is not None:
        rows = [r for r in rows if r["project"] == project]
    return {"releases": rows}
