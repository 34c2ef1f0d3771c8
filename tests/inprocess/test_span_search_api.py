"""Span-level search keys through the JSON API: traces, transactions and impact
find a transaction by a child span (issue 18's cases)."""

from __future__ import annotations

import time

from envelopes import envelope_bytes, new_span_id, transaction
from inprocess.conftest import App


def register(app: App, start: float, wait_s: float, wait: str, status: str, email: str) -> str:
    """A registerOnBlockchain transaction whose child span waits ``wait_s`` seconds."""
    payload = transaction(name="registerOnBlockchain", children=1)
    root = payload["contexts"]["trace"]["span_id"]
    payload["start_timestamp"], payload["timestamp"] = start, start + wait_s + 0.2
    payload["contexts"]["trace"]["status"] = status
    payload["user"] = {"email": email}
    payload["spans"].append(
        {
            "trace_id": payload["contexts"]["trace"]["trace_id"],
            "span_id": new_span_id(),
            "parent_span_id": root,
            "op": "blockchain.wait",
            "description": wait,
            "status": "deadline_exceeded" if wait_s > 5 else "ok",
            "start_timestamp": start + 0.1,
            "timestamp": start + 0.1 + wait_s,
        }
    )
    post(app, payload)
    return str(payload["contexts"]["trace"]["trace_id"])


def post(app: App, *payloads: dict) -> None:
    answer = app.client.post(
        app.envelope_url(), content=envelope_bytes(*payloads), headers=app.auth()
    )
    assert answer.status_code == 200, answer.text


def get(app: App, path: str, query: str) -> dict:
    answer = app.client.get(path, params={"query": query, "period": "1h"}, headers=app.admin())
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_child_spans_answer_span_level_keys(app: App) -> None:
    now = time.time()
    slow = register(app, now - 60, 9.0, "Wait for confirmation", "internal_error", "a@x.io")
    fast = register(app, now - 30, 0.1, "Wait for receipt", "ok", "b@x.io")
    post(app, transaction(name="checkout"))  # db.query children only

    def traces(query: str) -> set[str]:
        return {row["trace_id"] for row in get(app, "/api/v1/traces", query)["traces"]}

    def transactions(query: str) -> dict[str, int]:
        rows = get(app, "/api/v1/transactions", query)["transactions"]
        return {row["transaction"]: row["count"] for row in rows}

    assert traces("span.op:blockchain.wait") == {slow, fast}
    assert traces("span.description:Wait*") == {slow, fast}
    assert traces("confirmation") == {slow}
    assert traces("span.op:blockchain.wait span.duration:>5s") == {slow}
    assert traces("span.op:db.query span.duration:>5s") == set()
    assert transactions("span.op:blockchain.wait") == {"registerOnBlockchain": 2}
    assert transactions("span.description:SELECT*") == {"registerOnBlockchain": 2, "checkout": 1}
    assert transactions("!span.op:blockchain.wait") == {"checkout": 1}
    impact = get(app, "/api/v1/impact", "span.status:deadline_exceeded")
    assert (impact["transactions"], impact["users"]) == (1, 1)
    assert (
        get(app, "/api/v1/impact", "span.op:blockchain.wait span.duration:<1s")["transactions"] == 0
    )  # the fast wait's transaction did not fail


def test_span_duration_takes_a_duration(app: App) -> None:
    answer = app.client.get(
        "/api/v1/traces", params={"query": "span.duration:>soon"}, headers=app.admin()
    )
    assert answer.status_code == 400
    assert "a duration such as 500ms" in answer.json()["detail"]
