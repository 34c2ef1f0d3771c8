"""The scenario's debugging path, clicked through in a real browser.

Two Flask services with the real sentry-sdk report to the shared server; one
request fails in the backend's ``blockchain.wait`` span with a ``blockchain``
context. Then Chromium logs in, opens Performance, follows the transaction with
the highest failure rate to a failed trace, reads the failing span and its
error, opens the issue and resolves it. Screenshots of each step are saved
under the ``artifacts`` directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from e2e.services import Service
from serverproc import RunningServer

pytestmark = pytest.mark.e2e

FRONT, BACK = "ui-frontend", "ui-backend"
ERROR_TEXT = "Transaction 0x7a8b9c0d1e2f not confirmed after 30 seconds"


@pytest.fixture(scope="module")
def failed_trace(server: RunningServer) -> Iterator[dict[str, Any]]:
    """Three good uploads and one that fails downstream; the failed trace, complete."""
    back = server.project(BACK)
    front = server.project(FRONT)
    backend = Service("flask_service.py", {"SENTRY_DSN": back["dsn"]}).wait_ready()
    frontend = Service(
        "flask_service.py", {"SENTRY_DSN": front["dsn"], "DOWNSTREAM_URL": backend.url}
    ).wait_ready()
    try:
        for fail in (0, 0, 0, 1):
            answer = httpx.get(f"{frontend.url}/upload", params={"fail": fail}, timeout=20)
            trace_id = answer.json()["trace_id"]
        httpx.get(backend.url + "/flush", timeout=20)
        httpx.get(frontend.url + "/flush", timeout=20)
        yield server.wait_for_trace(
            trace_id,
            lambda t: t["errors"] and len([s for s in t["spans"] if s["is_transaction"]]) >= 2,
        )
    finally:
        frontend.stop()
        backend.stop()


def log_in(page: Any, server: RunningServer) -> None:
    page.goto(server.url + "/")
    assert "/login" in page.url
    page.fill("#password", server.token)
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/")


def test_debugging_path_from_performance_to_a_resolved_issue(
    server: RunningServer, failed_trace: dict[str, Any], page: Any, artifacts: Path
) -> None:
    def shot(name: str) -> None:
        page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)

    log_in(page, server)
    # Only this test's two services: other UI tests send failing traffic of their own.
    page.fill(".filters input[name=query]", f"service:[{FRONT},{BACK}]")
    page.click(".filters button[type=submit]")
    page.click(".periods >> text=15m")
    page.click("#transactions th >> text=Failure rate")  # descending: the worst first
    first = page.locator("#transactions tbody tr").first
    assert first.get_attribute("data-service") == BACK
    assert "highest failure rate" in first.inner_text()
    assert "period=15m" in page.url and "query=service" in page.url
    shot("1-performance")

    first.locator("td.name > a").click()
    page.wait_for_url("**/transaction?**")
    assert page.locator("h1").inner_text().startswith("process")
    page.click("nav[aria-label='Trace status'] >> text=Errors")
    rows = page.locator("#traces tbody tr")
    assert rows.count() >= 1
    assert all(s == "error" for s in rows.evaluate_all("rs => rs.map(r => r.dataset.status)"))
    shot("2-transaction")

    page.click(f"#traces a[href^='/traces/{failed_trace['trace_id']}']")
    page.wait_for_url(f"**/traces/{failed_trace['trace_id']}**")
    failing = page.locator(".wf-row.failed", has_text="blockchain.wait")
    assert failing.count() == 1
    assert f"{BACK}: blockchain.wait Wait for confirmation" in failing.inner_text()
    error_row = page.locator(".wf-error").first
    assert f"TransactionTimeoutError: {ERROR_TEXT}" in error_row.inner_text()
    summary = page.locator(".summary").inner_text()
    assert "Failing step" in summary and "blockchain.wait" in summary
    assert ERROR_TEXT in summary and "wait_for_confirmation" in summary
    assert "Blockchain context" in summary and "base-sepolia" in summary
    states = page.locator(".steps li").evaluate_all(
        "ls => Object.fromEntries(ls.map(l => [l.dataset.service, l.dataset.state]))"
    )
    # The frontend's call failed only because the backend did: not its own failure.
    assert states == {FRONT: "propagated", BACK: "failed"}
    details = page.locator(".span-details:not([hidden])")
    assert "deadline_exceeded" in details.inner_text()  # the failing span is selected
    shot("3-trace")

    page.locator(".wf-row:not(.failed) a.sel", has_text="file.read").click()
    assert "file.read" in page.locator(".span-details:not([hidden])").inner_text()
    assert "span=" in page.url
    root = page.locator(".wf-row[data-depth='0']").first
    root.locator(".twisty").click()
    assert page.locator(".wf-row:not([hidden])").count() == 1
    root.locator(".twisty").click()
    assert failing.is_visible()

    page.click(".summary a.issue-link")
    page.wait_for_url("**/issues/*")
    issue_id = int(page.url.rsplit("/", 1)[1].split("?")[0])
    assert "TransactionTimeoutError" in page.locator("h1").inner_text()
    assert page.locator(".frame.in-app").count() >= 1
    assert "wait_for_confirmation" in page.locator(".stack").first.inner_text()
    assert page.locator(f"a[href^='/traces/{failed_trace['trace_id']}']").count() >= 1
    shot("4-issue")

    # The latest event's id opens the event page; the issue's header is there too.
    page.click("#events tbody tr:first-child a[href*='/events/']")
    page.wait_for_url(f"**/issues/{issue_id}/events/*")
    assert "TransactionTimeoutError" in page.locator("h1").inner_text()
    assert "wait_for_confirmation" in page.locator(".stack").first.inner_text()
    assert page.locator(f".col-main a[href^='/traces/{failed_trace['trace_id']}']").count() >= 1
    shot("4b-event")

    page.click("button:has-text('Resolve')")
    page.wait_for_url(f"**/issues/{issue_id}?updated=resolved")
    assert page.locator("#issue-status").inner_text() == "resolved"
    shot("5-resolved")
    assert server.api("GET", f"/api/v1/issues/{issue_id}").json()["status"] == "resolved"


def test_waterfall_works_from_the_keyboard(
    server: RunningServer, failed_trace: dict[str, Any], page: Any
) -> None:
    log_in(page, server)
    page.goto(f"{server.url}/traces/{failed_trace['trace_id']}")
    first = page.locator(".wf-row a.sel").first
    first.focus()
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("document.activeElement.closest('.wf-row').dataset.depth")
    assert focused == "1"
    page.keyboard.press("Enter")
    selected = page.evaluate("document.activeElement.closest('.wf-row').dataset.span")
    assert page.locator(f"#span-{selected}").is_visible()
    first.focus()
    page.keyboard.press("ArrowLeft")
    assert page.locator(".wf-row:not([hidden])").count() == 1
    page.keyboard.press("ArrowRight")
    assert page.locator(".wf-row:not([hidden])").count() > 1


@pytest.mark.parametrize("path", ["/", "/trace", "/issues", "/services"])
def test_pages_fit_a_narrow_screen(
    server: RunningServer, failed_trace: dict[str, Any], browser: Any, path: str, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    page.goto(f"{server.url}/?token={server.token}")
    if path == "/trace":
        path = f"/traces/{failed_trace['trace_id']}"
    page.goto(server.url + path)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    name = "narrow-" + (path.strip("/").split("/")[0] or "performance")
    page.screenshot(path=str(artifacts / f"{name}.png"))
    context.close()
    assert overflow <= 1, f"{path} is {overflow}px wider than a 390px screen"


def bulk_trace(server: RunningServer, spans: int = 2000) -> str:
    """One transaction of ``spans`` spans, four children per parent, sent as an envelope."""
    from envelopes import envelope_bytes, new_span_id, new_trace_id, transaction

    project = server.project("ui-bulk")
    trace_id = new_trace_id()
    tx = transaction(trace_id, children=0, name="bulkImport")
    root = tx["contexts"]["trace"]["span_id"]
    ids = [root]
    for i in range(spans - 1):
        span_id = new_span_id()
        start = tx["start_timestamp"] + i / (spans * 2.5)
        tx["spans"].append(
            {
                "trace_id": trace_id,
                "span_id": span_id,
                "parent_span_id": ids[i // 4],
                "op": "db.query",
                "description": f"SELECT {i}",
                "start_timestamp": start,
                "timestamp": start + 0.0004,
            }
        )
        ids.append(span_id)
    answer = httpx.post(
        f"{server.url}/api/{project['id']}/envelope/",
        content=envelope_bytes(tx),
        headers={"X-Sentry-Auth": f"Sentry sentry_key={project['public_key']}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    server.wait_for_trace(trace_id, lambda t: len(t["spans"]) == spans)
    return trace_id


def test_a_trace_of_two_thousand_spans_stays_usable(
    server: RunningServer, page: Any, artifacts: Path
) -> None:
    trace_id = bulk_trace(server)
    log_in(page, server)
    page.goto(f"{server.url}/traces/{trace_id}")
    assert page.locator(".wf-row").count() == 2000
    timing = page.evaluate(
        "() => { const n = performance.getEntriesByType('navigation')[0];"
        " return n.domContentLoadedEventEnd - n.startTime; }"
    )
    root = page.locator(".wf-row[data-depth='0']").first
    root.locator(".twisty").click()
    assert page.locator(".wf-row:not([hidden])").count() == 1
    root.locator(".twisty").click()
    assert page.locator(".wf-row:not([hidden])").count() == 2000
    # The script's own work for a collapse and an expand, layout included.
    toggled = page.evaluate(
        """() => { const b = document.querySelector('.wf-row .twisty'), t = performance.now();
                   b.click(); document.body.offsetHeight; b.click(); document.body.offsetHeight;
                   return performance.now() - t; }"""
    )
    deep = page.locator(".wf-row a.sel").nth(1500)
    label = deep.inner_text().split(": ", 1)[1]
    deep.click()
    assert label in page.locator(".span-details:not([hidden])").inner_text()
    page.screenshot(path=str(artifacts / "bulk-trace.png"))
    print(f"2,000 spans: DOMContentLoaded {timing:.0f}ms, collapse+expand {toggled:.0f}ms")
    # Generous bounds for a loaded CI machine; idle, both are far lower.
    assert timing < 8000, f"the page took {timing:.0f}ms to load"
    assert toggled < 3000, f"collapsing and expanding took {toggled:.0f}ms"
