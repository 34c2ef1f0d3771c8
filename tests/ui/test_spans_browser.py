"""The span explorer in Chromium, over spans the real sentry-sdk sent.

A Flask service (``tests/e2e/apps/telemetry_service.py``) makes cases, each a
request holding a ``db`` span. Chromium opens Spans from the navigation,
searches the service, reads the groups, narrows to the db group, sorts the
list by duration, copies the alert rule and opens a span in its trace.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from e2e.services import Service
from glasspane.alerts.rules import load_rules
from serverproc import RunningServer
from ui.test_browser import log_in
from ui.test_logs_browser import Cases

pytestmark = pytest.mark.e2e

PROJECT = "ui-spans"


@pytest.fixture(scope="module")
def cases(server: RunningServer) -> Iterator[Cases]:
    service = Service("telemetry_service.py", {"SENTRY_DSN": server.project(PROJECT)["dsn"]})
    try:
        yield Cases(service.wait_ready())
    finally:
        service.stop()


@pytest.fixture
def page(browser: Any, server: RunningServer) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    context.set_default_timeout(15_000)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(str(error)))
    yield opened
    context.close()
    assert not problems, f"the browser reported errors: {problems}"


def test_spans_grouped_narrowed_sorted_copied_and_opened(
    server: RunningServer, cases: Cases, page: Any
) -> None:
    made = [cases.create("gold", 10), cases.create("free", 10)]
    for case in made:
        server.wait_for_trace(case["trace_id"])
    log_in(page, server)
    page.click("nav.mainnav >> text=Spans")
    page.wait_for_url("**/explore/spans**")
    page.fill(".filters input[type=search][name=query]", f"service:{PROJECT}")
    page.click(".filters form[role=search] button[type=submit]")
    page.wait_for_url("**query=service**")
    rows = page.locator("table.span-groups tbody tr")
    groups = {
        r.locator("td.group-key").inner_text(): r.locator("td.num").first.inner_text()
        for r in rows.all()
    }
    # each case is a db span in a request; /flush and the readiness checks are requests too
    assert groups["db"] == "2" and int(groups["http.server"]) >= 2

    rows.filter(has=page.locator("td.group-key", has_text=re.compile("^db$"))).locator(
        "td.group-key a"
    ).click()
    page.wait_for_url("**view=spans**")
    assert page.locator("table.spans td.span-op").all_inner_texts() == ["db"] * 2
    page.click("table.spans th >> text=Duration")
    page.wait_for_url("**sort=-duration**")
    assert page.locator("table.spans th[aria-sort=descending]").count() == 1

    page.click("button[data-copy=alert-rule-yaml]")
    page.locator("button[data-copy=alert-rule-yaml]", has_text="Copied").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    [rule] = load_rules(copied).rules
    assert rule.error is None and rule.filters["query"].startswith(f"service:{PROJECT}")

    trace_id = page.locator("table.spans tbody tr").first.locator("a.mono").get_attribute("href")
    page.locator("table.spans tbody tr").first.locator("a.mono").click()
    page.wait_for_url("**/traces/**?span=**")
    assert trace_id and trace_id.split("?")[0].removeprefix("/traces/") in {
        c["trace_id"] for c in made
    }


def test_the_chart_shows_a_line_per_group_named_in_its_legend(
    server: RunningServer, cases: Cases, page: Any
) -> None:
    made = cases.create("chart", 10)
    server.wait_for_trace(made["trace_id"])
    log_in(page, server)
    page.goto(f"{server.url}/explore/spans?query=service:{PROJECT}&group_by=span.op")
    figure = page.locator("#group-chart figure.chart")
    legend = figure.locator("figcaption .legend").all_inner_texts()
    table = page.locator("table.span-groups tbody td.group-key").all_inner_texts()
    assert legend == table[:5] and {"db", "http.server"} <= set(legend)
    lines = figure.locator("svg path.line")
    assert lines.count() == len(legend)
    drawn = [line.get_attribute("d") or "" for line in lines.all()]
    assert all(d.startswith("M") for d in drawn), drawn  # each group has spans to draw
    assert "p95 over time" in figure.locator("figcaption").inner_text()

    page.click("#group-chart nav >> text=count")
    page.wait_for_url("**measure=count**")
    assert "Count over time" in figure.locator("figcaption").inner_text()
    assert figure.locator("figcaption .legend").all_inner_texts() == legend
