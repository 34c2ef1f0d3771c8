"""The span explorer through the JSON API: ``GET /api/v1/spans`` lists every span
(children too), ``GET /api/v1/spans/aggregate`` groups them with weighted counts."""

from __future__ import annotations

from typing import Any

import pytest

from envelopes import envelope_bytes, transaction
from inprocess.conftest import App


def checkout(app: App, cache_ms: list[float], rate: float = 1.0) -> dict[str, Any]:
    """A checkout whose db.query children are 100 ms and which has a cache.get child
    per ``cache_ms``, tagged by the cache's name; sampled at ``rate``."""
    payload = transaction(name="checkout", children=1)
    payload["contexts"]["trace"]["client_sample_rate"] = rate
    root = payload["contexts"]["trace"]["span_id"]
    start = payload["start_timestamp"]
    for i, ms in enumerate(cache_ms):
        payload["spans"].append(
            {
                "trace_id": payload["contexts"]["trace"]["trace_id"],
                "span_id": f"{i + 1:016x}",
                "parent_span_id": root,
                "op": "cache.get",
                "description": f"GET cart:{i}",
                "start_timestamp": start + 0.01,
                "timestamp": start + 0.01 + ms / 1000,
                "tags": {"cache": "redis" if i % 2 == 0 else "memcached"},
            }
        )
    answer = app.client.post(
        app.envelope_url(), content=envelope_bytes(payload), headers=app.auth()
    )
    assert answer.status_code == 200, answer.text
    return payload


def get(app: App, path: str, **params: Any) -> Any:
    return app.client.get(path, params={"period": "1h", **params}, headers=app.admin())


def ok(app: App, path: str, **params: Any) -> dict[str, Any]:
    answer = get(app, path, **params)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_spans_lists_child_spans_with_their_trace(app: App) -> None:
    payload = checkout(app, [30.0, 10.0])
    spans = ok(app, "/api/v1/spans", query="span.op:cache.get", sort="-duration")["spans"]
    assert [s["description"] for s in spans] == ["GET cart:0", "GET cart:1"]
    first = spans[0]
    assert first["trace_id"] == payload["contexts"]["trace"]["trace_id"]
    assert first["parent_span_id"] == payload["contexts"]["trace"]["span_id"]
    assert (first["project"], first["transaction"], first["op"]) == (
        "default",
        "checkout",
        "cache.get",
    )
    assert first["duration_ms"] == pytest.approx(30.0, abs=0.01)
    assert first["tags"] == {"cache": "redis"}
    assert set(first) >= {"service", "status", "start_timestamp", "timestamp", "data"}
    by_tag = ok(app, "/api/v1/spans", query="cache:memcached")["spans"]
    assert [s["description"] for s in by_tag] == ["GET cart:1"]
    assert len(ok(app, "/api/v1/spans", limit="2")["spans"]) == 2
    assert len(ok(app, "/api/v1/spans")["spans"]) == 4  # the root, db.query, two cache.get


def test_aggregate_weights_counts_by_the_sample_rate(app: App) -> None:
    checkout(app, [20.0, 40.0], rate=0.1)
    checkout(app, [60.0], rate=1.0)
    groups = ok(app, "/api/v1/spans/aggregate", group_by="span.op")["groups"]
    assert [g["span.op"] for g in groups] == ["cache.get", "db.query", "http.server"]
    cache = groups[0]
    assert (cache["count"], cache["samples"]) == (21.0, 3)
    # durations are differences of epoch seconds: equal to about a microsecond
    assert cache["sum_ms"] == pytest.approx(10 * (20 + 40) + 60, abs=0.01)
    assert cache["avg_ms"] == pytest.approx(40.0, abs=0.01)
    assert cache["p50_ms"] == pytest.approx(40.0, abs=0.01)
    assert cache["failure_rate"] == 0.0
    assert groups[1]["count"] == 11.0


def test_aggregate_by_a_tag_with_fields(app: App) -> None:
    checkout(app, [20.0, 40.0, 60.0])
    answer = ok(
        app, "/api/v1/spans/aggregate", query="span.op:cache.get",
        group_by="cache,transaction", fields="count,p95_ms",
    )  # fmt: skip
    assert answer["groups"] == [
        {
            "cache": "redis",
            "transaction": "checkout",
            "count": 2.0,
            "p95_ms": pytest.approx(58.0, abs=0.01),
        },
        {
            "cache": "memcached",
            "transaction": "checkout",
            "count": 1.0,
            "p95_ms": pytest.approx(40.0, abs=0.01),
        },
    ]


def test_aggregate_with_an_interval_adds_the_top_groups_over_time(app: App) -> None:
    checkout(app, [20.0, 40.0], rate=0.1)
    checkout(app, [60.0])
    plain = ok(app, "/api/v1/spans/aggregate", group_by="span.op")
    assert set(plain) == {"groups"}  # the shape without a series is unchanged
    answer = ok(
        app, "/api/v1/spans/aggregate", group_by="span.op", fields="count,p95_ms",
        interval="600", top="2",
    )  # fmt: skip
    assert [g["span.op"] for g in answer["groups"]] == [g["span.op"] for g in plain["groups"]]
    assert answer["interval"] == 600.0
    series = answer["series"]
    assert [s["span.op"] for s in series] == ["cache.get", "db.query"]
    cache = series[0]["points"]
    assert len(cache) == 6  # one hour in ten-minute buckets, empty ones included
    assert [p["timestamp"] for p in cache] == sorted(p["timestamp"] for p in cache)
    assert set(cache[0]) == {"timestamp", "count", "p95_ms"}
    full = [p for p in cache if p["count"]]
    assert sum(p["count"] for p in full) == 21.0
    assert full[-1]["p95_ms"] == pytest.approx(58.0, abs=0.01)
    assert all(p["p95_ms"] is None for p in cache if not p["count"])
    default = ok(app, "/api/v1/spans/aggregate", group_by="span.op", timeseries="1")
    assert default["interval"] == 60.0 and len(default["series"]) == 3
    assert len(default["series"][0]["points"]) == 60


def test_bad_requests_are_400_with_the_reason(app: App) -> None:
    checkout(app, [10.0])
    cases = [
        ("/api/v1/spans", {"limit": "1001"}, "1000"),
        ("/api/v1/spans", {"limit": "0"}, "1000"),
        ("/api/v1/spans", {"sort": "count"}, "-duration"),
        ("/api/v1/spans", {"query": "span.opp:db"}, 'did you mean "span.op"'),
        ("/api/v1/spans/aggregate", {}, "group_by is required"),
        ("/api/v1/spans/aggregate", {"group_by": "span.opp"}, 'did you mean "span.op"'),
        ("/api/v1/spans/aggregate", {"group_by": "error.type"}, "cannot be grouped"),
        ("/api/v1/spans/aggregate", {"group_by": "span.op", "fields": "p99"}, "p99"),
        ("/api/v1/spans/aggregate", {"group_by": "a,b,c,d,e,f"}, "at most 5"),
        ("/api/v1/spans/aggregate", {"group_by": "span.op", "period": "soon"}, "period"),
        ("/api/v1/spans/aggregate", {"group_by": "span.op", "interval": "0"}, "interval 0"),
        ("/api/v1/spans/aggregate", {"group_by": "span.op", "interval": "1"}, "2000 buckets"),
        ("/api/v1/spans/aggregate", {"group_by": "span.op", "interval": "nan"}, "interval"),
        ("/api/v1/spans/aggregate", {"group_by": "span.op", "interval": "inf"}, "interval"),
        (
            "/api/v1/spans/aggregate",
            {"group_by": "span.op", "interval": "60", "top": "21"},
            "1 to 20",
        ),
        (
            "/api/v1/spans/aggregate",
            {"group_by": "error.type", "timeseries": "1"},
            "cannot be grouped",
        ),
    ]
    for path, params, reason in cases:
        answer = get(app, path, **params)
        assert answer.status_code == 400, (path, params, answer.text)
        assert reason in answer.json()["detail"], (path, params, answer.text)


def test_spans_need_a_viewer(app: App) -> None:
    assert app.client.get("/api/v1/spans").status_code == 401
    assert app.client.get("/api/v1/spans/aggregate?group_by=span.op").status_code == 401
