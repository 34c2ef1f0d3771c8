"""The web UI in-process: login, sessions, CSRF, every page, errors as HTML."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from envelopes import envelope_bytes, error_event, new_span_id, new_trace_id, transaction
from glasspane.web.ui.session import COOKIE
from inprocess.conftest import App
from inprocess.test_logs_metrics_api import LOG_TYPE, container


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    running = App(tmp_path / "data")
    with running.client:
        yield running
    running.instance.close()


def send(app: App, *payloads: dict[str, Any]) -> None:
    answer = app.client.post(
        app.envelope_url(), content=envelope_bytes(*payloads), headers=app.auth()
    )
    assert answer.status_code == 200, answer.text


def failing_trace(app: App) -> tuple[str, str]:
    """A transaction whose span failed, with an error (and a custom context) in it."""
    trace_id = new_trace_id()
    tx = transaction(trace_id, children=2, name="registerDocument")
    tx["contexts"]["trace"]["status"] = "deadline_exceeded"
    failing = tx["spans"][1]
    failing.update(
        op="blockchain.wait", description="Wait for confirmation", status="deadline_exceeded"
    )
    error = error_event(trace_id, failing["span_id"])
    error["contexts"]["blockchain"] = {"network": "base-sepolia", "gasLimit": 500000}
    send(app, tx, error)
    return trace_id, failing["span_id"]


def login(app: App) -> TestClient:
    answer = app.client.get(f"/?token={app.token}", follow_redirects=False)
    assert answer.status_code == 303
    return app.client


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def test_pages_need_a_login_and_the_api_keeps_its_json(app: App) -> None:
    answer = app.client.get("/issues?period=1h", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fissues%3Fperiod%3D1h"
    api = app.client.get("/api/v1/transactions")
    assert api.status_code == 401 and api.json()["detail"].startswith("Missing admin token")
    page = app.client.get("/login")
    assert page.status_code == 200 and 'name="password"' in page.text and 'name="name"' in page.text


def test_token_in_the_url_logs_in_once_and_leaves_the_address_bar(app: App) -> None:
    answer = app.client.get(f"/issues?token={app.token}&period=1h", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/issues?period=1h"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and app.token not in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert app.client.get("/issues?period=1h").status_code == 200

    other = TestClient(app.client.app)
    wrong = other.get("/?token=nope", follow_redirects=False)
    assert wrong.status_code == 303 and wrong.headers["location"].startswith("/login?")
    assert COOKIE not in wrong.headers.get("set-cookie", "")


def test_login_form(app: App) -> None:
    bad = app.client.post("/login", data={"token": "wrong", "next": "/services"})
    assert bad.status_code == 401 and "not the admin token" in bad.text
    good = app.client.post(
        "/login", data={"token": app.token, "next": "//evil.example/"}, follow_redirects=False
    )
    assert good.status_code == 303 and good.headers["location"] == "/"
    assert app.client.get("/services").status_code == 200


def test_logout_needs_csrf_and_ends_the_session(app: App) -> None:
    client = login(app)
    page = client.get("/alerts")
    cookie = client.cookies.get(COOKIE)
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 403
    out = client.post("/logout", data={"csrf": csrf(page.text)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    replay = TestClient(app.client.app, cookies={COOKIE: cookie})
    assert replay.get("/alerts", follow_redirects=False).status_code == 303


def test_every_page_renders_with_data(app: App) -> None:
    trace_id, span_id = failing_trace(app)
    send(app, transaction(name="uploadDocument"))
    client = login(app)
    issue_id = app.trace(trace_id)["errors"][0]["issue_id"]
    pages = {
        "/": ["registerDocument", "highest failure rate", "uploadDocument"],
        "/?sort=-p95_ms&period=1h": ['aria-sort="descending"'],
        "/transaction?name=registerDocument&period=1h": ["Latency histogram", trace_id[:16]],
        "/transaction?name=registerDocument&status=ok": ["No successful traces"],
        f"/traces/{trace_id}": [
            "Failing step",
            "blockchain.wait",
            "Blockchain context",
            f'id="span-{span_id}"',
            "base-sepolia",
        ],
        "/issues": [f'data-issue="{issue_id}"'],
        f"/issues/{issue_id}": ["Resolve", "Events over time", f"/traces/{trace_id}"],
        "/services": ["Apdex"],
        "/regressions": ["No regressions"],
        "/impact": ["Affected users"],
        "/web-vitals": ["No page loads with web vitals"],
        "/explore/metrics": ["No metrics in the last"],
        "/search?query=transaction:registerDocument": ["1 trace found"],
        "/alerts": ["No alert rules configured"],
    }
    for path, expected in pages.items():
        started = time.perf_counter()
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.text[-500:])
        # Well under a second on an idle machine; the bound leaves room for a busy CI.
        assert time.perf_counter() - started < 3.0, path
        for text in expected:
            assert text in answer.text, (path, text)
        assert answer.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        # Everything is served by glasspane itself: no absolute URLs in src/href.
        assert not re.search(r'(?:src|href)="(?:https?:)?//', answer.text), path


def test_search_with_a_trace_id_opens_the_trace(app: App) -> None:
    trace_id, _ = failing_trace(app)
    answer = login(app).get(f"/search?query={trace_id.upper()}", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == f"/traces/{trace_id}"


def test_errors_are_pages_with_the_message(app: App) -> None:
    client = login(app)
    bad = client.get("/?query=nosuchkey:1")
    assert bad.status_code == 400 and "text/html" in bad.headers["content-type"]
    assert "nosuchkey" in bad.text and 'value="nosuchkey:1"' in bad.text
    missing = client.get("/traces/" + "0" * 32)
    assert missing.status_code == 404 and "No trace 0000" in missing.text
    assert client.get("/no-such-page").status_code == 404
    assert client.get("/issues/999999").status_code == 404


def test_resolve_needs_the_csrf_token(app: App) -> None:
    trace_id, _ = failing_trace(app)
    client = login(app)
    issue_id = app.trace(trace_id)["errors"][0]["issue_id"]
    page = client.get(f"/issues/{issue_id}")
    token = csrf(page.text)
    status = f"/issues/{issue_id}/status"

    assert client.post(status, data={"status": "resolved"}).status_code == 403
    assert (
        client.post(
            status,
            data={"status": "resolved", "csrf": token},
            headers={"Origin": "http://evil.example"},
        ).status_code
        == 403
    )
    detail = client.get(f"/api/v1/issues/{issue_id}", headers=app.admin()).json()
    assert detail["status"] == "unresolved"

    done = client.post(status, data={"status": "resolved", "csrf": token}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"/issues/{issue_id}?updated=resolved"
    detail = client.get(f"/api/v1/issues/{issue_id}", headers=app.admin()).json()
    assert detail["status"] == "resolved"
    assert client.post(status, data={"status": "gone", "csrf": token}).status_code == 400


def test_a_trace_of_two_thousand_spans_renders_fast(app: App) -> None:
    trace_id = new_trace_id()
    root = new_span_id()
    tx = transaction(trace_id, children=0, name="bulk")
    tx["contexts"]["trace"]["span_id"] = root
    now = tx["timestamp"]
    ids = [root]
    for i in range(1999):
        span_id = new_span_id()
        tx["spans"].append(
            {
                "trace_id": trace_id,
                "span_id": span_id,
                "parent_span_id": ids[i // 4],
                "op": "db.query",
                "description": f"SELECT {i}",
                "start_timestamp": now - 0.5 + i / 5000,
                "timestamp": now - 0.5 + i / 5000 + 0.001,
            }
        )
        ids.append(span_id)
    send(app, tx)
    client = login(app)
    started = time.perf_counter()
    answer = client.get(f"/traces/{trace_id}")
    elapsed = time.perf_counter() - started
    assert answer.status_code == 200
    assert answer.text.count('class="wf-row ') == 2000
    assert answer.headers["content-encoding"] == "gzip"  # ~2 MB of HTML, ~10× less sent
    assert elapsed < 5.0, f"{elapsed:.2f}s"  # ~0.3s on an idle machine


def _orphan_trace(app: App, age: float) -> str:
    """A transaction whose caller has not reported, ``age`` seconds old."""
    trace_id = new_trace_id()
    tx = transaction(trace_id, children=1, name="child")
    tx["contexts"]["trace"]["parent_span_id"] = new_span_id()
    for item in [tx, *tx["spans"]]:
        item["start_timestamp"] -= age
        item["timestamp"] -= age
    send(app, tx)
    return trace_id


def test_a_recent_orphan_waits_for_its_parent(app: App) -> None:
    """The caller's transaction is sent when it ends: not lost, not arrived yet."""
    client = login(app)
    text = client.get(f"/traces/{_orphan_trace(app, 0)}").text
    assert re.search(
        r'class="flag warn" title="Its parent span has not arrived yet[^"]*">'
        r"parent not arrived yet</span>",
        text,
    )
    assert ">orphan<" not in text
    # The JSON keeps the flag.
    trace = app.trace(_orphan_trace(app, 0))
    assert [s["orphan"] for s in trace["spans"] if s["is_transaction"]] == [True]


def test_an_old_orphan_has_its_parent_missing(app: App) -> None:
    text = login(app).get(f"/traces/{_orphan_trace(app, 3600)}").text
    assert 'class="flag warn" title="Its parent span never arrived">parent missing</span>' in text
    assert "parent not arrived yet" not in text


@pytest.mark.parametrize(
    ("request_part", "contexts", "header"),
    [
        (
            {
                "headers": {
                    "User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
                    "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.109 Safari/537.36"
                }
            },
            {},
            ["Browser: Chrome 120", "OS: Windows 10"],
        ),
        (
            {"headers": [["user-agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari"]]},
            {"browser": {"name": "Firefox", "version": "121.0.1"}, "os": {"name": "Ubuntu"}},
            ["Browser: Firefox 121", "OS: Ubuntu"],  # the SDK's contexts win
        ),
    ],
)
def test_the_trace_header_names_browser_and_os(
    app: App, request_part: dict[str, Any], contexts: dict[str, Any], header: list[str]
) -> None:
    trace_id = new_trace_id()
    tx = transaction(trace_id, children=1, name="/upload", request=request_part)
    tx["contexts"].update(contexts)
    send(app, tx)
    text = login(app).get(f"/traces/{trace_id}").text
    meta = text[text.index('<p class="meta">') : text.index("</p>", text.index('<p class="meta">'))]
    found = re.findall(r"<span>((?:Browser|OS): [^<]*)</span>", meta)
    assert found == header


def test_static_assets_are_served(app: App) -> None:
    for name in ("glasspane.css", "glasspane.js", "favicon.svg"):
        assert app.client.get(f"/static/{name}").status_code == 200


def test_alert_rules_are_listed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "alerts.yaml").write_text(
        "alerts:\n"
        '  - name: "Blockchain indexer degraded"\n'
        "    conditions:\n"
        "      - service: blockchain-indexer\n"
        '      - error_rate: "> 5%"\n'
        "      - window: 10 minutes\n"
    )
    running = App(data)
    with running.client:
        page = login(running).get("/alerts")
    running.instance.close()
    assert page.status_code == 200
    assert 'data-rule="Blockchain indexer degraded"' in page.text
    assert "No alert rules configured" not in page.text


def test_logs_page_filters_by_level_and_search_and_links_traces(app: App) -> None:
    tx = transaction(name="createCase")
    trace_id, span_id = tx["contexts"]["trace"]["trace_id"], tx["spans"][0]["span_id"]
    send(app, tx)
    now = time.time()
    entries = [
        {"timestamp": now - 2, "level": "info", "body": "Case created", "span_id": span_id},
        {"timestamp": now - 1, "level": "warn", "body": "slow <insert>", "span_id": span_id},
        {"timestamp": now, "level": "error", "body": "disk full"},
    ]
    body = container("log", LOG_TYPE, [{**e, "trace_id": trace_id} for e in entries])
    answer = app.client.post(app.envelope_url(), content=body, headers=app.auth())
    assert answer.status_code == 200, answer.text
    client = login(app)

    html = client.get("/explore/logs").text
    assert 'href="/explore/logs" aria-current="page">Logs' in html
    bodies = re.findall(r'<td class="logbody">([^<]*)</td>', html)
    assert bodies == ["disk full", "slow &lt;insert&gt;", "Case created"]  # newest first
    assert f'href="/traces/{trace_id}?span={span_id}#span-{span_id}"' in html

    warn = client.get("/explore/logs", params={"level": "warn"}).text
    assert re.findall(r'<td class="logbody">([^<]*)</td>', warn) == ["slow &lt;insert&gt;"]
    found = client.get("/explore/logs", params={"query": '"created"', "level": "info"}).text
    assert re.findall(r'<td class="logbody">([^<]*)</td>', found) == ["Case created"]
    none = client.get("/explore/logs", params={"level": "fatal"}).text
    assert "No logs in the last 24h at level fatal" in none

    bad = client.get("/explore/logs", params={"level": "loud"})
    assert bad.status_code == 400
    assert "level must be one of trace, debug, info, warn, error, fatal" in bad.text

    trace = client.get(f"/traces/{trace_id}").text
    rows = re.findall(
        r'<div class="wf-row wf-log level-(\w+)" data-depth="(\d)" data-span="(\w+)"', trace
    )
    assert [(level, span) for level, _, span in rows] == [("info", span_id), ("warn", span_id)]
    assert "Logs not attached to a span" in trace and "disk full" in trace


def test_issue_page_shows_the_logs_of_the_events_trace(app: App) -> None:
    trace_id, span_id = failing_trace(app)
    now = time.time()
    entries = [
        {"timestamp": now - 2, "level": "info", "body": "Submitting 0x7a", "span_id": span_id},
        {"timestamp": now - 1, "level": "error", "body": "Not confirmed after 30 s"},
    ]
    body = container("log", LOG_TYPE, [{**e, "trace_id": trace_id} for e in entries])
    answer = app.client.post(app.envelope_url(), content=body, headers=app.auth())
    assert answer.status_code == 200, answer.text
    client = login(app)
    issue_id = app.trace(trace_id)["errors"][0]["issue_id"]
    html = client.get(f"/issues/{issue_id}").text
    section = html[html.index('<section id="trace-logs">') :]
    assert 'Logs of this trace <span class="muted">(2)</span>' in section
    bodies = re.findall(r'<td class="logbody">([^<]*)</td>', section)
    assert bodies == ["Submitting 0x7a", "Not confirmed after 30 s"]
    assert 'class="level-info standout"' in section  # written in the failing span
    link = f"/explore/logs?query=trace%3A{trace_id}&amp;period=7d"
    assert link in section
    listed = client.get(f"/explore/logs?query=trace:{trace_id}&period=7d").text
    assert re.findall(r'<td class="logbody">([^<]*)</td>', listed) == [
        "Not confirmed after 30 s",
        "Submitting 0x7a",
    ]


def test_a_performance_issue_page_shows_its_evidence(app: App) -> None:
    """A transaction that loads six pages one query at a time, after a source query."""
    trace_id = new_trace_id()
    tx = transaction(trace_id, children=0, name="createCase")
    root, end = tx["contexts"]["trace"]["span_id"], tx["timestamp"]
    start = end - 0.45

    def query(i: int, description: str, at: float) -> dict[str, Any]:
        return {
            "trace_id": trace_id,
            "span_id": new_span_id(),
            "parent_span_id": root,
            "op": "db",
            "description": description,
            "start_timestamp": at,
            "timestamp": at + 0.012,
        }

    tx["spans"] = [query(0, "SELECT id FROM documents WHERE case_id = 4", start)]
    tx["spans"] += [
        query(i, f"SELECT * FROM pages WHERE document_id = {i}", start + i * 0.02)
        for i in range(1, 7)
    ]
    send(app, tx)
    client = login(app)
    listed = client.get("/api/v1/issues", params={"query": "issue.category:performance"})
    [issue] = listed.json()["issues"]
    assert (issue["type"], issue["culprit"]) == ("n_plus_one_db_queries", "createCase")
    html = client.get(f"/issues/{issue['id']}").text
    statement = re.search(r'class="message evidence-statement">([^<]*)<', html)
    assert statement and statement.group(1) == "SELECT * FROM pages WHERE document_id = ?"
    assert re.search(r"run <b>6</b> times in a row", html)
    assert re.search(r"taking <b>72\.0 ms</b>", html)
    first = tx["spans"][1]["span_id"]
    run = "%2C".join(s["span_id"] for s in tx["spans"][1:])
    assert f'href="/traces/{trace_id}?span={first}&amp;highlight={run}#span-{first}"' in html
    assert "See the 6 spans in the trace" in html


def test_issue_page_breaks_down_tags_over_all_its_events(app: App) -> None:
    events = []
    for n, network in enumerate(["base-sepolia"] * 3 + ["mainnet"]):
        event = error_event(environment="production" if n else "staging", release="web@1.4")
        event["contexts"]["blockchain"] = {"network": network}
        events.append(event)
    send(app, *events)
    client = login(app)
    [issue] = client.get("/api/v1/issues", headers=app.admin()).json()["issues"]
    html = client.get(f"/issues/{issue['id']}").text
    section = html[html.index('id="tag-breakdown"') :]
    section = section[: section.index("</section>")]

    def legend(key: str) -> list[tuple[str, str, str]]:
        part = section[section.index(f'data-key="{key}"') :]
        part = part[: part.index("</ol>")]
        return re.findall(
            r'class="tagvalue[^"]*">([^<]*)</span> <b class="tagshare">([^<]*)</b> '
            r'<span class="muted">([^<]*)</span>',
            part,
        )

    # the latest event says production only; the breakdown counts all four events
    assert legend("environment") == [("production", "75%", "3"), ("staging", "25%", "1")]
    assert legend("blockchain.network") == [("base-sepolia", "75%", "3"), ("mainnet", "25%", "1")]
    assert legend("release") == [("web@1.4", "100%", "4")]
    bar = section[section.index('data-key="environment"') :]
    widths = re.findall(r'<rect class="tagseg [^"]*" x="([^"]*)" y="0" width="([^"]*)"', bar)[:2]
    assert widths == [("0", "75.0"), ("75.0", "25.0")]


def test_an_n_plus_one_api_call_issue_links_to_its_spans_highlighted(app: App) -> None:
    """A page that fetches each of eleven users from an API in turn, 35 ms a call."""
    trace_id = new_trace_id()
    tx = transaction(trace_id, children=0, name="listCases")
    root, end = tx["contexts"]["trace"]["span_id"], tx["timestamp"]
    start = end - 0.6
    tx["spans"] = [
        {
            "trace_id": trace_id,
            "span_id": new_span_id(),
            "parent_span_id": root,
            "op": "http.client",
            "description": f"GET https://users.internal/v1/users/{500 + i}",
            "start_timestamp": start + i * 0.04,
            "timestamp": start + i * 0.04 + 0.035,
        }
        for i in range(11)
    ]
    tx["spans"].append({**tx["spans"][0], "span_id": new_span_id(), "op": "db"})
    send(app, tx)
    client = login(app)
    listed = client.get("/api/v1/issues", params={"query": "issue.type:n_plus_one_api_calls"})
    [issue] = listed.json()["issues"]
    assert (issue["title"], issue["culprit"]) == ("N+1 API Call", "listCases")
    html = client.get(f"/issues/{issue['id']}").text
    url = re.search(r'class="message evidence-statement">([^<]*)<', html)
    assert url and url.group(1) == "GET https://users.internal/v1/users/*"
    assert re.search(r"run <b>11</b> times in a row", html)
    link = re.search(r'class="evidence-trace" href="([^"]*)"', html)
    assert link is not None
    waterfall = client.get(link.group(1).replace("&amp;", "&")).text
    marked = re.findall(
        r'<div class="wf-row [^"]*\bmatched\b[^"]*"[^>]*data-span="(\w+)"', waterfall
    )
    assert marked == [s["span_id"] for s in tx["spans"][:11]]
    assert "11 spans of the issue highlighted" in waterfall
    bad = client.get(f"/traces/{trace_id}", params={"highlight": "not-a-span"})
    assert bad.status_code == 400 and "not a span id" in bad.text
