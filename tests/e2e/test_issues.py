"""Real exceptions from the real sentry-sdk become issues: grouping, the latest
event in full, resolve → new event → regressed, and the CLI's tables."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from e2e.services import Service
from serverproc import RunningServer
from waiting import wait_until

pytestmark = pytest.mark.e2e

PROJECT = "py-errors"
MINE = f"project:{PROJECT}"


@pytest.fixture(scope="module")
def errors_app(server: RunningServer) -> Iterator[Service]:
    project = server.project(PROJECT)
    service = Service("error_service.py", {"SENTRY_DSN": project["dsn"]}).wait_ready()
    yield service
    service.stop()


def hit(service: Service, path: str, **params: Any) -> None:
    httpx.get(service.url + path, params=params, timeout=20)


def flush(service: Service) -> None:
    httpx.get(service.url + "/flush", timeout=20)


def issues(server: RunningServer, query: str = "") -> list[dict[str, Any]]:
    answer = server.api("GET", "/api/v1/issues", params={"query": f"{MINE} {query}"})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["issues"])


def by_culprit(listed: list[dict[str, Any]], function: str) -> dict[str, Any]:
    [issue] = [i for i in listed if (i["culprit"] or "").endswith(f" in {function}")]
    return issue


@pytest.fixture(scope="module")
def grouped(server: RunningServer, errors_app: Service) -> list[dict[str, Any]]:
    """Fourteen events from six bugs."""
    hit(errors_app, "/amounts", values="1,,x,,y", user="u-1")  # 4 events, two lines
    hit(errors_app, "/amounts", values="z", user="u-2")  # 1 more, another user
    hit(errors_app, "/header", value="broken")
    hit(errors_app, "/header", value="also-broken")
    hit(errors_app, "/user", name="bob")
    hit(errors_app, "/user", name="carol", email="other@test.com")
    hit(errors_app, "/chained")
    hit(errors_app, "/payment", kind="timeout")
    hit(errors_app, "/payment", kind="declined")
    hit(errors_app, "/disk", used="93")
    hit(errors_app, "/disk", used="97")
    flush(errors_app)
    return wait_until(
        lambda: issues(server), until=lambda listed: sum(i["count"] for i in listed) >= 14
    )


def test_real_exceptions_group_by_bug(grouped: list[dict[str, Any]]) -> None:
    assert len(grouped) == 6, [(i["title"], i["count"]) for i in grouped]
    amounts = by_culprit(grouped, "parse_amount")
    assert (amounts["type"], amounts["count"], amounts["users"]) == ("ValueError", 5, 2)
    header = by_culprit(grouped, "parse_header")
    assert (header["type"], header["count"]) == ("ValueError", 2)  # same type, other call site
    user = by_culprit(grouped, "lookup_user")
    assert (user["type"], user["count"], user["users"]) == ("KeyError", 2, 2)
    chained = by_culprit(grouped, "submit_transaction")
    assert (chained["type"], chained["count"]) == ("RuntimeError", 1)
    [payment] = [i for i in grouped if i["type"] in ("PaymentTimeout", "PaymentDeclined")]
    assert payment["count"] == 2  # the SDK's fingerprint groups both types
    [disk] = [i for i in grouped if i["title"].startswith("disk almost full")]
    assert (disk["count"], disk["level"], disk["type"]) == (2, "warning", None)
    assert all(i["status"] == "unresolved" and i["project"] == PROJECT for i in grouped)


def test_issue_detail_shows_the_real_event(
    server: RunningServer, grouped: list[dict[str, Any]]
) -> None:
    user = by_culprit(grouped, "lookup_user")
    detail = server.api("GET", f"/api/v1/issues/{user['id']}").json()
    event = detail["latest_event"]
    frames = event["exceptions"][-1]["frames"]
    crash = frames[-1]
    assert crash["function"] == "lookup_user" and crash["file"].endswith("error_service.py")
    assert crash["in_app"] is True and crash["context_line"].strip() == "return users[name]"
    assert crash["pre_context"] and isinstance(crash["line"], int)
    assert any(f["in_app"] is False for f in frames)  # Flask's own frames
    assert event["contexts"]["blockchain"] == {"network": "base-sepolia", "gasLimit": 500000}
    assert any(b.get("message") == "looking up the user" for b in event["breadcrumbs"])
    assert event["user"]["email"] in ("demo@test.com", "other@test.com")
    assert event["request"]["method"] == "GET" and "/user" in event["request"]["url"]
    assert (event["release"], event["environment"]) == ("errors@1.0.0", "test")
    assert len(detail["events"]) == 2
    trace = server.wait_for_trace(event["trace_id"], lambda t: bool(t["errors"]))
    assert trace["errors"][0]["issue_id"] == user["id"]

    chained = by_culprit(grouped, "submit_transaction")
    chain = server.api("GET", f"/api/v1/issues/{chained['id']}").json()["latest_event"]
    assert [e["type"] for e in chain["exceptions"]] == ["TimeoutError", "RuntimeError"]


def test_search_narrows_issues(server: RunningServer, grouped: list[dict[str, Any]]) -> None:
    assert [i["type"] for i in issues(server, "error.type:KeyError")] == ["KeyError"]
    assert {i["type"] for i in issues(server, "user.email:other@test.com")} == {"KeyError"}
    assert len(issues(server, "level:warning OR error.type:RuntimeError")) == 2
    assert len(issues(server, "!level:warning")) == 5


def test_resolved_issue_regresses_on_a_new_event(
    server: RunningServer, errors_app: Service, grouped: list[dict[str, Any]]
) -> None:
    header = by_culprit(grouped, "parse_header")
    answer = server.api("POST", f"/api/v1/issues/{header['id']}", json={"status": "resolved"})
    assert answer.status_code == 200 and answer.json()["status"] == "resolved"
    assert [i["id"] for i in issues(server, "is:resolved")] == [header["id"]]

    hit(errors_app, "/header", value="broken-again")
    flush(errors_app)
    [again] = wait_until(lambda: issues(server, "is:regressed"), until=lambda ls: len(ls) == 1)
    assert again["id"] == header["id"]
    assert again["status"] == "unresolved" and again["regressed"] is True
    assert again["count"] == 3


def glasspane(server: RunningServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "glasspane", *args, "--server", server.url, "--token", server.token],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_prints_issues_and_search_results(
    server: RunningServer, grouped: list[dict[str, Any]]
) -> None:
    listed = glasspane(server, "issues", "--query", MINE)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split()[:3] == ["ID", "LEVEL", "STATUS"]
    assert len(lines) == 2 + 6
    assert any("KeyError" in line for line in lines)

    found = glasspane(server, "search", "--issues", f"{MINE} error.type:KeyError")
    assert found.returncode == 0, found.stderr
    [row] = found.stdout.splitlines()[2:]
    assert "KeyError" in row

    traces = glasspane(server, "search", f"{MINE} transaction:user")
    assert traces.returncode == 0, traces.stderr
    rows = traces.stdout.splitlines()[2:]
    assert len(rows) >= 2 and all(" user " in row and "error" in row for row in rows)

    failed = server.api(
        "GET", "/api/v1/traces", params={"query": f"{MINE} http.status_code:>=500 http.method:GET"}
    ).json()["traces"]
    assert {t["transaction"] for t in failed} == {"user", "chained"}  # the unhandled ones

    bad = glasspane(server, "search", "user.email:")
    assert bad.returncode == 1
    assert 'expected a value after "user.email:" at column 12' in bad.stderr
