"""Release health, cron monitors, client reports, user feedback and profiles
under ``/api/v1`` (admin token required)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from glasspane.query import client_reports, feedback, monitors, profiles, releases
from glasspane.query.replays import normalize_replay_id, period_window
from glasspane.web.auth import require_admin
from glasspane.web.deps import instance_of

router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_admin)])

PeriodParam = Query(None, description="15m, 1h, 24h (default), 7d")


@router.get("/releases", summary="Release health: crash-free sessions and users per release")
def list_releases(
    request: Request,
    period: str | None = PeriodParam,
    project: str | None = Query(None, description="Only this project's releases"),
) -> dict[str, Any]:
    instance = instance_of(request)
    w = period_window(period)
    return releases.list_releases(instance.store, instance.projects(), w, project)


@router.get("/monitors", summary="Cron monitors: runs, failures, timeouts and missed runs")
def list_monitors(request: Request, period: str | None = PeriodParam) -> dict[str, Any]:
    instance = instance_of(request)
    return monitors.list_monitors(instance.store, instance.projects(), period_window(period))


@router.get("/monitors/{slug}", summary="One cron monitor with its recent runs")
def monitor(slug: str, request: Request, period: str | None = PeriodParam) -> dict[str, Any]:
    instance = instance_of(request)
    w = period_window(period)
    return monitors.get_monitor(instance.store, instance.projects(), slug, w)


@router.get("/client-reports", summary="What the SDKs dropped before sending, by reason")
def list_client_reports(request: Request, period: str | None = PeriodParam) -> dict[str, Any]:
    instance = instance_of(request)
    return client_reports.client_reports(instance.store, instance.projects(), period_window(period))


@router.get("/feedback", summary="What users wrote, with their replay, trace and error")
def list_feedback(
    request: Request,
    period: str | None = PeriodParam,
    replay_id: str | None = Query(None, description="Only feedback given during this replay"),
    limit: int = Query(100, description="At most 1000"),
) -> dict[str, Any]:
    instance = instance_of(request)
    replay = normalize_replay_id(replay_id) if replay_id else None
    w = period_window(period)
    return feedback.list_feedback(instance.store, instance.projects(), w, replay, limit)


@router.get("/profiles", summary="Profiles in the period, or of a transaction or trace")
def list_profiles(
    request: Request,
    period: str | None = PeriodParam,
    transaction_id: str | None = Query(None, description="The transaction's event id"),
    trace_id: str | None = None,
    limit: int = Query(50, description="At most 1000"),
) -> dict[str, Any]:
    instance = instance_of(request)
    w = period_window(period)
    return profiles.list_profiles(
        instance.store, instance.projects(), w, transaction_id, trace_id, limit
    )


@router.get("/profiles/{profile_id}", summary="One profile: its transaction and hot functions")
def profile(profile_id: str, request: Request) -> dict[str, Any]:
    instance = instance_of(request)
    return profiles.get_profile(instance.store, instance.projects(), profile_id)
