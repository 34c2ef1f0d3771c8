"""Logs and metrics from the real clients, read back through the API.

* sentry-sdk (``enable_logs``, ``sentry_sdk.logger``, ``sentry_sdk.metrics``) in a
  Flask service run as a subprocess;
* the OpenTelemetry SDK's OTLP/HTTP log and metric exporters, protobuf and JSON;
* @sentry/node's ``Sentry.logger`` and ``Sentry.metrics``.

Each client reports as its own service so that the shared server's other data
does not mix in: every query says ``service:...``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from e2e.services import Service
from serverproc import RunningServer
from waiting import wait_until

pytestmark = pytest.mark.e2e

APPS = Path(__file__).parent / "apps"
ROOT = Path(__file__).parents[2]
NODE_DIR = ROOT / "tests" / "node"
JSON_PYTHON = ROOT / ".venv-otlp-json" / "bin" / "python"
#: (ms, tier) per created case, so every figure below is known exactly.
CASES = [(120.0, "gold"), (80.0, "gold"), (200.0, "free"), (40.0, "free")]


def logs(server: RunningServer, query: str, **params: Any) -> list[dict[str, Any]]:
    answer = server.api("GET", "/api/v1/logs", params={"query": query, **params})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["logs"])


def metric(server: RunningServer, name: str, query: str, **params: Any) -> dict[str, Any]:
    answer = server.api("GET", "/api/v1/metrics", params={"name": name, "query": query, **params})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def groups(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {group["value"]: group["totals"] for group in answer["groups"]}


# -- sentry-sdk -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def python_cases(server: RunningServer) -> Iterator[list[dict[str, Any]]]:
    """The Python service, after it created the four cases and flushed."""
    service = Service("telemetry_service.py", {"SENTRY_DSN": server.project("py-cases")["dsn"]})
    try:
        service.wait_ready()
        created = []
        for ms, tier in CASES:
            answer = httpx.get(f"{service.url}/cases", params={"tier": tier, "ms": ms}, timeout=10)
            assert answer.status_code == 200, answer.text
            created.append(answer.json())
        assert httpx.get(f"{service.url}/flush", timeout=30).status_code == 200
        yield created
    finally:
        service.stop()


def test_python_logs_sit_under_their_span(server: RunningServer, python_cases: list) -> None:
    case = python_cases[0]
    trace = server.wait_for_trace(case["trace_id"], lambda t: len(t["logs"]) == 2)
    span_ids = {span["span_id"] for span in trace["spans"]}
    assert case["span_id"] in span_ids
    info, warning = trace["logs"]
    assert info["body"] == f"Case {case['case_id']} created"
    assert (info["level"], info["severity_number"], info["span_id"]) == ("info", 9, case["span_id"])
    assert warning["body"] == "Case creation took 120.0 ms"
    assert (warning["level"], warning["span_id"]) == ("warn", case["span_id"])
    assert info["attributes"]["tier"] == "gold"
    assert info["attributes"]["sentry.message.template"] == "Case {case_id} created"
    assert (info["service"], info["environment"], info["release"]) == (
        "py-cases",
        "test",
        "cases@1.0.0",
    )


def test_cli_waterfall_draws_the_logs_under_their_span(
    server: RunningServer, python_cases: list
) -> None:
    case = python_cases[1]
    server.wait_for_trace(case["trace_id"], lambda t: len(t["logs"]) == 2)
    command = [sys.executable, "-m", "glasspane", "trace", case["trace_id"]]
    command += ["--server", server.url, "--token", server.token, "--width", "120"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    span_row = next(i for i, line in enumerate(lines) if "db insert case" in line)
    logs = lines[span_row + 1 : span_row + 3]
    assert [line.strip() for line in logs] == [
        f"├─ LOG INFO Case {case['case_id']} created",
        "└─ LOG WARN Case creation took 80.0 ms",
    ]
    # One level below the span: their branch is indented further than the span's.
    span_branch = lines[span_row].index("─ py-cases: db insert case")
    assert logs[0].index("─ LOG") == logs[1].index("─ LOG") > span_branch


def test_python_logs_api_newest_first_with_query(server: RunningServer, python_cases: list) -> None:
    # The SDK also sends stdlib logging records: here werkzeug's access log lines.
    access = wait_until(lambda: logs(server, "service:py-cases logger.name:werkzeug"))
    assert access[0]["attributes"]["sentry.origin"] == "auto.log.stdlib"
    ours = "service:py-cases !logger.name:werkzeug"
    found = wait_until(lambda: logs(server, ours), until=lambda found: len(found) == 8)
    times = [log["timestamp"] for log in found]
    assert times == sorted(times, reverse=True)
    assert found[0]["body"] == "Case creation took 40.0 ms"  # the last case's warning
    warnings = logs(server, "service:py-cases level:warn tier:gold")
    assert [log["body"] for log in warnings] == [
        "Case creation took 80.0 ms",
        "Case creation took 120.0 ms",
    ]
    created = logs(server, 'service:py-cases "created"', limit=2)
    assert [log["body"] for log in created] == [
        f"Case {python_cases[3]['case_id']} created",
        f"Case {python_cases[2]['case_id']} created",
    ]


def test_python_metric_series(server: RunningServer, python_cases: list) -> None:
    answer = wait_until(
        lambda: metric(server, "case.creation.duration", "service:py-cases", group_by="tier"),
        until=lambda answer: answer["totals"]["count"] == 4,
    )
    assert (answer["type"], answer["unit"]) == ("distribution", "millisecond")
    assert answer["totals"] == {
        "count": 4,
        "sum": 440.0,
        "avg": 110.0,
        "min": 40.0,
        "max": 200.0,
        "p50": 100.0,  # halfway between 80 and 120
        "p95": pytest.approx(188.0),  # 120 + 0.85 * (200 - 120)
    }
    assert sum(point["count"] for point in answer["series"]) == 4
    by_tier = groups(answer)
    assert (by_tier["gold"]["sum"], by_tier["gold"]["p50"]) == (200.0, 100.0)
    assert (by_tier["free"]["sum"], by_tier["free"]["p95"]) == (240.0, pytest.approx(192.0))

    counter = metric(server, "cases.created", "service:py-cases", group_by="tier")
    assert counter["type"] == "counter"
    assert (counter["totals"]["count"], counter["totals"]["sum"]) == (4, 4.0)
    assert {tier: totals["sum"] for tier, totals in groups(counter).items()} == {
        "gold": 2.0,
        "free": 2.0,
    }


# -- OpenTelemetry SDK ----------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["proto", "json"])
def test_otel_logs_and_metrics(server: RunningServer, encoding: str) -> None:
    python = sys.executable if encoding == "proto" else str(JSON_PYTHON)
    assert Path(python).exists(), f"{python} is missing: run `make test` to create it"
    project = server.project("otel-telemetry")
    service = f"otel-cases-{encoding}"
    result = subprocess.run(
        [
            python,
            str(APPS / "otel_telemetry.py"),
            server.url,
            str(project["id"]),
            project["public_key"],
            service,
            encoding,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    trace_id, span_id = result.stdout.split()

    trace = server.wait_for_trace(trace_id, lambda t: len(t["logs"]) == 1 and t["spans"])
    [warning] = trace["logs"]
    assert warning["span_id"] == span_id
    assert span_id in {span["span_id"] for span in trace["spans"]}
    assert (warning["body"], warning["level"], warning["service"]) == (
        "Case AAA-1 created slowly",
        "warn",
        service,
    )
    assert warning["attributes"]["case.tier"] == "gold"
    every = wait_until(lambda: logs(server, f"service:{service}"), until=lambda f: len(f) == 2)
    assert [(log["body"], log["span_id"]) for log in every] == [
        ("outside any span", None),
        ("Case AAA-1 created slowly", span_id),
    ]

    query = f"service:{service}"
    counter = metric(server, "cases.created", query, group_by="tier")
    # Cumulative totals 2+1, then 3+1, then the same again on shutdown: 4 created.
    assert (counter["type"], counter["unit"], counter["totals"]["sum"]) == (
        "counter",
        "{case}",
        4.0,
    )
    assert {tier: totals["sum"] for tier, totals in groups(counter).items()} == {
        "gold": 3.0,
        "free": 1.0,
    }
    duration = metric(server, "case.creation.duration", query)
    assert (duration["type"], duration["unit"]) == ("distribution", "ms")
    assert duration["totals"] == {
        "count": 3,
        "sum": 400.0,
        "avg": pytest.approx(400 / 3),
        "min": 80.0,
        "max": 200.0,
        # default buckets ... (75, 100]: 1, (100, 250]: 2; interpolated, then clamped to max
        "p50": 137.5,
        "p95": 200.0,
    }
    depth = metric(server, "queue.depth", query)
    assert (depth["type"], depth["totals"]["max"], depth["totals"]["avg"]) == ("gauge", 3.0, 3.0)


# -- @sentry/node ---------------------------------------------------------------------


@pytest.mark.node
def test_node_logs_and_metrics(server: RunningServer) -> None:
    if shutil.which("node") is None:
        pytest.fail("node is not on PATH: install Node.js >= 20.19 to run the node tests")
    if not (NODE_DIR / "node_modules" / "@sentry" / "node").exists():
        from e2e.test_node_trace import _install_node_packages

        _install_node_packages()
    env = {**os.environ, "SENTRY_DSN": server.project("node-cases")["dsn"]}
    result = subprocess.run(
        ["node", "telemetry.mjs"], cwd=NODE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    ids = json.loads(result.stdout.strip().splitlines()[-1])
    assert ids["flushed"] is True

    trace = server.wait_for_trace(ids["trace_id"], lambda t: len(t["logs"]) == 2 and t["spans"])
    assert ids["span_id"] in {span["span_id"] for span in trace["spans"]}
    assert [(log["body"], log["level"], log["span_id"]) for log in trace["logs"]] == [
        ("Case AAA-1 created", "info", ids["span_id"]),
        ("slow insert", "warn", ids["span_id"]),
    ]
    duration = wait_until(
        lambda: metric(server, "case.creation.duration", "service:node-cases tier:silver"),
        until=lambda answer: answer["totals"]["count"] == 2,
    )
    assert duration["totals"] == {
        "count": 2,
        "sum": 200.0,
        "avg": 100.0,
        "min": 50.0,
        "max": 150.0,
        "p50": 100.0,
        "p95": 145.0,
    }
    counter = metric(server, "cases.created", "service:node-cases")
    assert (counter["totals"]["count"], counter["totals"]["sum"]) == (2, 2.0)
