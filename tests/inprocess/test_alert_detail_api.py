"""One alert rule with what is behind it: ``GET /api/v1/alerts/{name}`` and ``/alerts``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup

from envelopes import envelope_bytes, error_event, transaction
from inprocess.conftest import App
from serverproc import STORES, store_flags

RULES = """\
alerts:
  - name: "Case creation failures"
    conditions:
      - transaction: uploadDocument
      - failure_rate: > 10%
      - window: 10 minutes
    actions:
      - slack: #product-alerts
  - name: "Quiet"
    conditions:
      - transaction: nothingHere
      - p95: > 2s
  - name: "Uploads / day"
    conditions:
      - count: > 1000
  - name: "Broken"
    conditions:
      - error_rate: lots
"""


@pytest.fixture(params=STORES)
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[App]:
    rules = tmp_path / "alerts.yaml"
    rules.write_text(RULES)
    flags = store_flags(request.param, tmp_path)
    store = {"store": flags[1]} if flags else {}
    running = App(tmp_path / "data", alerts=str(rules), **store)
    with running.client:
        yield running
    running.instance.close()


def _upload(app: App, user: str, failed: bool) -> None:
    tx = transaction(name="uploadDocument", user={"email": user})
    payloads = [tx]
    if failed:
        tx["contexts"]["trace"]["status"] = "internal_error"
        trace = tx["contexts"]["trace"]
        error = error_event(trace["trace_id"], trace["span_id"], user={"email": user})
        error["transaction"] = "uploadDocument"
        error["exception"]["values"][0].update(type="UploadFailed", value="storage timeout")
        payloads.append(error)
    answer = app.client.post(
        app.envelope_url(), content=envelope_bytes(*payloads), headers=app.auth()
    )
    assert answer.status_code == 200, answer.text


def _fire(app: App) -> None:
    for user, failed in [
        ("ana@example.com", True),
        ("ana@example.com", True),
        ("bo@example.com", True),
        ("cy@example.com", False),
    ]:
        _upload(app, user, failed)
    app.instance.alerts.evaluate()


def test_a_firing_rule_shows_its_users_errors_series_and_data(app: App) -> None:
    _fire(app)
    body = app.client.get("/api/v1/alerts/Case creation failures", headers=app.admin()).json()
    assert body["state"] == "firing"
    assert body["conditions"] == ["failure_rate > 10%"]
    assert body["threshold_text"] == "> 10%" and body["threshold"] == pytest.approx(0.1)
    assert body["affected_users"]["count"] == 2
    assert body["affected_users"]["top"] == [
        {"user": "ana@example.com", "failed_traces": 2},
        {"user": "bo@example.com", "failed_traces": 1},
    ]
    [error] = body["recent_errors"]
    assert error["count"] == 3 and "UploadFailed" in error["title"]
    points = body["series"]["points"]
    assert len(points) == 24
    assert points[-1]["value"] == pytest.approx(0.75)
    assert all(p["value"] is None for p in points[:-1])
    [firing] = body["series"]["firing"]
    assert firing["end"] == body["series"]["end"]
    link = urlsplit(body["links"]["transactions"])
    assert link.path == "/"
    assert parse_qs(link.query)["query"] == ["transaction:uploadDocument"]
    issues = urlsplit(body["links"]["issues"])
    assert issues.path == "/issues"
    assert parse_qs(issues.query)["query"] == ["transaction:uploadDocument"]
    # The issues page that link opens lists the error behind the rule.
    page = app.client.get(body["links"]["issues"] + f"&token={app.token}")
    assert f'data-issue="{error["issue_id"]}"' in page.text


def test_the_alerts_page_shows_what_is_behind_a_firing_rule(app: App) -> None:
    _fire(app)
    soup = BeautifulSoup(app.client.get(f"/alerts?token={app.token}").text, "html.parser")
    firing = soup.select_one('li[data-rule="Case creation failures"]')
    assert firing is not None
    assert "triggered" in firing.select_one(".reg-head").get_text()
    assert (
        firing.select_one(".conditions").get_text(" ", strip=True).startswith("failure_rate > 10%")
    )
    assert "(threshold > 10%)" in firing.get_text(" ")
    assert firing.select_one(".affected-count").get_text() == "2"
    [row] = firing.select(".recent-errors li")
    assert row.select_one("a")["href"] == f"/issues/{row['data-issue']}"
    assert "(3 occurrences)" in row.get_text(" ")
    quiet = soup.select_one('li[data-rule="Quiet"]')
    assert quiet is not None and quiet.select_one(".affected-count") is None
    assert quiet.select_one(".conditions").get_text(" ", strip=True).startswith("p95 > 2s")


def test_the_rule_page_charts_the_metric_against_its_threshold(app: App) -> None:
    _fire(app)
    answer = app.client.get(f"/alerts/Case creation failures?token={app.token}")
    assert answer.status_code == 200
    soup = BeautifulSoup(answer.text, "html.parser")
    chart = soup.select_one("#rule-chart svg")
    assert chart is not None
    [level] = chart.select("line.level")
    assert level.select_one("title").get_text() == "threshold > 10%"
    assert len(chart.select("rect.band")) == 1
    line = chart.select_one("path.line")
    assert line is not None and line["d"].startswith("M")
    # One slice had transactions: its value is marked, the empty ones are gaps.
    [dot] = chart.select("circle.dot")
    assert dot.select_one("title").get_text().endswith(": 75.0%")
    assert float(dot["cy"]) < float(level["y1"])  # above the threshold line
    assert soup.select_one(".affected-count").get_text() == "2"
    assert soup.select_one("a.data-link")["href"].startswith("/?query=transaction")


def test_an_invalid_rule_has_a_page_saying_what_is_wrong(app: App) -> None:
    answer = app.client.get(f"/alerts/Broken?token={app.token}")
    assert answer.status_code == 200
    soup = BeautifulSoup(answer.text, "html.parser")
    assert "is not a comparison" in soup.select_one(".notice.bad").get_text()
    assert soup.select_one("#rule-chart") is None
    body = app.client.get("/api/v1/alerts/Broken", headers=app.admin()).json()
    assert body["state"] == "invalid" and body["series"]["points"] == []


def test_a_rule_name_with_a_slash_opens_from_the_list(app: App) -> None:
    soup = BeautifulSoup(app.client.get(f"/alerts?token={app.token}").text, "html.parser")
    link = soup.select_one('li[data-rule="Uploads / day"] .reg-head a')
    assert link is not None
    page = BeautifulSoup(app.client.get(link["href"]).text, "html.parser")
    assert page.select_one("h1").get_text() == "Uploads / day"
    assert page.select_one(".conditions").get_text(" ", strip=True).startswith("count > 1000")


def test_an_unknown_rule_is_a_404(app: App) -> None:
    answer = app.client.get("/api/v1/alerts/nope", headers=app.admin())
    assert answer.status_code == 404
    assert "no alert rule named 'nope'" in answer.text
    page = app.client.get(f"/alerts/nope?token={app.token}")
    assert page.status_code == 404
