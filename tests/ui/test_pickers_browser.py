"""The project, environment and time-range pickers in Chromium.

A Flask service with the real sentry-sdk sends its requests to a project of its
own. The reader picks that project on the transactions page, moves to service
health through the navigation (the choice goes along), and sets a custom range
that the URL keeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from e2e.services import Service
from serverproc import RunningServer
from ui.test_browser import log_in
from ui.test_logs_browser import Cases

pytestmark = pytest.mark.e2e

PROJECT = "ui-pickers"


@pytest.fixture(scope="module")
def cases(server: RunningServer) -> Iterator[Cases]:
    service = Service("telemetry_service.py", {"SENTRY_DSN": server.project(PROJECT)["dsn"]})
    try:
        yield Cases(service.wait_ready())
    finally:
        service.stop()


def url_params(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def row_services(page: Any) -> list[str]:
    rows = page.locator("table tbody tr[data-service]")
    return [rows.nth(i).get_attribute("data-service") for i in range(rows.count())]


def test_pickers_narrow_every_page_and_travel_with_the_reader(
    server: RunningServer, cases: Cases, page: Any
) -> None:
    made = cases.create("gold", 30)
    server.wait_for_trace(made["trace_id"])
    log_in(page, server)
    page.select_option("select[name=project]", PROJECT)
    page.wait_for_url(f"**project={PROJECT}**")
    assert set(row_services(page)) == {PROJECT}

    page.fill(".scope-picker input[name=environment]", "test")
    page.click(".scope-picker button[type=submit]")
    page.wait_for_url("**environment=test**")
    assert page.locator("table tbody tr").count() >= 1

    page.click("nav.mainnav >> text=Service health")
    page.wait_for_url("**/services**")
    assert url_params(page)["project"] == [PROJECT]
    assert url_params(page)["environment"] == ["test"]
    assert page.locator("select[name=project]").input_value() == PROJECT
    assert row_services(page) == [PROJECT]

    # A custom range: the last two hours, written as UTC times.
    now = datetime.now(UTC)
    start = (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    end = (now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    page.click(".custom-range summary")
    page.fill(".custom-range input[name=from]", start)
    page.fill(".custom-range input[name=to]", end)
    page.click(".custom-range button[type=submit]")
    page.wait_for_url("**period=**")
    assert url_params(page)["period"] == [f"{start}/{end}"]
    assert url_params(page)["project"] == [PROJECT]
    assert start.replace("T", " ") in page.locator(".custom-range summary").inner_text()
    assert row_services(page) == [PROJECT]
    # Links inside the page carry the pickers too.
    page.click(f"table tbody tr[data-service='{PROJECT}'] td.name a")
    page.wait_for_url("**query=service**")
    assert url_params(page)["project"] == [PROJECT]
