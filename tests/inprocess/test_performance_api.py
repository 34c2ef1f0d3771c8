"""Performance endpoints in-process: shapes, Apdex per project, regressions, errors."""

from __future__ import annotations

import math
import random
import time

from envelopes import envelope_bytes, transaction
from inprocess.conftest import App


def made(name: str, start: float, duration_s: float, status: str = "ok") -> dict:
    payload = transaction(name=name)
    payload["start_timestamp"] = start
    payload["timestamp"] = start + duration_s
    payload["spans"] = []
    payload["contexts"]["trace"]["status"] = status
    return payload


def post(app: App, *payloads: dict) -> None:
    answer = app.client.post(
        app.envelope_url(), content=envelope_bytes(*payloads), headers=app.auth()
    )
    assert answer.status_code == 200, answer.text


def send(app: App, name: str, start: float, duration_s: float, status: str = "ok") -> None:
    post(app, made(name, start, duration_s, status))


def get(app: App, path: str, **params: object) -> dict:
    answer = app.client.get(path, params=params, headers=app.admin())
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_transactions_shape_and_apdex_threshold_per_project(app: App) -> None:
    now = time.time()
    for duration in (0.1, 0.2, 0.5, 2.0):
        send(app, "checkout", now - 60, duration)
    [row] = get(app, "/api/v1/transactions", period="1h")["transactions"]
    assert set(row) >= {
        "transaction",
        "service",
        "count",
        "p50_ms",
        "p95_ms",
        "failure_rate",
        "throughput_per_min",
        "apdex",
    }
    assert row["count"] == 4 and row["throughput_per_min"] == round(4 / 60, 4)
    assert row["apdex"] == (2 + 1 / 2) / 4  # T = 300 ms: 2 satisfied, 1 tolerating
    patched = app.client.patch(
        f"/api/v1/projects/{app.default.id}", json={"apdex_threshold_ms": 1000}, headers=app.admin()
    )
    assert patched.status_code == 200 and patched.json()["apdex_threshold_ms"] == 1000
    [row] = get(app, "/api/v1/transactions", period="1h")["transactions"]
    assert row["apdex"] == (3 + 1 / 2) / 4


def test_bad_period_sort_and_query_are_400(app: App) -> None:
    for params, words in (
        ({"period": "yesterday"}, "period 'yesterday'"),
        ({"sort": "-speed"}, "sort '-speed'"),
        ({"query": "user.email:"}, "expected a value"),
    ):
        answer = app.client.get("/api/v1/transactions", params=params, headers=app.admin())
        assert answer.status_code == 400, answer.text
        assert words in answer.json()["detail"]


def test_traces_list_filters_by_trace_status(app: App) -> None:
    now = time.time()
    send(app, "upload", now - 30, 1.0, "ok")
    send(app, "upload", now - 20, 3.0, "internal_error")
    all_rows = get(app, "/api/v1/traces", query="transaction:upload", period="1h")["traces"]
    assert [r["status"] for r in all_rows] == ["error", "ok"]  # newest first
    failed = get(app, "/api/v1/traces", query="transaction:upload trace.status:error", period="1h")[
        "traces"
    ]
    assert len(failed) == 1 and failed[0]["duration_ms"] == 3000.0
    slowest = get(app, "/api/v1/traces", query="transaction:upload", sort="-duration", period="1h")[
        "traces"
    ]
    assert slowest[0]["duration_ms"] == 3000.0


def test_regressions_find_a_step_change(app: App) -> None:
    rng = random.Random(3)
    now = time.time()
    start = now - 3600
    step = now - 47 * 60  # the scenario: "since 47 minutes ago"
    payloads = []
    for i in range(400):
        at = start + i * 9
        base = 2.0 if at < step else 12.0
        payloads.append(made("registerOnBlockchain", at, base * rng.lognormvariate(0, 0.1)))
        payloads.append(made("verifyToken", at, 0.12 * rng.lognormvariate(0, 0.3)))
    for first in range(0, len(payloads), 50):
        post(app, *payloads[first : first + 50])
    rows = get(app, "/api/v1/regressions", period="1h")["regressions"]
    [row] = [r for r in rows if r["metric"] == "p95"]
    assert row["transaction"] == "registerOnBlockchain"
    assert abs(row["started_at"] - step) <= 60  # within one bucket (period / 60)
    assert 1900 < row["before_ms"] < 2600 and 11000 < row["after_ms"] < 15000
    assert row["change_pct"] == round(
        (row["after_ms"] - row["before_ms"]) / row["before_ms"] * 100, 1
    )
    assert not any(r["transaction"] == "verifyToken" for r in rows)


def test_regressions_place_a_step_in_a_long_period_to_the_minute(app: App) -> None:
    """Issue 18's case: in a 24 h period (24-minute buckets) a step 30 minutes ago
    was reported from a boundary 6 minutes off, with slow samples in "before"."""
    rng = random.Random(18)
    now = time.time()
    step = now - 30 * 60
    median = 1 / math.exp(1.6449 * 0.25)  # a lognormal's p95 over its median, σ = 0.25
    payloads = []
    for i in range(700):
        at = now - 7200 + i * 7200 / 700
        p95_s = 2.0 if at < step else 12.0
        payloads.append(
            made("registerOnBlockchain", at, p95_s * median * rng.lognormvariate(0, 0.25))
        )
        payloads.append(made("verifyToken", at, 0.12 * rng.lognormvariate(0, 0.25)))
    for first in range(0, len(payloads), 100):
        post(app, *payloads[first : first + 100])
    rows = get(app, "/api/v1/regressions", period="24h")["regressions"]
    assert [(r["transaction"], r["metric"]) for r in rows] == [("registerOnBlockchain", "p95")]
    [row] = rows
    assert abs(row["started_at"] - step) <= 10 * 60
    assert 1800 < row["before_ms"] < 2200 and 10800 < row["after_ms"] < 13200
    assert 400 < row["change_pct"] < 600


def test_series_covers_the_period_in_buckets(app: App) -> None:
    now = time.time()
    send(app, "checkout", now - 90, 0.5)
    answer = get(
        app, "/api/v1/transactions/series", transaction="checkout", period="1h", interval=600
    )
    assert answer["interval"] == 600 and len(answer["series"]) == 6
    assert sum(p["count"] for p in answer["series"]) == 1
    assert answer["series"][-1]["p95_ms"] == 500.0


def test_services_and_impact_shapes(app: App) -> None:
    send(app, "checkout", time.time() - 10, 0.1, "internal_error")
    [service] = get(app, "/api/v1/services", period="1h")["services"]
    assert service["service"] == "default" and service["error_rate"] == 1.0
    impact = get(app, "/api/v1/impact", period="1h")
    assert set(impact) == {"users", "transactions", "by_country", "by_browser", "by_os"}
    assert impact["transactions"] == 1


def test_unknown_key_is_400_naming_it(app: App) -> None:
    answer = app.client.get(
        "/api/v1/transactions", params={"query": "transacton:checkout"}, headers=app.admin()
    )
    assert answer.status_code == 400
    assert answer.json()["detail"] == 'unknown key "transacton"; did you mean "transaction"?'
