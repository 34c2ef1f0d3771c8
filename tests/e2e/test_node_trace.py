"""One trace across a Node service (@sentry/node v11) and a Python service (sentry-sdk).

The Node service in ``tests/node`` sends its spans the v11 default way, as batched
``span`` v2 items; the Python service (this test process, a Flask app in a thread)
sends a classic ``transaction``. glasspane must stitch both into one trace in which the
Python transaction hangs under the Node outgoing ``http.client`` span that called it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sentry_sdk
from flask import Flask, jsonify
from sentry_sdk.integrations.flask import FlaskIntegration
from werkzeug.serving import make_server

from serverproc import RunningServer, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.node]

NODE_DIR = Path(__file__).resolve().parent.parent / "node"
NODE_PROJECT = "node-frontend"
PYTHON_PROJECT = "python-backend"
#: The Python service's answer time per customer: 12 calls take well over 300 ms.
CUSTOMER_MS = 40


def _install_node_packages() -> None:
    """``npm ci`` in tests/node once; node_modules is not committed."""
    if (NODE_DIR / "node_modules" / "@sentry" / "node" / "package.json").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is not on PATH: install Node.js >= 20.19 with npm to run the node tests")
    lockfile = (NODE_DIR / "package-lock.json").exists()
    command = [npm, "ci" if lockfile else "install", "--no-audit", "--no-fund"]
    result = subprocess.run(command, cwd=NODE_DIR, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed in {NODE_DIR}:\n{result.stdout}\n{result.stderr}")


@pytest.fixture(scope="module")
def python_service(server: RunningServer) -> Iterator[str]:
    """This process as the downstream service: Flask on werkzeug, reporting to glasspane.

    sentry-sdk keeps one client per process, so the test process itself plays the
    service; the client is closed (and flushed) when the module is done.
    """
    dsn = server.project(PYTHON_PROJECT)["dsn"]
    app = Flask("python-backend")

    @app.get("/process")
    def process() -> Any:
        return jsonify(processed=True)

    @app.get("/customers/<int:customer_id>")
    def customer(customer_id: int) -> Any:
        time.sleep(CUSTOMER_MS / 1000)
        return jsonify(name=f"customer {customer_id}")

    sentry_sdk.init(
        dsn=dsn,
        traces_sample_rate=1.0,
        release="python-backend@1.0.0",
        environment="e2e",
        integrations=[FlaskIntegration(transaction_style="url")],
    )
    http_server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=http_server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http_server.server_port}/process"
    finally:
        http_server.shutdown()
        http_server.server_close()
        thread.join(timeout=5)
        sentry_sdk.get_client().close(timeout=5)
        sentry_sdk.get_global_scope().set_client(None)


@pytest.fixture(scope="module")
def node_service(
    server: RunningServer, python_service: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """``node --import ./instrument.mjs service.mjs`` reporting to the Node project."""
    if shutil.which("node") is None:
        pytest.fail("node is not on PATH: install Node.js >= 20.19 to run the node tests")
    _install_node_packages()
    port = free_port()
    env = {
        **os.environ,
        "SENTRY_DSN": server.project(NODE_PROJECT)["dsn"],
        "PORT": str(port),
        "DOWNSTREAM_URL": python_service,
    }
    env.pop("SENTRY_TRACE_LIFECYCLE", None)  # keep the v11 default: span streaming
    log_path = tmp_path_factory.mktemp("node") / "service.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            ["node", "--import", "./instrument.mjs", "service.mjs"],
            cwd=NODE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_listening(process, log_path)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)  # the service flushes Sentry, then exits
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_listening(process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        output = log_path.read_text(errors="replace")
        if "listening" in output:
            return
        if process.poll() is not None:
            pytest.fail(f"node service exited with {process.returncode}:\n{output}")
        time.sleep(0.1)
    pytest.fail(f"node service did not print 'listening' within 30s:\n{log_path.read_text()}")


def _by_service(trace: dict[str, Any], service: str) -> list[dict[str, Any]]:
    return [span for span in trace["spans"] if span["service"] == service]


def _has_both_services(trace: dict[str, Any]) -> bool:
    python_transactions = [s for s in _by_service(trace, PYTHON_PROJECT) if s["is_transaction"]]
    node_ops = {s["op"] for s in _by_service(trace, NODE_PROJECT)}
    return bool(python_transactions) and {"http.server", "http.client"} <= node_ops


def _one(spans: list[dict[str, Any]], what: str) -> dict[str, Any]:
    assert len(spans) == 1, f"expected exactly one {what}, got {spans}"
    return spans[0]


def test_node_calls_python_is_one_trace(
    server: RunningServer, node_service: str, python_service: str
) -> None:
    answer = httpx.get(f"{node_service}/upload", timeout=30)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["downstream_status"] == 200 and body["downstream"] == {"processed": True}
    trace_id, node_segment_id = body["trace_id"], body["span_id"]

    assert httpx.get(f"{node_service}/flush", timeout=30).status_code == 200
    sentry_sdk.flush(timeout=10)
    trace = server.wait_for_trace(trace_id, until=_has_both_services, timeout=30)

    projects = {
        p["name"]: str(p["id"]) for p in server.api("GET", "/api/v1/projects").json()["projects"]
    }
    spans = trace["spans"]
    by_id = {span["span_id"]: span for span in spans}
    assert trace["trace_id"] == trace_id
    assert sorted(trace["services"]) == sorted([NODE_PROJECT, PYTHON_PROJECT])
    assert trace["status"] == "ok"
    assert trace["errors"] == []
    assert len(by_id) == len(spans), f"duplicate span ids in {spans}"
    assert [s for s in spans if s.get("orphan")] == []
    for span in spans:
        assert span["project"] == span["service"], span
        assert str(span["project_id"]) == projects[span["project"]], span
        assert span["parent_span_id"] is None or span["parent_span_id"] in by_id, span

    # The Node segment: the root of the trace, sent as an is_segment span v2 item.
    node_segment = _one(
        [s for s in _by_service(trace, NODE_PROJECT) if s["is_transaction"]], "Node segment"
    )
    assert node_segment["span_id"] == node_segment_id
    assert node_segment["parent_span_id"] is None
    assert not node_segment.get("orphan")
    assert node_segment["transaction"] == "GET /upload"
    assert node_segment["op"] == "http.server"
    assert node_segment["status"] == "ok"
    assert [s["span_id"] for s in spans if s["parent_span_id"] is None] == [node_segment_id]

    # Its outgoing fetch to the Python service: a child span somewhere under the segment.
    http_client = _one(
        [s for s in _by_service(trace, NODE_PROJECT) if s["op"].startswith("http.client")],
        "Node http.client span",
    )
    assert not http_client["is_transaction"]
    assert http_client["transaction"] == "GET /upload"
    assert _ancestors(http_client, by_id)[-1] == node_segment_id

    # The Python transaction, continued from the sentry-trace header Node sent.
    python_transaction = _one(
        [s for s in _by_service(trace, PYTHON_PROJECT) if s["is_transaction"]],
        "Python transaction",
    )
    assert python_transaction["project"] == PYTHON_PROJECT
    assert python_transaction["parent_span_id"] == http_client["span_id"]
    assert python_transaction["transaction"] == "/process"
    assert python_transaction["op"] == "http.server"
    assert python_transaction["status"] == "ok"

    # One clock: the callee runs inside the call, the call inside the request.
    slack = 0.05
    assert node_segment["start_timestamp"] - slack <= http_client["start_timestamp"]
    assert http_client["timestamp"] <= node_segment["timestamp"] + slack
    assert http_client["start_timestamp"] - slack <= python_transaction["start_timestamp"]
    assert python_transaction["timestamp"] <= http_client["timestamp"] + slack
    for span in spans:
        expected_ms = (span["timestamp"] - span["start_timestamp"]) * 1000
        assert span["duration_ms"] == pytest.approx(expected_ms, abs=1), span
    assert trace["duration_ms"] >= node_segment["duration_ms"] - 1


def _ancestors(span: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> list[str]:
    """Span ids from ``span``'s parent up to the root, following parent_span_id."""
    chain: list[str] = []
    parent = span["parent_span_id"]
    while parent is not None and parent not in chain:
        chain.append(parent)
        parent = by_id[parent]["parent_span_id"]
    return chain


def _issues(server: RunningServer, query: str) -> list[dict[str, Any]]:
    answer = server.api("GET", "/api/v1/issues", params={"query": query, "period": "1h"})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["issues"])


def test_node_n_plus_one_api_calls_is_a_performance_issue(
    server: RunningServer, node_service: str, python_service: str
) -> None:
    """@sentry/node fetching one customer at a time (12 calls, span v2 batches) is
    reported as an N+1 of API calls, with the masked URL and the offending spans."""
    answer = httpx.get(f"{node_service}/customers", timeout=30)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["names"] == [f"customer {i}" for i in range(1, 13)]
    assert httpx.get(f"{node_service}/flush", timeout=30).status_code == 200
    trace = server.wait_for_trace(
        body["trace_id"],
        until=lambda t: sum(s["op"] == "http.client" for s in t["spans"]) >= 12,
        timeout=30,
    )
    calls = [s for s in trace["spans"] if s["op"] == "http.client"]
    query = f"issue.type:n_plus_one_api_calls project:{NODE_PROJECT}"
    deadline = time.monotonic() + 30
    while not (found := _issues(server, query)) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert len(found) == 1, found
    issue = found[0]
    assert issue["culprit"] == "GET /customers"
    detail = server.api("GET", f"/api/v1/issues/{issue['id']}").json()
    event = detail["latest_event"]
    assert event["trace_id"] == body["trace_id"]
    evidence = event["evidence"]
    downstream = python_service.rsplit("/", 1)[0]
    assert evidence["url"] == f"GET {downstream}/customers/*"
    assert evidence["repeated"] == 12
    assert sorted(evidence["span_ids"]) == sorted(s["span_id"] for s in calls)
    assert evidence["duration_ms"] >= 12 * CUSTOMER_MS
    # Only this one: the Python side's single requests are no N+1, and no error issue
    # is counted as a performance one.
    performance = _issues(server, "issue.category:performance")
    assert [i["id"] for i in performance if i["project"] in (NODE_PROJECT, PYTHON_PROJECT)] == [
        issue["id"]
    ]
