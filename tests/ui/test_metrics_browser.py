"""The metrics page in Chromium, over what the real sentry-sdk sends.

A Flask service with the real sentry-sdk (``tests/e2e/apps/telemetry_service.py``)
counts ``cases.created`` and records ``case.creation.duration`` (a distribution
in milliseconds), both tagged with the tier. Chromium opens Metrics from the
navigation, narrows it to the service, picks the distribution, reads its
average against the previous period, and groups it by tier.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from e2e.services import Service
from serverproc import RunningServer
from ui.test_browser import log_in
from waiting import wait_until

pytestmark = pytest.mark.e2e

PROJECT = "ui-metrics"
CASES = [(120.0, "gold"), (80.0, "gold"), (40.0, "free")]


@pytest.fixture(scope="module")
def sent(server: RunningServer) -> Iterator[None]:
    service = Service("telemetry_service.py", {"SENTRY_DSN": server.project(PROJECT)["dsn"]})
    try:
        service.wait_ready()
        for ms, tier in CASES:
            answer = httpx.get(f"{service.url}/cases", params={"tier": tier, "ms": ms}, timeout=10)
            assert answer.status_code == 200, answer.text
        assert httpx.get(f"{service.url}/flush", timeout=30).status_code == 200
        yield
    finally:
        service.stop()


def arrived(server: RunningServer) -> bool:
    params = {"name": "case.creation.duration", "query": f"service:{PROJECT}"}
    answer = server.api("GET", "/api/v1/metrics", params=params)
    return answer.status_code == 200 and answer.json()["totals"]["count"] == len(CASES)


def test_metrics_page_charts_the_sdks_distribution_by_tier(
    server: RunningServer,
    sent: None,
    page: Any,
) -> None:
    wait_until(lambda: arrived(server))
    log_in(page, server)
    page.click("nav.mainnav >> text=Metrics")
    page.wait_for_url("**/explore/metrics**")
    page.fill(".filters input[name=query]", f"service:{PROJECT}")
    page.click(".filters button[type=submit]")
    page.wait_for_url("**query=service**")
    listed = page.locator("nav.metric-list li").all_inner_texts()
    assert "case.creation.duration distribution · millisecond" in listed
    assert "cases.created counter" in listed

    page.click("nav.metric-list >> text=case.creation.duration")
    page.wait_for_url("**name=case.creation.duration**")
    assert page.inner_text("#metric-name") == "case.creation.duration distribution · millisecond"
    # (120 + 80 + 40) / 3 = 80 ms now; nothing the hour before.
    assert page.inner_text("#metric-summary").startswith("avg now 80ms · normal –")
    legend = page.locator("figure.chart figcaption .legend").all_inner_texts()
    assert legend == ["avg", "p50", "p95", "previous period"]

    page.fill("#group-by input[name=group_by]", "tier")
    page.click("#group-by button[type=submit]")
    page.wait_for_url("**group_by=tier**")
    rows = page.locator("table.metric-groups tbody tr").all_inner_texts()
    assert [row.split("\t") for row in rows] == [["gold", "2", "100ms"], ["free", "1", "40ms"]]
    legend = page.locator("figure.chart figcaption .legend").all_inner_texts()
    assert legend == ["gold", "free", "previous period"]
    assert page.locator("figure.chart path.line.series-0").count() == 1

    page.click("nav.metric-list >> text=cases.created")
    page.wait_for_url("**name=cases.created**")
    assert "per minute now" in page.inner_text("#metric-summary")
    assert page.locator("figure.chart rect.bar").count() >= 1
