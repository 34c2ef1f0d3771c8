"""The transaction summary's endpoints in-process, over real envelopes:
``/api/v1/transactions/tags`` and ``/api/v1/transactions/suspect-spans``."""

from __future__ import annotations

import time
import uuid
from typing import Any

from envelopes import envelope_bytes, transaction
from inprocess.conftest import App


def checkout(start: float, db_ms: float, network: str, env: str = "production") -> dict[str, Any]:
    """A checkout with two ``SELECT cart`` queries of ``db_ms`` and one price call."""
    payload = transaction(name="checkout", environment=env, release="shop@3.0")
    payload["start_timestamp"], payload["timestamp"] = start, start + 1.0
    payload["contexts"]["blockchain"] = {"network": network}
    payload["contexts"]["browser"] = {"name": "Firefox", "version": "128"}
    root = payload["contexts"]["trace"]
    payload["spans"] = [
        {
            "trace_id": root["trace_id"],
            "span_id": uuid.uuid4().hex[:16],
            "parent_span_id": root["span_id"],
            "op": op,
            "description": description,
            "start_timestamp": start + 0.01 + n * 0.3,
            "timestamp": start + 0.01 + n * 0.3 + ms / 1000,
        }
        for n, (op, description, ms) in enumerate(
            [
                ("db.query", "SELECT cart", db_ms),
                ("db.query", "SELECT cart", db_ms),
                ("http.client", "GET /price", 30.0),
            ]
        )
    ]
    return payload


def post(app: App, payload: dict[str, Any], rate: float = 1.0) -> None:
    trace = {"trace_id": payload["contexts"]["trace"]["trace_id"], "sample_rate": str(rate)}
    body = envelope_bytes(payload, headers={"trace": trace})
    answer = app.client.post(app.envelope_url(), content=body, headers=app.auth())
    assert answer.status_code == 200, answer.text


def get(app: App, path: str, **params: object) -> dict[str, Any]:
    answer = app.client.get(path, params=params, headers=app.admin())
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def load(app: App) -> None:
    now = time.time()
    for n in range(3):  # the hour before the last: quick queries
        post(app, checkout(now - 5400 + n * 60, 20.0, "mainnet"))
    for n in range(3):  # the last hour: 10x slower, sampled at 50 %
        network = "mainnet" if n == 0 else "base-sepolia"
        post(app, checkout(now - 1800 + n * 60, 200.0, network, "staging" if n else "prod"), 0.5)


def test_suspect_spans_name_the_kind_that_slowed(app: App) -> None:
    load(app)
    answer = get(app, "/api/v1/transactions/suspect-spans", transaction="checkout", period="1h")
    [db] = answer["suspect_spans"]  # the price call did not grow
    assert db == {
        "op": "db.query",
        "description": "SELECT cart",
        "avg_ms_per_transaction": 400.0,
        "before_avg_ms_per_transaction": 40.0,
        "change_ms": 360.0,
        "change_pct": 900.0,
        "count_per_transaction": 2.0,
        "before_count_per_transaction": 2.0,
        "samples": 6,
        "query": 'transaction:"checkout" span.op:"db.query" span.description:"SELECT cart"',
    }
    spans = get(app, "/api/v1/spans", query=db["query"], period="1h")["spans"]
    assert len(spans) == 6 and {s["duration_ms"] for s in spans} == {200.0}
    other = get(app, "/api/v1/transactions/suspect-spans", transaction="login", period="1h")
    assert other == {"suspect_spans": []}


def test_tags_break_down_the_transaction_weighted(app: App) -> None:
    load(app)
    answer = get(app, "/api/v1/transactions/tags", transaction="checkout", period="1h")
    tags = {t["key"]: t for t in answer["tags"]}
    assert [t["key"] for t in answer["tags"]][:3] == ["environment", "release", "browser"]
    assert tags["blockchain.network"]["total"] == 6  # three transactions, each stands for 2
    assert tags["blockchain.network"]["values"] == [
        {"value": "base-sepolia", "count": 4, "share": 0.6667},
        {"value": "mainnet", "count": 2, "share": 0.3333},
    ]
    assert tags["browser"]["values"] == [{"value": "Firefox", "count": 6, "share": 1.0}]
    day = get(app, "/api/v1/transactions/tags", transaction="checkout", period="24h")
    assert {t["key"]: t for t in day["tags"]}["blockchain.network"]["values"][0] == {
        "value": "mainnet",
        "count": 5,
        "share": 0.5556,
    }
    staging = get(
        app, "/api/v1/transactions/tags", transaction="checkout", query="environment:staging"
    )
    assert {t["key"]: t for t in staging["tags"]}["environment"]["values"][0]["count"] == 4


def test_mistakes_are_400_and_strangers_401(app: App) -> None:
    for path in ("/api/v1/transactions/tags", "/api/v1/transactions/suspect-spans"):
        missing = app.client.get(path, headers=app.admin())
        assert missing.status_code == 400 and "transaction" in missing.json()["detail"]
        bad = app.client.get(
            path, params={"transaction": "x", "period": "ever"}, headers=app.admin()
        )
        assert bad.status_code == 400 and "period" in bad.json()["detail"]
        unknown = app.client.get(
            path, params={"transaction": "x", "query": "nosuchkey:1"}, headers=app.admin()
        )
        assert unknown.status_code == 400, unknown.text
        assert app.client.get(path, params={"transaction": "x"}).status_code == 401


def test_compare_aligns_two_traces_and_names_a_missing_one(app: App) -> None:
    now = time.time()
    slow, quick = checkout(now - 60, 200.0, "mainnet"), checkout(now - 30, 20.0, "mainnet")
    late = {"start_timestamp": now - 60 + 0.9, "timestamp": now - 60 + 0.95, "op": "retry"}
    slow["spans"].append({**slow["spans"][2], "span_id": uuid.uuid4().hex[:16], **late})
    post(app, slow)
    post(app, quick)
    a, b = (p["contexts"]["trace"]["trace_id"] for p in (quick, slow))
    answer = get(app, "/api/v1/traces/compare", a=a, b=b)
    assert (answer["a"]["trace_id"], answer["b"]["trace_id"]) == (a, b)
    assert (answer["a"]["spans"], answer["b"]["spans"]) == (4, 5)
    rows = [(r["op"], r["presence"], r["diff_ms"]) for r in answer["rows"]]
    assert rows == [
        ("http.server", "both", 0.0),  # both transactions last 1 s
        ("db.query", "both", 180.0),
        ("db.query", "both", 180.0),
        ("http.client", "both", 0.0),
        ("retry", "b", None),
    ]
    missing = "f" * 32
    gone = app.client.get(
        "/api/v1/traces/compare", params={"a": a, "b": missing}, headers=app.admin()
    )
    assert gone.status_code == 404 and missing in gone.json()["detail"]
    bad = app.client.get("/api/v1/traces/compare", params={"a": a, "b": "x"}, headers=app.admin())
    assert bad.status_code == 400 and "32 hex" in bad.json()["detail"]
    assert app.client.get("/api/v1/traces/compare", headers=app.admin()).status_code == 400
    assert app.client.get("/api/v1/traces/compare", params={"a": a, "b": b}).status_code == 401
