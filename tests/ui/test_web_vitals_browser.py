"""Web vitals from the real @sentry/browser in Chromium, shown on the Web vitals page.

The scenario's upload page (``tests/browser/src``, browser tracing on) is
loaded in a fresh Chromium context; its pageload transaction carries the
web vitals the SDK took (FCP and TTFB on the pageload span, LCP, CLS and INP on
spans of their own). Chromium then opens Web
vitals from the navigation, finds the page among the pages, and follows it to
the transaction summary's web vitals section.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from e2e.test_browser_replay import page_url  # noqa: F401  (the fixture)
from serverproc import RunningServer
from ui.test_browser import log_in
from waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.node]

PROJECT = "vitals-app"
QUERY = f"service:{PROJECT}"


def vitals(server: RunningServer) -> list[dict[str, Any]]:
    answer = server.api("GET", "/api/v1/web-vitals", params={"query": QUERY})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["pages"])


def test_a_real_pageload_shows_its_vitals(
    server: RunningServer,
    page_url: str,  # noqa: F811
    browser: Any,
    page: Any,
) -> None:
    dsn = server.project(PROJECT)["dsn"]
    context = browser.new_context()  # its own profile: the SDK's state stays there
    try:
        loaded = context.new_page()
        loaded.goto(f"{page_url}?{urlencode({'dsn': dsn, 'backend': 'http://127.0.0.1:9'})}")
        loaded.wait_for_function("window.__glasspane !== undefined")
        loaded.click("#case-name")  # an interaction, and the LCP is settled
        # The pageload ends when the page has been idle (1 s), then it is sent.
        loaded.wait_for_timeout(2500)
        loaded.evaluate("window.__glasspane.flush()")
    finally:
        context.close()
    [found] = wait_until(lambda: vitals(server), timeout=30)
    # @sentry/browser 11 streams spans: the page load is named "Pageload", the page
    # is its URL path; FCP and TTFB are attributes of the pageload span, LCP (and
    # CLS, INP when the browser reported them) spans of their own in its segment.
    assert (found["page"], found["transaction"]) == ("/index.html", "Pageload")
    assert {"lcp", "fcp", "ttfb"} <= set(found["vitals"])
    for vital in found["vitals"].values():
        assert vital["samples"] == 1 and vital["p75"] >= 0

    log_in(page, server)
    page.click("nav.mainnav >> text=Web vitals")
    page.wait_for_url("**/web-vitals**")
    page.fill(".filters input[name=query]", QUERY)
    page.click(".filters button[type=submit]")
    page.wait_for_url("**query=service**")
    row = page.locator("table.vitals-pages tbody tr")
    assert row.count() == 1
    assert row.locator("td").first.inner_text() == "/index.html"
    fcp = row.locator("td[data-vital=fcp] .vital")
    assert fcp.get_attribute("class") == f"vital vital-{found['vitals']['fcp']['band']}"
    assert fcp.inner_text() != "–"

    lcp = row.locator("td[data-vital=lcp] .vital")
    assert lcp.get_attribute("class") == f"vital vital-{found['vitals']['lcp']['band']}"

    row.locator("td a").first.click()
    page.wait_for_url("**/transaction?**")
    section = page.locator("#web-vitals")
    assert section.locator("h2").inner_text() == "Web vitals /index.html"
    assert "p75 over 1 page load ·" in section.inner_text()
    labels = section.locator("tbody th").all_inner_texts()
    expected = [k.upper() for k in ("lcp", "fcp", "cls", "inp", "ttfb") if k in found["vitals"]]
    assert labels == expected
