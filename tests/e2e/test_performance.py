"""Performance views fed by the real sentry-sdk: sampling, user impact, CLI tables."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from e2e.services import Service
from serverproc import RunningServer
from waiting import wait_until

pytestmark = pytest.mark.e2e

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.1 Safari/605.1.15"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"


def _service(server: RunningServer, name: str, rate: str) -> Iterator[Service]:
    project = server.project(name)
    service = Service(
        "flask_service.py", {"SENTRY_DSN": project["dsn"], "TRACES_SAMPLE_RATE": rate}
    ).wait_ready()
    yield service
    service.stop()


@pytest.fixture(scope="module")
def sampled(server: RunningServer) -> Iterator[Service]:
    yield from _service(server, "py-sampled", "0.1")


@pytest.fixture(scope="module")
def impacted(server: RunningServer) -> Iterator[Service]:
    yield from _service(server, "py-impact", "1.0")


def test_throughput_is_the_real_request_rate_under_10_percent_sampling(
    server: RunningServer, sampled: Service
) -> None:
    requests = 600
    with httpx.Client(timeout=10) as client:
        for _ in range(requests):
            assert client.post(sampled.url + "/process").status_code == 200
    httpx.get(sampled.url + "/flush", timeout=20)

    def fetch() -> list[dict]:
        answer = server.api(
            "GET",
            "/api/v1/transactions",
            params={"query": "service:py-sampled transaction:process", "period": "15m"},
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["transactions"]

    rows = wait_until(fetch, 20, bool, 0.3)
    [row] = rows
    assert row["transaction"] == "process"
    # Only the sampled ones arrived; each stands for 1 / 0.1 = 10 requests.
    assert 25 <= row["samples"] <= 110
    assert row["count"] == pytest.approx(row["samples"] * 10)
    sigma = 10 * math.sqrt(requests * 0.1 * 0.9)
    assert abs(row["count"] - requests) <= 4 * sigma
    assert row["throughput_per_min"] == pytest.approx(row["count"] / 15, rel=1e-3)
    assert row["failure_rate"] == 0 and row["p50_ms"] > 0 and row["p95_ms"] >= row["p50_ms"]


def test_impact_counts_users_by_browser_and_country(
    server: RunningServer, impacted: Service
) -> None:
    visits = [
        ("ana@example.com", CHROME, "US"),
        ("ben@example.com", CHROME, "US"),
        ("cy@example.com", CHROME, "DE"),
        ("dee@example.com", SAFARI, "FR"),
        ("eve@example.com", FIREFOX, "US"),
    ]
    with httpx.Client(timeout=10) as client:
        for email, agent, country in visits:
            answer = client.post(
                impacted.url + "/process",
                headers={"User-Agent": agent},
                params={"fail": 1, "email": email, "country": country},
            )
            assert answer.status_code == 504
        # A healthy request is not an impact.
        client.post(
            impacted.url + "/process",
            headers={"User-Agent": FIREFOX},
            params={"email": "fine@example.com", "country": "JP"},
        )
    httpx.get(impacted.url + "/flush", timeout=20)

    def fetch() -> dict:
        answer = server.api(
            "GET", "/api/v1/impact", params={"query": "service:py-impact", "period": "1h"}
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    impact = wait_until(fetch, 20, lambda i: i["transactions"] >= 5 and i["users"] >= 5, 0.3)
    assert impact["users"] == 5
    assert impact["transactions"] == 5
    assert impact["by_browser"] == {"Chrome": 3, "Safari": 1, "Firefox": 1}
    assert impact["by_country"] == {"US": 3, "DE": 1, "FR": 1}
    assert impact["by_os"] == {"Windows": 3, "Mac OS X": 1, "Linux": 1}
    lines = _cli(server, "impact", "--query", "service:py-impact", "--period", "1h")
    assert lines[:2] == ["Affected users        5", "Failing transactions  5"]
    assert "COUNTRY  USERS" in lines and "US           3" in lines
    assert "Mac OS X      1" in lines
    # Five failures and one success are no sustained rise.
    assert _cli(server, "regressions", "--query", "service:py-impact", "--period", "1h") == [
        "No regressions in the period."
    ]


def _cli(server: RunningServer, *args: str) -> list[str]:
    """The lines ``glasspane ARGS`` prints against the server."""
    result = subprocess.run(
        [sys.executable, "-m", "glasspane", *args, "--server", server.url, "--token", server.token],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_cli_tables(server: RunningServer, sampled: Service) -> None:
    with httpx.Client(timeout=10) as client:
        for _ in range(20):
            client.post(sampled.url + "/process")
    httpx.get(sampled.url + "/flush", timeout=20)
    for command, header in (("transactions", "FAILURE RATE"), ("services", "ERROR RATE")):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "glasspane",
                command,
                "--server",
                server.url,
                "--token",
                server.token,
                "--query",
                "service:py-sampled",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert header in lines[0]
        assert any("py-sampled" in line for line in lines[2:]), result.stdout
