"""A firing alert rule in Chromium: what is behind it and where its data is.

A Flask service with the real sentry-sdk fails three of four requests (two
users); a rule pasted as the scenario prints it (``failure_rate: > 20%``) is
put in the shared server's rules file and fires. Chromium opens Alerts from the
navigation and reads the rule as written, its affected users and the error
behind it; follows the error to its issue; opens the rule's page, where the
chart draws the threshold line; and follows the data link to the transactions
the rule counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from e2e.services import Service
from serverproc import RunningServer
from ui.test_browser import log_in
from waiting import wait_until

pytestmark = pytest.mark.e2e

PROJECT = "ui-alerts"
RULE = "UI uploads failing"
RULES = f"""\
alerts:
  - name: "{RULE}"
    conditions:
      - service: {PROJECT}
      - failure_rate: > 20%
      - window: 10 minutes
"""
#: The server evaluates its rules every 30 s (the default interval).
FIRING_WITHIN = 75


@pytest.fixture(scope="module")
def firing(server: RunningServer) -> Iterator[dict[str, Any]]:
    """The rule, firing over real sentry-sdk traffic; the rules file restored after."""
    service = Service("flask_service.py", {"SENTRY_DSN": server.project(PROJECT)["dsn"]})
    rules = server.data_dir / "alerts.yaml"
    before = rules.read_text() if rules.exists() else None
    try:
        service.wait_ready()
        with httpx.Client(timeout=20) as client:
            for email, fail in [
                ("ana@example.com", 1),
                ("ana@example.com", 1),
                ("bo@example.com", 1),
                ("cy@example.com", 0),
            ]:
                client.post(f"{service.url}/process", params={"fail": fail, "email": email})
            client.get(f"{service.url}/flush")
        rules.write_text(RULES)
        assert server.api("POST", "/api/v1/alerts/reload").json()["reloaded"] is True
        yield wait_until(
            lambda: server.api("GET", f"/api/v1/alerts/{quote(RULE)}").json(),
            FIRING_WITHIN,
            lambda r: r["state"] == "firing" and r["recent_errors"],
            1.0,
            f"alert rule {RULE!r} firing",
        )
    finally:
        service.stop()
        if before is None:
            rules.unlink(missing_ok=True)
        else:
            rules.write_text(before)
        server.api("POST", "/api/v1/alerts/reload")


def test_a_firing_rule_shows_users_errors_threshold_and_its_data(
    server: RunningServer, firing: dict[str, Any], page: Any, artifacts: Path
) -> None:
    log_in(page, server)
    page.click("nav.mainnav >> text=Alerts")
    rule = page.locator(f'li[data-rule="{RULE}"]')
    assert rule.locator(".pill").inner_text() == "▲ firing"
    assert rule.locator(".conditions").inner_text().startswith("failure_rate > 20%")
    assert "(threshold > 20%)" in rule.inner_text()
    assert rule.locator(".affected-count").inner_text() == "2"
    assert "ana@example.com (2)" in rule.locator(".affected").inner_text()
    error = rule.locator(".recent-errors li").first
    assert "TransactionTimeoutError" in error.inner_text()
    assert "(3 occurrences)" in error.inner_text()
    page.screenshot(path=str(artifacts / "alerts-firing.png"), full_page=True)

    issue_id = error.get_attribute("data-issue")
    error.locator("a").click()
    page.wait_for_url(f"{server.url}/issues/{issue_id}*")
    assert "not confirmed after 30 seconds" in page.locator("main").inner_text()

    page.go_back()
    page.locator(f'li[data-rule="{RULE}"] .reg-head a').click()
    page.wait_for_url(f"{server.url}/alerts/*")
    assert page.locator("h1").inner_text() == RULE
    chart = page.locator("#rule-chart svg")
    assert chart.locator("line.level").count() == 1
    assert chart.locator("line.level title").text_content() == "threshold > 20%"
    assert chart.locator("rect.band").count() == 1  # it is firing now
    assert page.locator(".affected-count").inner_text() == "2"
    page.screenshot(path=str(artifacts / "alert-rule.png"), full_page=True)

    page.locator("a.data-link").click()
    page.wait_for_url(f"{server.url}/?*")
    assert page.get_by_role("searchbox", name="Search query").input_value() == f"service:{PROJECT}"
    rows = page.locator("#transactions tbody tr")
    assert rows.count() >= 1
    assert {rows.nth(i).get_attribute("data-service") for i in range(rows.count())} == {PROJECT}
