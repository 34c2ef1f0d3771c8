"""One trace across @sentry/node and an OpenTelemetry-only service: Node sends the
W3C ``traceparent`` (``propagateTraceparent``), the OTel service continues it and
exports OTLP, and glasspane stitches the span v2 items and the OTLP spans together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from e2e.test_node_trace import NODE_DIR, _install_node_packages, _wait_for_listening
from serverproc import RunningServer, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.node]
APPS = Path(__file__).parent / "apps"


def _start(
    command: list[str], cwd: Path, env: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, cwd=cwd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
    _wait_for_listening(process, log)
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def services(server: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _install_node_packages()
    logs = tmp_path_factory.mktemp("mixed")
    otel_port, node_port = free_port(), free_port()
    otel = _start(
        [sys.executable, str(APPS / "otel_service.py")],
        APPS,
        {
            "PORT": str(otel_port),
            "OTLP_ENDPOINT": f"{server.url}/v1/traces",
            "OTLP_KEY": server.project("data-platform")["public_key"],
            "SERVICE_NAME": "data-service",
        },
        logs / "otel.log",
    )
    node = _start(
        ["node", "--import", "./instrument.mjs", "service.mjs"],
        NODE_DIR,
        {
            "SENTRY_DSN": server.project("mixed-frontend")["dsn"],
            "PORT": str(node_port),
            "DOWNSTREAM_URL": f"http://127.0.0.1:{otel_port}/extract",
            "PROPAGATE_TRACEPARENT": "1",
        },
        logs / "node.log",
    )
    yield f"http://127.0.0.1:{node_port}"
    _stop(node)
    _stop(otel)


def _complete(trace: dict[str, Any]) -> bool:
    services = {s["service"] for s in trace["spans"]}
    return {"mixed-frontend", "data-service"} <= services and len(
        [s for s in trace["spans"] if s["service"] == "data-service"]
    ) == 2


def test_node_and_opentelemetry_services_share_one_trace(
    server: RunningServer, services: str
) -> None:
    answer = httpx.get(f"{services}/upload", timeout=30).json()
    assert answer["downstream"] == {"processed": True}
    assert httpx.get(f"{services}/flush", timeout=30).status_code == 200
    trace = server.wait_for_trace(answer["trace_id"], _complete, timeout=30)

    by_id = {s["span_id"]: s for s in trace["spans"]}
    fetch = next(
        s
        for s in trace["spans"]
        if s["service"] == "mixed-frontend" and s["op"].startswith("http.client")
    )
    otel_server = next(s for s in trace["spans"] if s["description"] == "GET /extract")
    assert otel_server["service"] == "data-service" and otel_server["project"] == "data-platform"
    assert otel_server["is_transaction"] and otel_server["op"] == "http.server"
    assert otel_server["parent_span_id"] == fetch["span_id"]  # continued from traceparent
    extract = next(s for s in trace["spans"] if s["description"] == "ai.extract")
    assert extract["parent_span_id"] == otel_server["span_id"]
    assert not any(s["orphan"] for s in trace["spans"])
    assert trace["status"] == "ok"
    assert all(s["parent_span_id"] is None or s["parent_span_id"] in by_id for s in trace["spans"])
