"""Release health, cron monitors, profiles and client reports from the real Python SDK.

``apps/health_client.py`` is a batch job as a user would write it: three user
sessions (healthy, a handled error, a crash), a ``@monitor``-decorated job that
succeeds and then fails plus a heartbeat check-in, a profiled transaction, and
two events the SDK drops itself (``before_send``, an unsampled transaction).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from serverproc import RunningServer

pytestmark = pytest.mark.e2e

APP = os.path.join(os.path.dirname(__file__), "apps", "health_client.py")
RELEASE = "nightly-jobs@3.1.0"


@pytest.fixture(scope="module")
def job(server: RunningServer) -> dict[str, Any]:
    dsn = server.project("nightly-jobs")["dsn"]
    result = subprocess.run(
        [sys.executable, APP],
        env={**os.environ, "SENTRY_DSN": dsn},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_sessions_become_release_health(server: RunningServer, job: dict[str, Any]) -> None:
    def ours(body: dict) -> list[dict]:
        return [r for r in body["releases"] if r["release"] == RELEASE]

    [release] = ours(server.poll("/api/v1/releases", lambda b: bool(ours(b))))
    assert release["project"] == "nightly-jobs" and release["environments"] == ["e2e"]
    assert (release["sessions"], release["healthy"], release["errored"]) == (3, 1, 1)
    assert release["crashed"] == 1 and release["crash_free_sessions"] == pytest.approx(2 / 3)
    assert (release["users"], release["crashed_users"]) == (3, 1)
    assert release["crash_free_users"] == pytest.approx(2 / 3, abs=1e-4)


def test_check_ins_become_monitors(server: RunningServer, job: dict[str, Any]) -> None:
    def ours(body: dict) -> dict[str, dict]:
        return {m["slug"]: m for m in body["monitors"] if m["project"] == "nightly-jobs"}

    def ready(body: dict) -> bool:
        slugs = ours(body)
        return "cache-warmup" in slugs and slugs.get("nightly-import", {}).get("runs") == 2

    monitors = ours(server.poll("/api/v1/monitors", ready))
    nightly = monitors["nightly-import"]
    assert nightly["schedule"] == {"type": "crontab", "value": "0 3 * * *"}
    assert (nightly["ok"], nightly["failed"], nightly["errors"]) == (1, 1, 1)
    assert nightly["status"] == "error" and nightly["missed"] == 0
    assert [r["status"] for r in nightly["recent_runs"]] == ["error", "ok"]
    assert all(r["duration_ms"] >= 50 for r in nightly["recent_runs"])
    heartbeat = monitors["cache-warmup"]
    assert heartbeat["recent_runs"][0]["check_in_id"] == job["heartbeat"]
    assert heartbeat["recent_runs"][0]["duration_ms"] == 1500.0


def test_profile_is_linked_to_its_transaction(server: RunningServer, job: dict[str, Any]) -> None:
    [transaction_id] = job["transactions"]
    path = f"/api/v1/profiles?transaction_id={transaction_id}"
    [listed] = server.poll(path, lambda b: bool(b["profiles"]))["profiles"]
    assert listed["transaction"]["name"] == "build-report"
    assert listed["samples"] >= 10 and listed["release"] == RELEASE
    profile = server.api("GET", f"/api/v1/profiles/{listed['id']}").json()
    assert profile["transaction"]["event_id"] == transaction_id
    names = [f["function"] for f in profile["top_functions"]]
    assert any(name.endswith(".busy") for name in names), names
    trace = server.wait_for_trace(profile["transaction"]["trace_id"])
    [segment] = [s for s in trace["spans"] if s["is_transaction"]]
    assert segment["event_id"] == transaction_id


def test_client_reports_show_what_the_sdk_dropped(
    server: RunningServer, job: dict[str, Any]
) -> None:
    def ours(body: dict) -> set[tuple[str, str]]:
        return {
            (r["reason"], r["category"])
            for r in body["client_reports"]
            if r["project"] == "nightly-jobs"
        }

    body = server.poll(
        "/api/v1/client-reports",
        lambda b: {("before_send", "error"), ("sample_rate", "transaction")} <= ours(b),
    )
    assert body["by_reason"]["before_send"] >= 1
