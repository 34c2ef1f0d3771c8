"""The queries view through HTTP: ``GET /api/v1/queries`` and the ``/queries`` page,
on every store. Statements that differ only in values are one row; counts are
weighted by 1 / sample rate."""

from __future__ import annotations

import html
import re
from typing import Any

from envelopes import envelope_bytes, transaction
from inprocess.conftest import App


def send(app: App, rate: float, calls: list[tuple[str, str, float]]) -> None:
    """One checkout sampled at ``rate`` whose children are ``(op, description, ms)``."""
    payload = transaction(name="checkout", children=0)
    payload["contexts"]["trace"]["client_sample_rate"] = rate
    trace = payload["contexts"]["trace"]
    start = payload["start_timestamp"]
    for i, (op, description, ms) in enumerate(calls):
        payload["spans"].append(
            {
                "trace_id": trace["trace_id"],
                "span_id": f"{i + 1:016x}",
                "parent_span_id": trace["span_id"],
                "op": op,
                "description": description,
                "start_timestamp": start + 0.01,
                "timestamp": start + 0.01 + ms / 1000,
            }
        )
    answer = app.client.post(
        app.envelope_url(), content=envelope_bytes(payload), headers=app.auth()
    )
    assert answer.status_code == 200, answer.text


def seed(app: App) -> None:
    send(
        app,
        0.5,
        [
            ("db.sql.query", "SELECT name FROM users WHERE id = 1", 100.0),
            ("http.client", "GET https://api.stripe.com/v1/charges", 50.0),
        ],
    )
    send(app, 1.0, [("db", "SELECT name FROM users WHERE id = 2", 300.0),
                    ("db.query", "SELECT * FROM carts", 10.0)])  # fmt: skip


def get(app: App, **params: Any) -> dict[str, Any]:
    answer = app.client.get(
        "/api/v1/queries", params={"period": "1h", **params}, headers=app.admin()
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_statements_merge_once_masked_and_http_groups_by_domain(app: App) -> None:
    seed(app)
    answer = get(app)
    first, second = answer["queries"]
    assert first["statement"] == "SELECT name FROM users WHERE id = ?"
    assert (first["service"], first["transaction"]) == ("default", "checkout")
    assert (first["calls"], first["total_ms"]) == (3.0, 500.0)  # 2 x 100 + 1 x 300
    assert first["calls_per_min"] == 0.05  # 3 in an hour
    assert (second["statement"], second["calls"], second["p95_ms"]) == (
        "SELECT * FROM carts", 1.0, 10.0)  # fmt: skip
    [stripe] = answer["http"]
    assert (stripe["domain"], stripe["calls"], stripe["total_ms"]) == ("api.stripe.com", 2.0, 100.0)
    by_calls = get(app, sort="calls")["queries"]
    assert [r["calls"] for r in by_calls] == [1.0, 3.0]


def test_a_bad_sort_or_query_is_a_400(app: App) -> None:
    for params in ({"sort": "statement"}, {"query": "transacton:checkout"}):
        answer = app.client.get("/api/v1/queries", params=params, headers=app.admin())
        assert answer.status_code == 400, answer.text
        assert answer.json()["detail"]


def test_the_queries_page_lists_them_by_total_time_and_links_traces(app: App) -> None:
    seed(app)
    assert app.client.get(f"/?token={app.token}", follow_redirects=False).status_code == 303
    answer = app.client.get("/queries", params={"period": "1h"})
    assert answer.status_code == 200, answer.text
    text = html.unescape(answer.text)
    assert '<a href="/queries?period=1h" aria-current="page">Queries</a>' in text
    users = text.index("SELECT name FROM users WHERE id = ?")
    assert users < text.index("SELECT * FROM carts")  # 500 ms before 10 ms
    assert "api.stripe.com" in text
    assert "No database spans" not in text
    link = re.search(r'href="(/search\?query=span\.description[^"]*)"', answer.text)
    assert link, "no statement links to its traces"
    traces = app.client.get(html.unescape(link.group(1)))
    assert traces.status_code == 200, traces.text
    assert "checkout" in traces.text and "No traces" not in traces.text
