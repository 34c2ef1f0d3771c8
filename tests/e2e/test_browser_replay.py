"""Session Replay from @sentry/browser in real headless Chromium.

The page (``tests/browser/src``, bundled with esbuild from the npm packages in
``tests/browser``) runs the SDK with browser tracing and Replay. A user clicks
into the case-name field, types, clicks "Upload Document"; the page fetches a
Flask backend instrumented with sentry-sdk, which fails with a 504, and the
page throws. glasspane must show the replay's timeline (the click with the
button's text, the masked input, the request with its status, the error) and
link the replay, the trace and the issue both ways.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from e2e.services import Service
from serverproc import RunningServer, free_port
from ui.browser import CHROMIUM

pytestmark = [pytest.mark.e2e, pytest.mark.node]

BROWSER_DIR = Path(__file__).resolve().parent.parent / "browser"


def _npm_ci() -> None:
    if (BROWSER_DIR / "node_modules" / "@sentry" / "browser" / "package.json").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is not on PATH: install Node.js >= 20.19 with npm (make system-deps)")
    command = [npm, "ci", "--no-audit", "--no-fund"]
    done = subprocess.run(command, cwd=BROWSER_DIR, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        pytest.fail(f"npm ci failed in {BROWSER_DIR}:\n{done.stdout}\n{done.stderr}")


@pytest.fixture(scope="module")
def page_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The page, bundled with esbuild and served over HTTP on 127.0.0.1."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (make system-deps)")
    _npm_ci()
    out = tmp_path_factory.mktemp("page")
    esbuild = BROWSER_DIR / "node_modules" / ".bin" / "esbuild"
    command = [
        str(esbuild),
        "src/app.js",
        "--bundle",
        "--format=iife",
        "--target=es2020",
        f"--outfile={out / 'app.js'}",
        "--log-level=error",
    ]
    done = subprocess.run(command, cwd=BROWSER_DIR, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    shutil.copy(BROWSER_DIR / "src" / "index.html", out / "index.html")
    handler = functools.partial(_QuietHandler, directory=str(out))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/index.html"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def backend(server: RunningServer) -> Iterator[Service]:
    dsn = server.project("upload-backend")["dsn"]
    service = Service("upload_backend.py", {"SENTRY_DSN": dsn}).wait_ready()
    yield service
    service.stop()


@pytest.fixture(scope="module")
def session(server: RunningServer, page_url: str, backend: Service, browser: Any) -> dict[str, Any]:
    """Drive the page once as a user would; what the page knew at the end."""
    dsn = server.project("browser-app")["dsn"]
    url = f"{page_url}?{urlencode({'dsn': dsn, 'backend': backend.url})}"
    context = browser.new_context()  # a fresh profile: no state from other tests
    try:
        page = context.new_page()
        page.goto(url)
        page.wait_for_function("window.__glasspane && window.__glasspane.replayId()")
        page.click("#case-name")
        page.keyboard.type("arbitration-case-142", delay=20)
        page.click("#upload")
        page.wait_for_function("document.getElementById('status').textContent.includes('timeout')")
        page.wait_for_timeout(300)  # the thrown error is reported from a timer
        page.evaluate("window.__glasspane.feedback('The upload spins forever')")
        replay_id = page.evaluate("window.__glasspane.replayId()")
        _flush_until_stored(server, page, replay_id)
        page.evaluate("window.__glasspane.flush()")
        known = {
            "replay_id": replay_id,
            "backend_trace": page.evaluate("window.__backendTrace"),
        }
    finally:
        context.close()
    httpx.get(backend.url + "/flush", timeout=15)
    return known


def _flush_until_stored(server: RunningServer, page: Any, replay_id: str) -> None:
    """Flush the replay until glasspane has the segment with the error.

    Replay sends nothing while the replay is shorter than its minReplayDuration
    (5 s from the SDK's start, which a loaded machine delays), so one flush at a
    fixed time is not enough: flush, look, wait, again.
    """
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        page.evaluate("window.__glasspane.flushReplay()")
        response = server.api("GET", f"/api/v1/replays/{replay_id}")
        if response.status_code == 200 and _complete(response.json()):
            return
        page.wait_for_timeout(1000)
    raise AssertionError(f"replay {replay_id} was not stored with its error within 60 s")


def _complete(replay: dict[str, Any]) -> bool:
    kinds = {e["type"] for e in replay["timeline"]}
    return {"click", "input", "network", "error"} <= kinds and bool(replay["error_ids"])


def test_replay_timeline_shows_what_the_user_did(
    server: RunningServer, session: dict[str, Any]
) -> None:
    replay = server.poll(f"/api/v1/replays/{session['replay_id']}", _complete, 30)
    assert replay["project"] == "browser-app"
    assert replay["user"]["email"] == "demo@test.com"
    assert replay["segments"][0]["segment_id"] == 0 and replay["segments"][0]["has_recording"]
    timeline = replay["timeline"]
    assert timeline[0]["type"] == "navigation" and "index.html" in timeline[0]["url"]
    clicks = [e for e in timeline if e["type"] == "click"]
    upload = next(e for e in clicks if e["element_id"] == "upload")
    assert upload["text"] == "Upload Document"
    assert upload["description"] == 'Clicked "Upload Document"'
    [typed] = [e for e in timeline if e["type"] == "input"]
    assert typed["element_id"] == "case-name" and typed["masked"] is True
    assert typed["value"] == "*" * len("arbitration-case-142")
    assert "arbitration" not in str(replay)  # the SDK masked it; nothing leaked
    [request] = [e for e in timeline if e["type"] == "network" and "/upload" in e["url"]]
    assert (request["method"], request["status"]) == ("GET", 504)
    errors = [e for e in timeline if e["type"] == "error"]
    browser_error = next(e for e in errors if e["linked_by"] == "replay")
    assert browser_error["title"] == "Error: Blockchain confirmation timeout"
    order = [upload, request, browser_error]
    assert [e["offset_ms"] for e in order] == sorted(e["offset_ms"] for e in order)
    shown = [t for e in timeline if e["type"] == "dom" for t in e["texts"]]
    assert "Processing..." in shown


def test_replay_trace_and_issue_link_both_ways(
    server: RunningServer, session: dict[str, Any]
) -> None:
    replay_id = session["replay_id"]
    replay = server.poll(f"/api/v1/replays/{replay_id}", _complete, 30)
    # The backend continued the browser's trace: the replay lists it, and the
    # trace holds the browser's spans and the Flask transaction.
    assert session["backend_trace"] in replay["trace_ids"]
    trace = server.wait_for_trace(
        session["backend_trace"],
        lambda t: {"browser-app", "upload-backend"} <= {s["project"] for s in t["spans"]},
    )
    assert any(s["data"].get("sentry.replay_id") == replay_id for s in trace["spans"])
    assert trace["replay_ids"] == [replay_id]
    by_trace = server.api("GET", f"/api/v1/replays?trace_id={session['backend_trace']}").json()
    assert replay_id in [r["id"] for r in by_trace["replays"]]
    # The backend's error shows in the replay through the trace.
    backend_error = server.poll(
        f"/api/v1/replays/{replay_id}",
        lambda r: any(e["project"] == "upload-backend" for e in r["errors"]),
        30,
    )
    assert any(e["linked_by"] == "trace" for e in backend_error["errors"])
    # The issue of the browser's error finds the replay, and its event names it.
    issue_id = next(e["issue_id"] for e in replay["errors"] if e["linked_by"] == "replay")
    assert issue_id in replay["issue_ids"]
    by_issue = server.api("GET", f"/api/v1/replays?issue_id={issue_id}").json()
    assert [r["id"] for r in by_issue["replays"]] == [replay_id]
    issue = server.api("GET", f"/api/v1/issues/{issue_id}").json()
    assert issue["latest_event"]["tags"]["replayId"] == replay_id
    assert issue["replay_ids"] == [replay_id]


def test_the_trace_page_names_the_browser_from_its_user_agent(
    server: RunningServer, session: dict[str, Any]
) -> None:
    """@sentry/browser sends its User-Agent: the header names the browser and OS."""
    trace_id = session["backend_trace"]
    server.wait_for_trace(
        trace_id, lambda t: {"browser-app", "upload-backend"} <= {s["project"] for s in t["spans"]}
    )
    with httpx.Client(base_url=server.url, follow_redirects=True, timeout=15) as client:
        page = client.get(f"/traces/{trace_id}", params={"token": server.token})
    assert page.status_code == 200
    header = page.text[page.text.index('<p class="meta">') :]
    header = header[: header.index("</p>")]
    assert re.search(r"<span>Browser: (Headless)?Chrome \d+</span>", header), header
    assert "<span>OS: Linux</span>" in header, header


def test_feedback_and_browser_session(server: RunningServer, session: dict[str, Any]) -> None:
    replay_id = session["replay_id"]
    feedback = server.poll(
        f"/api/v1/feedback?replay_id={replay_id}", lambda b: bool(b["feedback"]), 30
    )["feedback"]
    assert feedback[0]["message"] == "The upload spins forever"
    assert feedback[0]["contact_email"] == "demo@test.com"
    replay = server.api("GET", f"/api/v1/replays/{replay_id}").json()
    assert replay["feedback"][0]["message"] == "The upload spins forever"

    def browser_release(body: dict) -> list[dict]:
        # This project's: the other browser tests load the same bundles in theirs.
        return [
            r
            for r in body["releases"]
            if r["release"] == "browser-e2e@1.0.0" and r["project"] == "browser-app"
        ]

    [release] = browser_release(
        server.poll(
            "/api/v1/releases",
            lambda b: bool(browser_release(b)) and browser_release(b)[0]["unhandled"] == 1,
            30,
        )
    )
    assert (release["sessions"], release["users"], release["crashed_users"]) == (1, 1, 1)
    assert release["crash_free_sessions"] == 0.0


def test_replay_pages_in_chromium(
    server: RunningServer, session: dict[str, Any], browser: Any
) -> None:
    """The user's replay from the list, its timeline scrubbed, its trace and back."""
    from ui.test_browser import log_in

    replay_id = session["replay_id"]
    server.poll(f"/api/v1/replays/{replay_id}", _complete, 30)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        log_in(page, server)
        page.click("nav.mainnav >> text=Replays")
        page.fill(".filters input[name=query]", "user:demo@test.com")
        page.press(".filters input[name=query]", "Enter")
        page.click("#errors-only")
        assert "errors=1" in page.url and "query=user" in page.url
        row = page.locator(f"tr[data-replay='{replay_id}']")
        cells = row.locator("td").all_inner_texts()
        assert cells[0].startswith("demo@test.com")
        assert int(cells[2]) >= 1 and "index.html" in cells[3]
        row.locator("a").click()
        page.wait_for_url(f"**/replays/{replay_id}")
        timeline = page.locator("#replay-timeline tbody tr")
        texts = timeline.all_inner_texts()
        assert any('Clicked "Upload Document"' in t for t in texts)
        assert any("(masked)" in t and "case-name" in t for t in texts)
        assert any("/upload" in t and "504" in t for t in texts)
        error = page.locator("tr[data-type=error] a[href^='/issues/']").first
        assert "Blockchain confirmation timeout" in error.inner_text()
        # Scrub to the click on "Upload Document": it is the current entry,
        # and what came after it is not reached yet.
        upload = page.locator("tr[data-type=click]", has_text="Upload Document")
        at = int(upload.get_attribute("data-offset") or "0")
        page.locator("#replay-scrub").fill(str(at))  # a range input takes its value
        assert page.locator("tr.current").get_attribute("data-offset") == str(at)
        later = page.locator("tr[data-type=error]").first
        assert "reached" not in (later.get_attribute("class") or "")
        assert page.locator("#replay-at").inner_text() == f"{at / 1000:.1f} s"
        # The trace the replay saw links the replay back.
        page.click(f"a[href='/traces/{session['backend_trace']}']")
        page.wait_for_url(f"**/traces/{session['backend_trace']}")
        link = page.locator("a[href^='/replays/']")
        assert link.get_attribute("href") == f"/replays/{replay_id}"
        link.click()
        page.wait_for_url(f"**/replays/{replay_id}")
        assert not problems, problems
    finally:
        context.close()


def test_the_replay_page_shows_the_pages_text_as_it_was(
    server: RunningServer, session: dict[str, Any], browser: Any
) -> None:
    """Beside the timeline, the page's text at the scrubbed moment: "Idle" when the
    user clicked Upload, the timeout message at the end, neither before the page."""
    from ui.test_browser import log_in

    replay_id = session["replay_id"]
    server.poll(f"/api/v1/replays/{replay_id}", _complete, 30)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        log_in(page, server)
        page.goto(f"{server.url}/replays/{replay_id}")
        shown = page.locator("#replay-page-text .page-state:not([hidden])")
        scrub = page.locator("#replay-scrub")
        # The scrubber starts at the end: the page as the user last saw it.
        end = scrub.get_attribute("max") or "0"
        assert scrub.input_value() == end
        assert "Blockchain confirmation timeout" in shown.inner_text()
        assert "Upload Document" in shown.inner_text()
        # At the start, before the failure, the message is not on the page.
        scrub.fill("0")
        assert "Blockchain confirmation timeout" not in shown.inner_text()
        # A click on the timeline's "Upload Document" entry: the page said "Idle".
        upload = page.locator("tr[data-type=click]", has_text="Upload Document")
        upload.locator("td").first.click()
        assert scrub.input_value() == upload.get_attribute("data-offset")
        assert shown.inner_text().splitlines()[-1] == "Idle"
        assert "Blockchain confirmation timeout" not in shown.inner_text()
        # Scrubbed back to the end, the failure shows again.
        scrub.fill(end)
        assert shown.inner_text().splitlines()[-1] == "Blockchain confirmation timeout"
        assert page.locator("#replay-page-text .page-text-at").inner_text() == (
            f"{int(end) / 1000:.1f} s"
        )
        assert not problems, problems
    finally:
        context.close()
