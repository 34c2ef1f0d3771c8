"""The settings page lists what sentry-cli uploaded, in Chromium: a debug-id bundle
and a release with its files, uploaded by the real CLI to the shared server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from e2e.test_sourcemaps import CLI, _run, build, upload, upload_release
from serverproc import RunningServer

pytestmark = [pytest.mark.e2e, pytest.mark.node]


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    opened = browser.new_context(viewport={"width": 1280, "height": 900})
    opened.set_default_timeout(15_000)
    yield opened
    opened.close()


def test_the_settings_page_lists_bundles_and_releases(
    server: RunningServer, context: Any, tmp_path: Path, artifacts: Path
) -> None:
    name = f"maps-{uuid.uuid4().hex[:6]}"
    project = server.project(name)
    injected = build(tmp_path / "injected", "--minify")
    _run([str(CLI), "sourcemaps", "inject", str(injected)])
    upload(server, name, injected)
    release = f"shop@{uuid.uuid4().hex[:6]}"
    upload_release(server, name, release, build(tmp_path / "static", "--minify"))
    listed = server.api("GET", f"/api/v1/projects/{project['id']}/sourcemaps").json()
    [bundle] = listed["bundles"]
    [by_release] = listed["releases"]
    assert {f["kind"] for f in bundle["files"]} == {"minified_source", "source_map"}
    urls = [f["url"] for f in by_release["files"]]
    assert urls == ["~/static/checkout.min.js", "~/static/checkout.min.js.map"]

    page = context.new_page()
    page.goto(server.url + "/login")
    page.fill("#password", server.token)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(server.url + "/settings#sourcemaps")
    section = page.locator(f'.sourcemap-project[data-project="{name}"]')
    bundle_row = section.locator(f'tr[data-debug-id="{bundle["debug_id"]}"]')
    assert bundle_row.locator("td").first.inner_text() == bundle["debug_id"]
    files = bundle_row.locator("td").nth(1).inner_text()
    assert "minified source" in files and "source map" in files
    assert "MiB" in bundle_row.locator("td").nth(2).inner_text()  # the map is megabytes
    rows = section.locator(f'tr[data-release="{release}"]')
    assert rows.count() == 2
    first = [rows.nth(0).locator("td").nth(i).inner_text() for i in range(5)]
    assert first[:3] == [release, "~/static/checkout.min.js", "minified source"]
    assert first[4] == "checkout.min.js.map"  # where its map is
    assert rows.nth(1).locator("td").nth(1).inner_text() == "~/static/checkout.min.js.map"
    page.locator("#sourcemaps").screenshot(path=str(artifacts / "settings-sourcemaps.png"))
