"""``GET /metrics`` and ``GET /api/v1/status``: glasspane's own health, in-process.

Counters live in this test process and rise across tests, so every check is a
difference between before and after.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from inprocess.conftest import App

FIXTURES = Path(__file__).parent.parent / "fixtures" / "envelopes"


def _samples(app: App) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = app.client.get("/metrics", headers=app.admin())
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _value(samples: dict, name: str, **labels: str) -> float:
    return float(samples.get((name, tuple(sorted(labels.items()))), 0.0))


def test_metrics_needs_the_admin_token(app: App) -> None:
    missing = app.client.get("/metrics")
    assert missing.status_code == 401
    assert missing.json()["detail"].startswith("Missing admin token")
    wrong = app.client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_an_envelope_raises_the_accepted_stored_and_item_counters(app: App) -> None:
    before = _samples(app)
    body = (FIXTURES / "python-transaction.envelope").read_bytes()
    assert app.client.post(app.envelope_url(), content=body, headers=app.auth()).status_code == 200
    after = _samples(app)

    def rise(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert rise("glasspane_ingest_requests_total", endpoint="envelope", status="2xx") == 1
    assert rise("glasspane_ingest_items_total", category="transaction") == 1
    assert rise("glasspane_ingest_items_total", category="span") >= 1
    assert rise("glasspane_store_envelopes_total") == 1
    assert rise("glasspane_store_commit_seconds_count") >= 1
    assert rise("glasspane_store_commit_group_size_count") >= 1
    assert "glasspane_store_queue_depth" in {name for name, _ in after}
    assert _value(after, "glasspane_journal_lag_seconds") == 0


def test_rejected_requests_and_dropped_items_are_counted(app: App) -> None:
    before = _samples(app)
    refused = app.client.post(app.envelope_url(), content=b"{}\n{}", headers={})
    assert refused.status_code == 401
    unknown = b'{}\n{"type":"event"}\n{"message":"kept"}\n{"type":"made-up-type"}\n{}'
    assert app.client.post(app.envelope_url(), content=unknown, headers=app.auth()).status_code
    after = _samples(app)

    def rise(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert rise("glasspane_ingest_requests_total", endpoint="envelope", status="4xx") == 1
    assert rise("glasspane_ingest_items_total", category="error") == 1
    dropped = {
        labels: value - _value(before, name, **dict(labels))
        for (name, labels), value in after.items()
        if name == "glasspane_ingest_outcomes_total"
    }
    assert sum(dropped.values()) >= 1
    categories = {dict(labels)["category"] for labels, rose in dropped.items() if rose}
    assert categories <= {"unknown", "error", "envelope"}, categories


def test_otlp_and_store_endpoints_are_told_apart(app: App) -> None:
    before = _samples(app)
    app.client.post(f"/api/{app.default.id}/store/", content=b"{}", headers=app.auth())
    app.client.post("/v1/traces", content=b"{}", headers={"content-type": "application/json"})
    after = _samples(app)
    stored = [
        _value(after, "glasspane_ingest_requests_total", endpoint=e, status=s)
        - _value(before, "glasspane_ingest_requests_total", endpoint=e, status=s)
        for e, s in (("store", "2xx"), ("otlp", "4xx"))
    ]
    assert stored == [1, 1]


def test_status_shows_ingest_and_the_store_at_a_glance(app: App) -> None:
    body = (FIXTURES / "python-transaction.envelope").read_bytes()
    app.client.post(app.envelope_url(), content=body, headers=app.auth())
    response = app.client.get("/api/v1/status", headers=app.admin())
    assert response.status_code == 200, response.text
    status = response.json()
    assert set(status) >= {"version", "store", "ingest", "disk_bytes"}
    assert set(status["ingest"]) >= {"accepted_per_s", "queue_depth", "lag_s"}
    assert status["ingest"]["accepted_total"] >= 1
    assert status["ingest"]["queue_depth"] >= 0
    assert status["ingest"]["lag_s"] == 0
    kind = status["store"]["kind"]
    assert kind in ("duckdb", "chdb", "clickhouse")
    if kind == "clickhouse":
        assert status["disk_bytes"] is None
        assert ":***@" in status["store"]["location"] or "@" not in status["store"]["location"]
    else:
        assert status["disk_bytes"] > 0
        assert Path(status["store"]["location"]).exists()
    assert app.client.get("/api/v1/status").status_code == 401


def test_an_unexpected_error_is_counted_as_a_5xx(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("glasspane.ingest.routes.parse_envelope", broken)
    client = TestClient(app.client.app, raise_server_exceptions=False)
    before = _samples(app)
    answer = client.post(app.envelope_url(), content=b"{}\n", headers=app.auth())
    assert answer.status_code == 500
    after = _samples(app)
    name, labels = "glasspane_ingest_requests_total", {"endpoint": "envelope", "status": "5xx"}
    assert _value(after, name, **labels) - _value(before, name, **labels) == 1
