"""Two Flask services with the real sentry-sdk → one trace in glasspane."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from e2e.services import Service
from serverproc import RunningServer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def services(server: RunningServer) -> Iterator[tuple[Service, Service, dict, dict]]:
    front = server.project("py-frontend")
    back = server.project("py-backend")
    backend = Service("flask_service.py", {"SENTRY_DSN": back["dsn"]}).wait_ready()
    frontend = Service(
        "flask_service.py", {"SENTRY_DSN": front["dsn"], "DOWNSTREAM_URL": backend.url}
    ).wait_ready()
    yield frontend, backend, front, back
    frontend.stop()
    backend.stop()


def _request(frontend: Service, backend: Service, fail: bool) -> str:
    answer = httpx.get(f"{frontend.url}/upload", params={"fail": int(fail)}, timeout=20).json()
    httpx.get(backend.url + "/flush", timeout=20)
    httpx.get(frontend.url + "/flush", timeout=20)
    return str(answer["trace_id"])


def _both_segments(trace: dict[str, Any]) -> bool:
    return len([s for s in trace["spans"] if s["is_transaction"]]) >= 2


def test_request_across_two_services_is_one_trace(server: RunningServer, services) -> None:
    frontend, backend, _front, back = services
    trace_id = _request(frontend, backend, fail=False)
    trace = server.wait_for_trace(trace_id, _both_segments)

    assert trace["trace_id"] == trace_id
    assert set(trace["services"]) == {"py-frontend", "py-backend"}
    assert trace["status"] == "ok"
    spans = {s["span_id"]: s for s in trace["spans"]}
    segments = [s for s in trace["spans"] if s["is_transaction"]]
    front_tx = next(s for s in segments if s["service"] == "py-frontend")
    back_tx = next(s for s in segments if s["service"] == "py-backend")
    assert front_tx["transaction"] == "upload" and front_tx["parent_span_id"] is None
    assert back_tx["transaction"] == "process"
    assert back_tx["project"] == "py-backend" and back_tx["project_id"] == back["id"]
    # B's transaction hangs under A's outgoing HTTP span, which hangs under A's transaction.
    caller = spans[back_tx["parent_span_id"]]
    assert caller["op"] == "http.client" and caller["service"] == "py-frontend"
    assert caller["parent_span_id"] == front_tx["span_id"]
    assert "/process" in caller["description"]
    assert not any(s["orphan"] for s in trace["spans"])
    ops = {s["op"] for s in trace["spans"]}
    assert {"http.server", "file.read", "http.client", "blockchain.prepare"} <= ops
    assert trace["duration_ms"] >= front_tx["duration_ms"] > 0
    assert front_tx["user"]["email"] == "demo@test.com"


def test_exception_inside_a_span_is_attached_to_it(server: RunningServer, services) -> None:
    frontend, backend, _, _ = services
    trace_id = _request(frontend, backend, fail=True)
    trace = server.wait_for_trace(trace_id, lambda t: _both_segments(t) and t["errors"])

    assert trace["status"] == "error"
    [error] = trace["errors"]
    wait_span = next(s for s in trace["spans"] if s["op"] == "blockchain.wait")
    assert error["span_id"] == wait_span["span_id"]
    assert wait_span["status"] == "deadline_exceeded"
    assert error["type"] == "TransactionTimeoutError"
    assert error["value"] == "Transaction 0x7a8b9c0d1e2f not confirmed after 30 seconds"
    assert error["location"]["function"] == "wait_for_confirmation"
    assert error["location"]["file"].endswith("flask_service.py")
    assert error["contexts"]["blockchain"] == {
        "network": "base-sepolia",
        "contractAddress": "0x742d35Cc6634C0532925a3b844Bc9e7595f0bEb5",
        "gasLimit": 500000,
        "caseId": "AAA-2025-0142",
    }
    assert error["project"] == "py-backend"
    assert isinstance(error["issue_id"], int)


def test_cli_draws_the_waterfall(server: RunningServer, services) -> None:
    import subprocess
    import sys

    frontend, backend, _, _ = services
    trace_id = _request(frontend, backend, fail=True)
    server.wait_for_trace(trace_id, lambda t: _both_segments(t) and t["errors"])
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "glasspane",
            "trace",
            trace_id,
            "--server",
            server.url,
            "--token",
            server.token,
            "--width",
            "160",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert trace_id in lines[0] and "error" in lines[0]
    wait_row = next(i for i, line in enumerate(lines) if "blockchain.wait" in line)
    assert "py-backend: blockchain.wait Wait for confirmation" in lines[wait_row]
    assert "✗" in lines[wait_row]
    assert "ERROR TransactionTimeoutError: Transaction 0x7a8b9c0d1e2f" in lines[wait_row + 1]
    assert any("network: base-sepolia" in line for line in lines)
    # Nesting: the backend's rows are indented deeper than the frontend transaction's.
    front_row = next(line for line in lines if "py-frontend: http.server" in line)
    assert len(wait_row_prefix := lines[wait_row].split("py-backend")[0]) > len(
        front_row.split("py-frontend")[0]
    ), wait_row_prefix

    unknown = subprocess.run(
        [
            sys.executable,
            "-m",
            "glasspane",
            "trace",
            "0" * 32,
            "--server",
            server.url,
            "--token",
            server.token,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unknown.returncode == 1
    assert "No trace 00000000000000000000000000000000" in unknown.stderr


def test_span_level_keys_find_the_trace_by_a_child_span(server: RunningServer, services) -> None:
    """The wait span is a child of the backend's transaction, not a root (issue 18)."""
    frontend, backend, _, _ = services
    trace_id = _request(frontend, backend, fail=True)
    server.wait_for_trace(trace_id, lambda t: _both_segments(t) and t["errors"])

    def get(path: str, query: str) -> Any:
        answer = server.api("GET", path, params={"query": query, "period": "1h"})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def traces(query: str) -> set[str]:
        return {t["trace_id"] for t in get("/api/v1/traces", query)["traces"]}

    assert trace_id in traces("span.op:blockchain.wait")
    assert trace_id in traces('span.description:"Wait for*"')
    mine = f"trace:{trace_id}"
    assert traces(f"{mine} confirmation") == {trace_id}
    assert traces(f"{mine} span.op:blockchain.wait span.status:deadline_exceeded") == {trace_id}
    assert traces(f"{mine} span.op:blockchain.wait span.status:ok") == set()
    # Per transaction: the wait span is the backend's, not the frontend's.
    rows = get("/api/v1/transactions", f"{mine} span.op:blockchain.wait")["transactions"]
    assert [(r["transaction"], r["count"]) for r in rows] == [("process", 1)]


def test_a_failed_request_compared_with_a_good_one(server: RunningServer, services) -> None:
    """Two real traces across both services, aligned span for span: the failed one
    has the blockchain wait the good one never reached; the process transaction's
    tags show the network the SDK put in its context."""
    frontend, backend, _, _ = services
    good = _request(frontend, backend, fail=False)
    failed = _request(frontend, backend, fail=True)
    for trace_id in (good, failed):
        server.wait_for_trace(trace_id, _both_segments)
    answer = server.api("GET", "/api/v1/traces/compare", params={"a": good, "b": failed})
    assert answer.status_code == 200, answer.text
    compared = answer.json()
    rows = {(r["service"], r["op"]): r for r in compared["rows"]}
    assert rows[("py-backend", "blockchain.wait")]["presence"] == "b"
    for kind in [("py-frontend", "http.server"), ("py-frontend", "file.read"),
                 ("py-frontend", "http.client"), ("py-backend", "blockchain.prepare")]:  # fmt: skip
        row = rows[kind]
        assert row["presence"] == "both", kind
        assert row["diff_ms"] == round(row["b"]["duration_ms"] - row["a"]["duration_ms"], 3)
    assert compared["b"]["status"] == "error" and compared["a"]["status"] == "ok"
    tags = server.api(
        "GET",
        "/api/v1/transactions/tags",
        params={"transaction": "process", "service": "py-backend", "period": "1h"},
    ).json()["tags"]
    by_key = {t["key"]: t for t in tags}
    assert by_key["environment"]["values"][0] == {
        "value": "test",
        "count": by_key["environment"]["total"],
        "share": 1.0,
    }
    assert "base-sepolia" in [v["value"] for v in by_key["blockchain.network"]["values"]]
