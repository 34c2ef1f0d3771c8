"""``glasspane trace`` over HTTP against the real server, fed by the real sentry-sdk:
the spans of the critical path are marked in the terminal waterfall."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from e2e.services import Service
from serverproc import RunningServer

pytestmark = pytest.mark.e2e

PROJECT = "py-critical"


@pytest.fixture(scope="module")
def flask_app(server: RunningServer) -> Iterator[Service]:
    project = server.project(PROJECT)
    env = {"SENTRY_DSN": project["dsn"], "TRACES_SAMPLE_RATE": "1.0"}
    service = Service("flask_service.py", env).wait_ready()
    yield service
    service.stop()


def test_trace_marks_the_critical_path(server: RunningServer, flask_app: Service) -> None:
    # /process?fail=1: a quick "Prepare" span, then "Wait for confirmation", which
    # ends last and so, with the request around it, set the trace's duration
    answer = httpx.post(flask_app.url + "/process", params={"fail": "1"}, timeout=20)
    wait_id = answer.json()["span_id"]
    httpx.get(flask_app.url + "/flush", timeout=20)
    found = server.poll(
        f"/api/v1/spans?period=1h&query=project:{PROJECT} span.op:blockchain.wait",
        lambda body: [s for s in body["spans"] if s["span_id"] == wait_id],
    )
    [wait] = [s for s in found["spans"] if s["span_id"] == wait_id]
    server.wait_for_trace(wait["trace_id"])

    command = [sys.executable, "-m", "glasspane", "trace", wait["trace_id"], "--width", "120"]
    command += ["--server", server.url, "--token", server.token]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    root, prepare, wait_row = lines[1:4]
    assert "http.server process" in root and "●[" in root, result.stdout
    assert "Prepare transaction data" in prepare and " [" in prepare and "●" not in prepare
    assert "Wait for confirmation" in wait_row and "●[" in wait_row
    assert lines[5].startswith("● critical path: 2 spans that set the trace's "), result.stdout
    assert all(len(line) <= 120 for line in lines)
