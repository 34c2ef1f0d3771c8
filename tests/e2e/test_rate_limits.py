"""The real sentry-sdk backs off when glasspane rate-limits its DSN key."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sentry_sdk

from envelopes import transaction
from serverproc import RunningServer
from waiting import wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data: Path = tmp_path_factory.mktemp("ratelimited") / "data"
    running = RunningServer(data, None, "--rate-limit", "0.5", "--rate-limit-burst", "2").start()
    yield running
    running.stop()


def _tally_lost(client: sentry_sdk.Client) -> list[tuple[str, str]]:
    """(category, reason) of each event the SDK itself drops, as it records them.

    The SDK still records them as usual; flush() sends (and empties) its client
    report at once, so the test keeps its own tally.
    """
    transport = client.transport
    assert transport is not None
    lost: list[tuple[str, str]] = []
    record = transport.record_lost_event

    def recording(reason: str, data_category: str | None = None, **kwargs: object) -> None:
        item = kwargs.get("item")
        category = data_category or (item.data_category if item is not None else "?")  # type: ignore[attr-defined]
        lost.append((str(category), reason))
        record(reason, data_category, **kwargs)  # type: ignore[arg-type]

    transport.record_lost_event = recording  # type: ignore[method-assign]
    return lost


def _issue_count(server: RunningServer, project: str) -> int:
    issues = server.api("GET", "/api/v1/issues", params={"period": "1h"}).json()["issues"]
    return sum(i["count"] for i in issues if i["project"] == project)


def test_sdk_stops_sending_for_retry_after_then_resumes(limited: RunningServer) -> None:
    project = limited.create_project("noisy")
    client = sentry_sdk.Client(project["dsn"], send_client_reports=True)
    lost = _tally_lost(client)
    try:
        for i in range(6):  # one at a time: 2 accepted, the 3rd answered 429, the rest held back
            client.capture_event({"message": f"noisy {i}", "level": "error"})
            client.flush(timeout=10)
        limited_until = client.transport._disabled_until.get(None)  # type: ignore[attr-defined]
        assert limited_until is not None, "the SDK did not read X-Sentry-Rate-Limits"
        assert lost.count(("error", "ratelimit_backoff")) >= 3
        assert _issue_count(limited, "noisy") == 2  # nothing else reached the server

        time.sleep(2.5)  # Retry-After is at most 2 s at 0.5 requests/s
        client.capture_event({"message": "after the pause", "level": "error"})
        client.flush(timeout=10)
        wait_until(lambda: _issue_count(limited, "noisy"), 10, lambda count: count >= 3)
        assert _issue_count(limited, "noisy") == 3
    finally:
        client.close(timeout=2)


def test_cli_rotates_a_project_key(limited: RunningServer) -> None:
    import subprocess
    import sys

    old = limited.create_project("rotated")["dsn"]
    cli = [sys.executable, "-m", "glasspane", "projects", "rotate-key"]
    common = ["--server", limited.url, "--token", limited.token]
    done = subprocess.run([*cli, "rotated", *common], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    new = done.stdout.strip()
    assert new.startswith("http://") and new != old
    assert limited.project("rotated")["dsn"] == new
    unknown = subprocess.run([*cli, "nope", *common], capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 1 and "no project named 'nope'" in unknown.stderr


@pytest.fixture(scope="module")
def error_quota(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data: Path = tmp_path_factory.mktemp("quota") / "data"
    running = RunningServer(data, None, "--rate-limit-categories", "error=2/60").start()
    yield running
    running.stop()


def test_sdk_stops_sending_errors_over_quota_but_keeps_sending_transactions(
    error_quota: RunningServer,
) -> None:
    client = sentry_sdk.Client(error_quota.project("default")["dsn"], send_client_reports=False)
    lost = _tally_lost(client)
    try:
        for i in range(4):  # 2 within the quota, the 3rd answered 429, the 4th held back
            client.capture_event({"message": f"quota {i}", "level": "error"})
            client.flush(timeout=10)
        disabled = client.transport._disabled_until  # type: ignore[attr-defined]
        assert set(disabled) == {"error"}, f"the SDK should hold back errors only: {disabled}"
        assert ("error", "ratelimit_backoff") in lost

        sent = [transaction(name=f"after-quota-{i}") for i in range(3)]
        for payload in sent:
            client.capture_event(payload)
            client.flush(timeout=10)
        assert not [r for r in lost if r[0] == "transaction"], lost
        for payload in sent:
            error_quota.wait_for_trace(payload["contexts"]["trace"]["trace_id"])
    finally:
        client.close(timeout=2)
    assert _issue_count(error_quota, "default") == 2
    outcomes = error_quota.api("GET", "/api/v1/outcomes").json()["outcomes"]
    refused = [o for o in outcomes if (o["category"], o["reason"]) == ("error", "rate_limited")]
    assert sum(o["quantity"] for o in refused) == 1  # the 3rd; the 4th never left the SDK
