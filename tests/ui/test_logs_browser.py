"""The logs page and logs in the trace waterfall, in Chromium.

A Flask service with the real sentry-sdk (``enable_logs``) writes two logs in
an ``insert case`` span per request (``tests/e2e/apps/telemetry_service.py``).
Chromium opens Logs from the navigation, searches, filters by level, turns the
live tail on and sees a new request's log arrive without a reload, then follows
a line to its trace, where the log sits under the span it was written in.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from e2e.services import Service
from serverproc import RunningServer
from ui.test_browser import log_in

pytestmark = pytest.mark.e2e

PROJECT = "ui-logs"
QUERY = f"service:{PROJECT} !logger.name:werkzeug"


class Cases:
    """The running service: ``create`` makes one case and flushes its logs."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def create(self, tier: str, ms: float) -> dict[str, Any]:
        answer = httpx.get(f"{self.service.url}/cases", params={"tier": tier, "ms": ms}, timeout=10)
        assert answer.status_code == 200, answer.text
        assert httpx.get(f"{self.service.url}/flush", timeout=30).status_code == 200
        return dict(answer.json())


@pytest.fixture(scope="module")
def cases(server: RunningServer) -> Iterator[Cases]:
    service = Service("telemetry_service.py", {"SENTRY_DSN": server.project(PROJECT)["dsn"]})
    try:
        yield Cases(service.wait_ready())
    finally:
        service.stop()


def bodies(page: Any) -> list[str]:
    return list(page.locator("table.logs td.logbody").all_inner_texts())


def test_logs_page_live_tail_and_logs_under_their_span(
    server: RunningServer, cases: Cases, page: Any, artifacts: Path
) -> None:
    first = cases.create("gold", 120)
    server.wait_for_trace(first["trace_id"], lambda t: len(t["logs"]) == 2)
    log_in(page, server)
    page.click("nav.mainnav >> text=Logs")
    page.wait_for_url("**/explore/logs**")
    page.fill(".filters input[name=query]", QUERY)
    page.click(".filters button[type=submit]")
    page.wait_for_url("**query=service**")
    # Newest first: the warning was written after the info line.
    assert bodies(page) == [
        "Case creation took 120.0 ms",
        f"Case {first['case_id']} created",
    ]
    page.click("nav[aria-label=Level] >> text=warn")
    page.wait_for_url("**level=warn**")
    assert bodies(page) == ["Case creation took 120.0 ms"]
    assert page.locator("table.logs tr.level-warn .loglevel").inner_text().lower() == "warn"

    page.click("#live-tail")
    page.wait_for_url("**live=1**")
    assert page.locator("#live-tail").get_attribute("aria-pressed") == "true"
    page.evaluate("window.stillHere = true")
    second = cases.create("free", 40)
    newest = page.locator("table.logs tbody tr").first.locator("td.logbody")
    newest.filter(has_text="Case creation took 40.0 ms").wait_for(timeout=30_000)
    assert page.evaluate("window.stillHere") is True  # arrived without a reload
    assert bodies(page) == ["Case creation took 40.0 ms", "Case creation took 120.0 ms"]
    page.screenshot(path=str(artifacts / "logs.png"), full_page=True)

    page.locator(f"table.logs a[href^='/traces/{second['trace_id']}']").click()
    page.wait_for_url(f"**/traces/{second['trace_id']}**")
    span_row = page.locator(f".wf-row[data-span='{second['span_id']}']:not(.wf-log)")
    assert "insert case" in span_row.inner_text()
    logs = page.locator(f".wf-log[data-span='{second['span_id']}']")
    assert logs.locator(".logbody").all_inner_texts() == [
        f"Case {second['case_id']} created",
        "Case creation took 40.0 ms",
    ]
    assert [t.lower() for t in logs.locator(".loglevel").all_inner_texts()] == ["info", "warn"]
    # Each log row follows its span's row, one level deeper.
    following = span_row.evaluate(
        "r => [r.nextElementSibling, r.nextElementSibling.nextElementSibling]"
        ".map(n => [n.classList.contains('wf-log'), +n.dataset.depth - +r.dataset.depth])"
    )
    assert following == [[True, 1], [True, 1]]
    page.screenshot(path=str(artifacts / "trace-logs.png"), full_page=True)
