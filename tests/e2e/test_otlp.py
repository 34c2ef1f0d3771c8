"""The OpenTelemetry SDK's OTLP/HTTP exporters (protobuf and JSON) → one trace."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from serverproc import RunningServer

pytestmark = pytest.mark.e2e

APPS = Path(__file__).parent / "apps"
ROOT = Path(__file__).parents[2]
#: The JSON exporter pins helper packages that conflict with the protobuf one, so it
#: lives in a virtualenv of its own (made by `make test`).
JSON_PYTHON = ROOT / ".venv-otlp-json" / "bin" / "python"


@pytest.mark.parametrize("encoding", ["proto", "json"])
def test_otel_sdk_trace_arrives_with_ops_status_and_error(
    server: RunningServer, encoding: str
) -> None:
    python = sys.executable if encoding == "proto" else str(JSON_PYTHON)
    assert Path(python).exists(), f"{python} is missing: run `make test` to create it"
    project = server.project("otel-registry")
    service = f"otel-{encoding}"
    result = subprocess.run(
        [
            python,
            str(APPS / "otel_client.py"),
            f"{server.url}/v1/traces",
            project["public_key"],
            service,
            encoding,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    trace_id = result.stdout.strip().splitlines()[-1]
    trace = server.wait_for_trace(trace_id, lambda t: len(t["spans"]) == 3 and t["errors"])

    spans = {s["description"]: s for s in trace["spans"]}
    root = spans["GET /register"]
    assert root["is_transaction"] and root["parent_span_id"] is None
    assert root["service"] == service and root["op"] == "http.server"
    assert root["tags"]["service.version"] == "2.1.0"
    assert spans["SELECT cases"]["op"] == "db"
    assert spans["SELECT cases"]["data"]["db.rows"] == 3
    assert spans["SELECT cases"]["parent_span_id"] == root["span_id"]
    wait = spans["blockchain.wait"]
    assert wait["status"] == "internal_error" and not wait["is_transaction"]
    assert trace["status"] == "error" and trace["services"] == [service]
    [error] = trace["errors"]
    assert error["span_id"] == wait["span_id"]
    assert error["type"] == "TimeoutError"
    assert error["value"] == "Transaction 0x7a8b not confirmed after 30 seconds"
    assert error["location"]["function"] == "confirm"
    assert error["location"]["file"] == "otel_client.py"


def test_otlp_without_a_key_is_401(server: RunningServer) -> None:
    import httpx

    answer = httpx.post(
        f"{server.url}/v1/traces", content=b"", headers={"Content-Type": "application/x-protobuf"}
    )
    assert answer.status_code == 401
    assert "Authorization=Bearer" in answer.json()["detail"]
