"""Performance issues from the real sentry-sdk: a Flask service with SQLAlchemy on
SQLite loads a case's pages one document at a time (an N+1), then with one join
(no issue), and runs a slow report query."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from e2e.services import Service
from serverproc import RunningServer

pytestmark = pytest.mark.e2e

PROJECT = "py-orm"
LAZY_LOAD = "FROM pages WHERE ? = pages.document_id"


@pytest.fixture(scope="module")
def orm_app(server: RunningServer) -> Iterator[Service]:
    project = server.project(PROJECT)
    service = Service("orm_service.py", {"SENTRY_DSN": project["dsn"]}).wait_ready()
    yield service
    service.stop()


def call(service: Service, path: str) -> dict[str, Any]:
    answer = httpx.get(service.url + path, timeout=30).json()
    httpx.get(service.url + "/flush", timeout=20)
    return dict(answer)


def issues(server: RunningServer, query: str) -> list[dict[str, Any]]:
    answer = server.api(
        "GET", "/api/v1/issues", params={"query": f"project:{PROJECT} {query}", "period": "1h"}
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["issues"])


def test_an_n_plus_one_becomes_a_performance_issue_and_a_join_does_not(
    server: RunningServer, orm_app: Service
) -> None:
    joined = call(orm_app, "/joined")
    loaded = call(orm_app, "/n-plus-one")
    assert loaded["documents"] == 10 and loaded["pages"] == joined["pages"]
    server.wait_for_trace(joined["trace_id"])

    found = server.poll(
        "/api/v1/issues?period=1h&query=project:py-orm issue.type:n_plus_one_db_queries",
        lambda body: body["issues"],
    )["issues"]
    [issue] = found
    assert (issue["category"], issue["culprit"], issue["title"]) == (
        "performance",
        "n_plus_one",
        "N+1 Query",
    )
    assert LAZY_LOAD in issue["value"]

    detail = server.api("GET", f"/api/v1/issues/{issue['id']}").json()
    event = detail["latest_event"]
    evidence = event["evidence"]
    assert event["trace_id"] == loaded["trace_id"]
    assert evidence["repeated"] == 10 and LAZY_LOAD in evidence["statement"]
    assert evidence["duration_ms"] >= 50
    trace = server.wait_for_trace(loaded["trace_id"])
    spans = {s["span_id"]: s for s in trace["spans"]}
    repeated = [spans[i] for i in evidence["span_ids"]]
    assert len(repeated) == 10
    assert all(LAZY_LOAD in " ".join(s["description"].split()) for s in repeated)
    # the issue page shows the statement, how often and how long, and links the spans
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        assert browser.get(f"/?token={server.token}").status_code == 303  # logged in
        html = browser.get(f"/issues/{issue['id']}").text
    assert LAZY_LOAD in html and "run <b>10</b> times in a row" in html
    first = evidence["span_ids"][0]
    run = "%2C".join(evidence["span_ids"])
    link = f'href="/traces/{loaded["trace_id"]}?span={first}&amp;highlight={run}#span-{first}"'
    assert link in html
    # the terminal waterfall marks the same spans (the real CLI, over HTTP)
    command = [sys.executable, "-m", "glasspane", "trace", loaded["trace_id"], "--width", "120"]
    command += ["--server", server.url, "--token", server.token]
    command += ["--highlight", ",".join(evidence["span_ids"])]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    marked = [line for line in result.stdout.splitlines() if "◀" in line]
    assert len(marked) == 11 and marked[-1] == "◀ 10 highlighted spans"
    assert all("pages" in line for line in marked[:-1])
    # the N+1 is not an error: the trace keeps no error, its status stays ok
    assert trace["errors"] == [] and trace["status"] == "ok"

    # the same data with one join: no issue names that transaction; no error issue either
    assert [i for i in issues(server, "") if i["culprit"] == "joined"] == []
    assert issues(server, "issue.category:error") == []


def test_a_slow_query_is_a_performance_issue(server: RunningServer, orm_app: Service) -> None:
    report = call(orm_app, "/report")
    found = server.poll(
        "/api/v1/issues?period=1h&query=project:py-orm issue.type:slow_db_query",
        lambda body: body["issues"],
    )["issues"]
    [issue] = found
    assert (issue["culprit"], issue["category"]) == ("report", "performance")
    assert "WHERE x < ?) SELECT count(*) FROM n" in issue["value"]
    event = server.api("GET", f"/api/v1/issues/{issue['id']}").json()["latest_event"]
    assert event["trace_id"] == report["trace_id"]
    assert event["evidence"]["duration_ms"] > 500 and event["evidence"]["repeated"] == 1
