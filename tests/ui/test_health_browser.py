"""The releases, crons, feedback and profile pages in Chromium.

``tests/e2e/apps/health_client.py`` is a batch job with the real sentry-sdk:
three user sessions (healthy, a handled error, a crash), a ``@monitor`` job
that succeeds and then fails plus a heartbeat check-in, and a profiled
transaction that burns CPU in ``busy``. It runs twice here, as two releases of
one project, so each release has half the project's sessions.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from serverproc import RunningServer
from ui.test_browser import log_in

pytestmark = pytest.mark.e2e

TESTS = Path(__file__).parents[1]
APP = TESTS / "e2e" / "apps" / "health_client.py"
NODE_DIR = TESTS / "node"
FIXTURES = TESTS / "fixtures" / "envelopes"
PROJECT = "ui-health"
RELEASES = ("ui-jobs@1.0.0", "ui-jobs@1.1.0")


def _run_job(dsn: str, release: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, str(APP)],
        env={**os.environ, "SENTRY_DSN": dsn, "SENTRY_RELEASE": release},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def jobs(server: RunningServer) -> list[dict[str, Any]]:
    dsn = server.project(PROJECT)["dsn"]
    ran = [_run_job(dsn, release) for release in RELEASES]

    def ours(body: dict) -> dict[str, int]:
        return {r["release"]: r["sessions"] for r in body["releases"] if r["project"] == PROJECT}

    server.poll("/api/v1/releases", lambda b: ours(b) == dict.fromkeys(RELEASES, 3))
    return ran


def _cells(row: Any) -> list[str]:
    return [" ".join(t.split()) for t in row.locator("td").all_inner_texts()]


def test_releases_page_shows_crash_free_rates_and_adoption(
    server: RunningServer, jobs: list[dict[str, Any]], page: Any, artifacts: Path
) -> None:
    log_in(page, server)
    page.click("nav.mainnav >> text=Releases")
    page.wait_for_url("**/releases**")
    rows = page.locator(f"table.releases tr[data-project='{PROJECT}']")
    assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.release)")) == list(RELEASES)
    row = page.locator(f"table.releases tr[data-project='{PROJECT}'][data-release='{RELEASES[1]}']")
    cells = _cells(row)
    assert cells[0] == f"{RELEASES[1]} e2e" and cells[1] == PROJECT
    # Crash-free sessions and users, sessions, users, adoption.
    assert cells[2:7] == ["66.7%", "66.7%", "3", "3", "50.0%"]
    assert cells[7].endswith("ago")

    page.click("nav[aria-label=Environment] >> text=e2e")
    page.wait_for_url("**environment=e2e**")
    assert row.count() == 1
    page.goto(server.url + "/releases?environment=production")
    assert page.locator(f"table.releases tr[data-project='{PROJECT}']").count() == 0
    assert "No sessions in the last 24h in production" in page.inner_text("main")

    page.goto(server.url + "/releases?period=1h")
    page.locator("nav[aria-label=Period] a[aria-current=true]").filter(has_text="1h").wait_for()
    page.screenshot(path=str(artifacts / "releases.png"), full_page=True)
    page.locator(f"tr[data-project='{PROJECT}'][data-release='{RELEASES[0]}'] a").click()
    page.wait_for_url("**/releases/ui-jobs%401.0.0?period=1h&project=ui-health")
    assert page.inner_text("h1") == RELEASES[0]
    assert page.inner_text("#crash-free-sessions b") == "66.7%"
    assert page.inner_text("#sessions b") == "3"
    outcomes = _cells(page.locator("table.outcomes tbody tr"))
    assert outcomes == ["1", "1", "0", "0", "1"]  # healthy, errored, abnormal, unhandled, crashed
    bars = page.locator("#release-sessions svg rect.bar title").evaluate_all(
        "ts => ts.map(t => t.textContent)"
    )
    assert sum(float(b) for b in bars) == 3  # the three sessions, in the chart
    crashes = page.locator("#release-crashes svg rect.bar title").evaluate_all(
        "ts => ts.map(t => t.textContent)"
    )
    assert crashes == ["1"]  # the crashed session
    page.screenshot(path=str(artifacts / "release.png"), full_page=True)


def test_crons_page_shows_monitors_runs_and_missed_runs(
    server: RunningServer, jobs: list[dict[str, Any]], page: Any, artifacts: Path
) -> None:
    dsn = server.project(PROJECT)["dsn"]
    late = subprocess.run(
        [sys.executable, str(APP.parent / "late_job.py")],
        env={**os.environ, "SENTRY_DSN": dsn},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert late.returncode == 0, late.stderr

    def ready(body: dict) -> bool:
        ours = {m["slug"]: m for m in body["monitors"] if m["project"] == PROJECT}
        return ours.get("nightly-import", {}).get("runs") == 4 and "ledger-sync" in ours

    server.poll("/api/v1/monitors", ready)
    log_in(page, server)
    page.click("nav.mainnav >> text=Crons")
    page.wait_for_url("**/crons**")

    def row(slug: str) -> Any:
        return page.locator(f"table.monitors tr[data-monitor='{slug}'][data-project='{PROJECT}']")

    nightly = _cells(row("nightly-import"))
    assert nightly[1] == "0 3 * * * UTC" and nightly[2] == "failed"
    assert nightly[3].endswith("ago") and nightly[4].endswith(" 03:00:00 UTC")
    assert nightly[6:] == ["4", "2", "0"]  # runs, failed, missed
    ticks = row("nightly-import").locator(".runtick")
    assert ticks.evaluate_all("ts => ts.map(t => t.dataset.status)") == [
        "ok",
        "error",
        "ok",
        "error",
    ]
    assert all(t.endswith("ms") for t in ticks.all_inner_texts())  # each run's duration
    colours = ticks.evaluate_all("ts => ts.map(t => getComputedStyle(t).backgroundColor)")
    assert colours[0] == colours[2] != colours[1] == colours[3]
    warmup = _cells(row("cache-warmup"))
    assert warmup[1] == "no schedule sent" and warmup[2] == "ok"
    assert row("cache-warmup").locator(".runtick").first.inner_text() == "1.5s"

    ledger = _cells(row("ledger-sync"))
    assert ledger[1] == "every 10 minutes" and ledger[2] == "missed"
    assert ledger[8] == "3"
    problems = page.locator("table.cron-problems tr[data-monitor='ledger-sync']")
    assert problems.evaluate_all("rs => rs.map(r => r.dataset.what)") == ["missed"] * 3
    failed = page.locator("table.cron-problems tr[data-monitor='nightly-import']")
    assert failed.count() >= 2
    assert "failed: the job reported an error" in failed.first.inner_text()
    page.screenshot(path=str(artifacts / "crons.png"), full_page=True)


def _node_feedback(server: RunningServer) -> dict[str, Any]:
    """@sentry/node: an error in a span, then the user's feedback about it."""
    if shutil.which("node") is None:
        pytest.fail("node is not on PATH: install Node.js >= 20.19 to run the node tests")
    result = subprocess.run(
        ["node", "feedback.mjs"],
        cwd=NODE_DIR,
        env={**os.environ, "SENTRY_DSN": server.project(PROJECT)["dsn"]},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def _browser_feedback(server: RunningServer) -> dict[str, Any]:
    """The feedback @sentry/browser sent during a replay (recorded in Chromium),
    sent again now: it names its replay and its trace."""
    header, item, payload = (FIXTURES / "browser-feedback.envelope").read_bytes().split(b"\n")
    event = json.loads(payload)
    event["timestamp"] = time.time()
    replay = (FIXTURES / "browser-replay.envelope").read_bytes()  # the replay it names
    project = server.project(PROJECT)
    for body in (replay, b"\n".join([header, item, json.dumps(event).encode()])):
        answer = httpx.post(
            f"{server.url}/api/{project['id']}/envelope/",
            content=body,
            headers={
                "X-Sentry-Auth": f"Sentry sentry_key={project['public_key']}, sentry_version=7"
            },
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
    return dict(event)


def test_feedback_page_links_replay_trace_and_error(
    server: RunningServer, page: Any, artifacts: Path
) -> None:
    node = _node_feedback(server)
    browser_event = _browser_feedback(server)
    words = browser_event["contexts"]["feedback"]

    def arrived(body: dict) -> bool:
        ids = {f["event_id"] for f in body["feedback"]}
        return {node["feedback_id"], browser_event["event_id"]} <= ids

    server.poll("/api/v1/feedback", arrived)
    server.poll(f"/api/v1/traces/{node['trace_id']}", lambda t: bool(t.get("errors")))
    log_in(page, server)
    page.click("nav.mainnav >> text=Feedback")
    page.wait_for_url("**/feedback**")

    row = page.locator(f"table.feedback tr[data-feedback='{node['feedback_id']}']")
    cells = _cells(row)
    assert cells[:3] == [
        "Ana Souza ana@example.org",
        "My upload failed twice",
        "https://app.example.org/upload",
    ]
    assert row.locator("a.fb-trace").get_attribute("href") == f"/traces/{node['trace_id']}"
    assert row.locator("a.fb-replay").count() == 0  # a server SDK records no replay
    error = row.locator("a.fb-error")
    assert "Upload failed: blockchain timeout" in error.inner_text()
    error.click()
    page.wait_for_url(f"**/issues/*/events/{node['error_id']}")
    assert "Upload failed: blockchain timeout" in page.inner_text("main")

    page.go_back()
    row = page.locator(f"table.feedback tr[data-feedback='{browser_event['event_id']}']")
    assert _cells(row)[:2] == [f"{words['name']} {words['contact_email']}", words["message"]]
    replay = row.locator("a.fb-replay")
    assert replay.get_attribute("href") == f"/replays/{words['replay_id']}"
    trace_id = browser_event["contexts"]["trace"]["trace_id"]
    assert row.locator("a.fb-trace").get_attribute("href") == f"/traces/{trace_id}"
    page.screenshot(path=str(artifacts / "feedback.png"), full_page=True)
    replay.click()
    page.wait_for_url(f"**/replays/{words['replay_id']}")
    assert 'Clicked "Upload Document"' in page.inner_text("#replay-timeline")


def test_profile_flame_graph_shows_the_busy_function(
    server: RunningServer, jobs: list[dict[str, Any]], page: Any, artifacts: Path
) -> None:
    [transaction_id] = jobs[0]["transactions"]
    path = f"/api/v1/profiles?transaction_id={transaction_id}"
    [listed] = server.poll(path, lambda b: bool(b["profiles"]))["profiles"]
    log_in(page, server)
    # The transaction summary lists its profiles; the newest opens the flame graph.
    page.goto(f"{server.url}/transaction?name=build-report&period=1h")
    profiles = page.locator("#transaction-profiles table.profiles tbody tr")
    shown = profiles.evaluate_all("rs => rs.map(r => r.dataset.profile)")
    assert listed["id"] in shown and len(shown) >= len(RELEASES)  # one per run of the job
    page.locator(f"tr[data-profile='{listed['id']}'] a[href^='/profiles/']").click()
    page.wait_for_url(f"**/profiles/{listed['id']}")
    assert page.inner_text("h1") == "build-report"

    cells = page.locator("#flamegraph g.flame-cell")
    shares = cells.evaluate_all("gs => gs.map(g => [g.dataset.name, +g.dataset.share])")
    busy = [share for name, share in shares if name == "__main__.busy"]
    # The job spent its 0.4 s transaction in busy(): most of the samples pass through it.
    assert busy and max(busy) > 0.5, shares
    cell = cells.filter(has=page.locator("text=__main__.busy")).first
    title = cell.locator("title").text_content() or ""
    assert "health_client.py:" in title and "samples" in title and "%" in title
    # Wider cells for more samples: busy's rectangle is over half the root's.
    widths = cell.locator("rect").evaluate("r => r.getBoundingClientRect().width")
    root = cells.first.locator("rect").evaluate("r => r.getBoundingClientRect().width")
    assert widths > 0.5 * root

    row = page.locator("table.functions tr[data-function='__main__.busy']")
    total = float(_cells(row)[2].rstrip("%"))
    assert total > 50
    page.screenshot(path=str(artifacts / "profile.png"), full_page=True)

    # The trace page links the profile of its transaction, in the header and the details.
    page.click("#profile-trace")
    page.wait_for_url(f"**/traces/{listed['transaction']['trace_id']}")
    links = page.locator("a.profile-link")
    assert "Profile of build-report" in links.first.inner_text()
    assert links.first.get_attribute("href") == f"/profiles/{listed['id']}"
