"""The issues API in-process: grouping, counts and users, the latest event in
full, paging, related issues, status and regressions, search and its errors."""

from __future__ import annotations

import time
from typing import Any

import pytest

from envelopes import envelope_bytes, error_event, new_span_id, new_trace_id
from inprocess.conftest import App

#: The fields every issue of `GET /api/v1/issues` has (its public interface).
API_FIELDS = {
    "id", "title", "type", "value", "culprit", "level", "status", "count", "users",
    "first_seen", "last_seen", "project",
}  # fmt: skip


def send(app: App, *events: dict[str, Any]) -> None:
    for event in events:
        answer = app.client.post(
            app.envelope_url(), content=envelope_bytes(event), headers=app.auth()
        )
        assert answer.status_code == 200, answer.text


def get(app: App, path: str, **params: Any) -> Any:
    answer = app.client.get(path, params=params, headers=app.admin())
    assert answer.status_code == 200, answer.text
    return answer.json()


def issues(app: App, **params: Any) -> list[dict[str, Any]]:
    return list(get(app, "/api/v1/issues", **params)["issues"])


def set_status(app: App, issue_id: int, status: str) -> Any:
    return app.client.post(
        f"/api/v1/issues/{issue_id}", json={"status": status}, headers=app.admin()
    )


def bug(kind: str = "ValueError", value: str = "bad input 42", line: int = 10, **extra: Any):
    event = error_event(**extra)
    exc = event["exception"]["values"][0]
    exc["type"], exc["value"] = kind, value
    exc["stacktrace"]["frames"][0]["lineno"] = line
    return event


def test_events_group_into_issues_with_counts_and_users(app: App) -> None:
    send(
        app,
        bug(line=10, user={"id": "u1", "email": "a@x.test"}),
        bug(line=11, value="bad input 7", user={"id": "u1"}),
        bug(line=12, user={"email": "b@x.test"}),
        bug(line=13, user={"ip_address": "10.1.2.3"}),
        bug(line=14),
        bug("KeyError", "'user'", user={"username": "carol"}),
    )
    listed = issues(app)
    assert len(listed) == 2
    by_type = {i["type"]: i for i in listed}
    value_error, key_error = by_type["ValueError"], by_type["KeyError"]
    assert set(value_error) >= API_FIELDS
    assert value_error["count"] == 5 and value_error["users"] == 3
    assert key_error["count"] == 1 and key_error["users"] == 1
    assert value_error["status"] == "unresolved" and value_error["project"] == "default"
    assert value_error["level"] == "error" and value_error["culprit"] == "app.py in handler"
    assert value_error["title"].startswith("ValueError: bad input")
    assert value_error["first_seen"] <= value_error["last_seen"] <= time.time()
    assert sum(value_error["series"]) == 5 and len(value_error["series"]) == 24
    assert value_error["regressed"] is False
    # default sort: most recently seen first
    assert [i["type"] for i in listed] == ["KeyError", "ValueError"]
    assert [i["type"] for i in issues(app, sort="-count")] == ["ValueError", "KeyError"]
    assert [i["type"] for i in issues(app, sort="count")] == ["KeyError", "ValueError"]


def test_counts_are_in_the_period_first_and_last_seen_all_time(app: App) -> None:
    old = time.time() - 2 * 86400
    send(app, bug(timestamp=old), bug(timestamp=old + 60), bug())
    [issue] = issues(app)
    assert issue["count"] == 1 and issue["total_count"] == 3
    assert issue["first_seen"] == pytest.approx(old)
    [week] = issues(app, period="7d")
    assert week["count"] == 3
    send(app, bug("OldError", timestamp=old))
    assert [i["type"] for i in issues(app)] == ["ValueError"]  # nothing in the last 24h
    assert {i["type"] for i in issues(app, period="7d")} == {"ValueError", "OldError"}


def test_search_filters_issues_and_reports_mistakes(app: App) -> None:
    send(
        app,
        bug(user={"email": "demo@test.com"}, tags={"region": "eu"}),
        bug("KeyError", "'x'", transaction="uploadDocument", level="fatal"),
    )
    assert [i["type"] for i in issues(app, query="error.type:KeyError")] == ["KeyError"]
    assert [i["type"] for i in issues(app, query="user.email:demo@test.com")] == ["ValueError"]
    assert [i["type"] for i in issues(app, query="transaction:upload*")] == ["KeyError"]
    assert [i["type"] for i in issues(app, query="region:eu")] == ["ValueError"]
    assert [i["type"] for i in issues(app, query="!level:fatal")] == ["ValueError"]
    assert {i["type"] for i in issues(app, query="level:fatal OR region:eu")} == {
        "ValueError",
        "KeyError",
    }
    assert issues(app, query="keyerror") != []  # free text is case-insensitive
    for query, status, detail in [
        ("user.email:", 400, 'expected a value after "user.email:" at column 12'),
        ("usr.email:x", 400, 'unknown key "usr.email"; did you mean "user.email"?'),
        ("is:open", 400, "expected unresolved, resolved, ignored or regressed"),
    ]:
        answer = app.client.get("/api/v1/issues", params={"query": query}, headers=app.admin())
        assert answer.status_code == status and detail in answer.json()["detail"]
    bad_sort = app.client.get("/api/v1/issues", params={"sort": "-x"}, headers=app.admin())
    assert bad_sort.status_code == 400 and "last_seen" in bad_sort.json()["detail"]
    bad_period = app.client.get("/api/v1/issues", params={"period": "x"}, headers=app.admin())
    assert bad_period.status_code == 400


def chained_event(trace_id: str, span_id: str) -> dict[str, Any]:
    event = error_event(trace_id, span_id)
    frame = {
        "filename": "app/chain.py",
        "abs_path": "/srv/app/chain.py",
        "function": "submit",
        "module": "app.chain",
        "lineno": 42,
        "in_app": True,
        "context_line": "    raise RuntimeError('submit failed')",
        "pre_context": ["def submit():", "  try:"],
        "post_context": [""],
    }
    event["exception"]["values"] = [
        {"type": "TimeoutError", "value": "rpc timed out", "stacktrace": {"frames": [frame]}},
        {
            "type": "RuntimeError",
            "value": "submit failed",
            "stacktrace": {"frames": [{**frame, "function": "outer", "in_app": False}, frame]},
        },
    ]
    event.update(
        user={"id": "u-9", "email": "demo@test.com"},
        tags={"region": "eu"},
        release="web@2.0.0",
        environment="prod",
        contexts={**event["contexts"], "blockchain": {"network": "base-sepolia"}},
        breadcrumbs={"values": [{"category": "http", "message": "POST /rpc"}]},
        request={"method": "POST", "url": "https://x.test/upload"},
    )
    return event


def test_issue_detail_has_the_latest_event_in_full(app: App) -> None:
    trace_id, span_id = new_trace_id(), new_span_id()
    send(app, chained_event(trace_id, span_id))
    [listed] = issues(app)
    detail = get(app, f"/api/v1/issues/{listed['id']}")
    assert set(detail) >= API_FIELDS
    event = detail["latest_event"]
    assert [e["type"] for e in event["exceptions"]] == ["TimeoutError", "RuntimeError"]
    crash = event["exceptions"][-1]["frames"][-1]
    assert crash == {
        "file": "app/chain.py",
        "abs_path": "/srv/app/chain.py",
        "function": "submit",
        "module": "app.chain",
        "line": 42,
        "column": None,
        "in_app": True,
        "context_line": "    raise RuntimeError('submit failed')",
        "pre_context": ["def submit():", "  try:"],
        "post_context": [""],
        "vars": {},
        "raw": None,  # only a frame mapped through a source map has its minified place
    }
    assert event["exceptions"][-1]["frames"][0]["in_app"] is False
    assert event["contexts"]["blockchain"] == {"network": "base-sepolia"}
    assert event["custom_contexts"] == {"blockchain": {"network": "base-sepolia"}}
    assert event["tags"]["region"] == "eu"
    assert event["user"] == {"id": "u-9", "email": "demo@test.com"}
    assert event["breadcrumbs"] == [{"category": "http", "message": "POST /rpc"}]
    assert event["request"]["method"] == "POST"
    assert (event["release"], event["environment"]) == ("web@2.0.0", "prod")
    assert (event["trace_id"], event["span_id"]) == (trace_id, span_id)
    assert event["trace_url"] == f"/api/v1/traces/{trace_id}"
    assert detail["title"] == "RuntimeError: submit failed"
    single = get(app, f"/api/v1/issues/{listed['id']}/events/{event['event_id']}")
    assert single == event


def test_events_are_paged_and_related_issues_share_traces(app: App) -> None:
    trace_id = new_trace_id()
    send(app, *[bug(line=i, trace_id=trace_id if i == 0 else None) for i in range(5)])
    send(app, bug("KeyError", trace_id=trace_id), bug("OtherError"))
    by_type = {i["type"]: i for i in issues(app)}
    issue_id = by_type["ValueError"]["id"]
    detail = get(app, f"/api/v1/issues/{issue_id}", limit=2)
    assert len(detail["events"]) == 2 and detail["next_offset"] == 2
    page = get(app, f"/api/v1/issues/{issue_id}/events", limit=2, offset=4)
    assert len(page["events"]) == 1 and page["next_offset"] is None
    all_events = get(app, f"/api/v1/issues/{issue_id}/events", limit=10)["events"]
    assert len(all_events) == 5
    assert [e["timestamp"] for e in all_events] == sorted(
        (e["timestamp"] for e in all_events), reverse=True
    )
    assert detail["latest_event"]["event_id"] == all_events[0]["event_id"]
    assert [r["id"] for r in detail["related"]] == [by_type["KeyError"]["id"]]
    assert detail["related"][0]["shared_traces"] == 1


def test_resolve_then_a_new_event_regresses(app: App) -> None:
    send(app, bug())
    [issue] = issues(app)
    resolved = set_status(app, issue["id"], "resolved")
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert [i["id"] for i in issues(app, query="is:resolved")] == [issue["id"]]
    assert issues(app, query="is:unresolved") == []
    send(app, bug(line=99))
    [again] = issues(app)
    assert again["id"] == issue["id"]
    assert again["status"] == "unresolved" and again["regressed"] is True
    assert again["count"] == 2
    assert [i["id"] for i in issues(app, query="is:regressed")] == [issue["id"]]
    # ignoring is kept through new events; reopening by hand clears "regressed"
    assert set_status(app, issue["id"], "ignored").json()["regressed"] is False
    send(app, bug())
    assert issues(app)[0]["status"] == "ignored"
    assert set_status(app, issue["id"], "unresolved").json()["status"] == "unresolved"


def test_status_mistakes_and_unknown_issues(app: App) -> None:
    send(app, bug())
    [issue] = issues(app)
    bad = set_status(app, issue["id"], "closed")
    assert bad.status_code == 400 and "status" in bad.json()["detail"]
    assert set_status(app, 999, "resolved").status_code == 404
    missing = app.client.get("/api/v1/issues/999", headers=app.admin())
    assert missing.status_code == 404 and "No issue 999" in missing.json()["detail"]
    no_event = app.client.get(
        f"/api/v1/issues/{issue['id']}/events/{'0' * 32}", headers=app.admin()
    )
    assert no_event.status_code == 404
    assert app.client.get("/api/v1/issues").status_code == 401


def test_openapi_lists_the_issue_routes(app: App) -> None:
    paths = get(app, "/openapi.json")["paths"]
    assert {"/api/v1/issues", "/api/v1/issues/{issue_id}", "/api/v1/issues/{issue_id}/tags"} <= set(
        paths
    )
    assert "post" in paths["/api/v1/issues/{issue_id}"]


def tagged(env: str, browser: str, network: str, **extra: Any) -> dict[str, Any]:
    event = bug(environment=env, release="shop@2.1", tags={"tenant": "acme"}, **extra)
    event["contexts"]["browser"] = {"name": browser, "version": "120"}
    event["contexts"]["os"] = {"name": "Windows"}
    event["contexts"]["blockchain"] = {"network": network, "gas": 21000, "peers": ["a"]}
    return event


def test_tags_break_down_every_event_of_the_issue(app: App) -> None:
    old = time.time() - 2 * 86400
    send(
        app,
        *[tagged("production", "Chrome", "mainnet") for _ in range(5)],
        *[tagged(env, "Firefox", "sepolia") for env in ("staging", "dev", "qa", "ci", "lab")],
        tagged("production", "Safari", "mainnet", timestamp=old),
    )
    [issue] = issues(app)
    answer = get(app, f"/api/v1/issues/{issue['id']}/tags")
    tags = {t["key"]: t for t in answer["tags"]}
    assert [t["key"] for t in answer["tags"]][:4] == ["environment", "release", "browser", "os"]
    env = tags["environment"]
    assert env["total"] == 10 and env["other"] == {"count": 1, "share": 0.1}
    assert env["values"][0] == {"value": "production", "count": 5, "share": 0.5}
    assert [v["value"] for v in env["values"]] == ["production", "ci", "dev", "lab", "qa"]
    assert tags["browser"]["values"] == [
        {"value": "Chrome", "count": 5, "share": 0.5},
        {"value": "Firefox", "count": 5, "share": 0.5},
    ]
    assert tags["blockchain.network"]["values"][0]["count"] == 5
    assert tags["blockchain.gas"]["values"] == [{"value": "21000", "count": 10, "share": 1.0}]
    assert "blockchain.peers" not in tags and tags["tenant"]["total"] == 10
    week = {
        t["key"]: t for t in get(app, f"/api/v1/issues/{issue['id']}/tags", period="7d")["tags"]
    }
    assert week["browser"]["total"] == 11 and week["environment"]["values"][0]["count"] == 6
    only_chrome = get(app, f"/api/v1/issues/{issue['id']}/tags", query="environment:production")
    assert [v["value"] for v in only_chrome["tags"][2]["values"]] == ["Chrome"]
    missing = app.client.get("/api/v1/issues/999/tags", headers=app.admin())
    assert missing.status_code == 404
    bad = app.client.get(f"/api/v1/issues/{issue['id']}/tags?period=forever", headers=app.admin())
    assert bad.status_code == 400
    assert app.client.get(f"/api/v1/issues/{issue['id']}/tags").status_code == 401
