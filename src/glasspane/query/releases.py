"""Release health: crash-free sessions and users per release.

Each session counts once, by its worst update: ``crashed`` (the SDK's crash),
``unhandled`` (the browser's uncaught error), ``abnormal`` (the app died
without saying how), ``errored`` (handled errors only) or ``healthy``.
**Crash-free** counts ``crashed`` and ``unhandled`` sessions as crashes: a
browser reports an uncaught error as ``unhandled`` where the other SDKs would
say ``crashed`` (docs/decisions/006-replay-and-release-health.md). Users are the SDKs'
distinct ids (``did``); sessions without one count for sessions only.
**Adoption** is a release's share of its project's sessions in the period.
"""

from __future__ import annotations

from typing import Any

from glasspane.domain import Project
from glasspane.errors import NotFound
from glasspane.store.api import SdkItemReader
from glasspane.store.models import ReleaseHealth, Window

#: Time buckets of a release's sessions chart.
BUCKETS = 24


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
    per_project: dict[int, int] = {}
    for r in rows:
        per_project[r["project_id"]] = per_project.get(r["project_id"], 0) + r["sessions"]
    for r in rows:
        whole = per_project[r["project_id"]]
        r["adoption"] = round(r["sessions"] / whole, 6) if whole else None
    if project is not None:
        rows = [r for r in rows if r["project"] == project]
    return {"releases": rows}


def release_over_time(
    store: SdkItemReader,
    projects: list[Project],
    window: Window,
    release: str,
    project: str | None = None,
    buckets: int = BUCKETS,
) -> dict[str, Any]:
    """One release's health in the period and its sessions per time bucket (by the
    session's start), each bucket read as a window of its own."""
    size = (window.end - window.start) / buckets
    found = [
        r
        for r in list_releases(store, projects, window, project)["releases"]
        if r["release"] == release
    ]
    if not found:
        raise NotFound(f"No sessions of release {release!r} in this period")
    series: list[dict[str, Any]] = []
    for i in range(buckets):
        start = window.start + i * size
        rows = list_releases(store, projects, Window(start, start + size), project)["releases"]
        mine = [r for r in rows if r["release"] == release]
        series.append(
            {
                "start": start,
                "sessions": sum(r["sessions"] for r in mine),
                "crashed": sum(r["crashed"] + r["unhandled"] for r in mine),
            }
        )
    return {"release": found[0], "projects": found, "interval": size, "series": series}
