"""The transaction summary in Chromium: tag breakdown bars, suspect spans against
the hour before, and the comparison of the slowest trace with a typical one.

The transactions are envelopes posted over HTTP to the real server, stamped
in the last two hours (an SDK sends only "now", and suspect spans need the
period before the window).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from envelopes import envelope_bytes, transaction
from serverproc import RunningServer
from ui.test_browser import log_in

pytestmark = pytest.mark.e2e

PROJECT = "ui-txn-summary"
NAME = "placeOrder"


def order(start: float, db_ms: float, network: str, extra: bool = False) -> dict[str, Any]:
    """A placeOrder of two ``SELECT cart`` queries of ``db_ms`` and a price call,
    with a ``cache.get`` after them when ``extra``."""
    payload = transaction(name=NAME, environment="production", release="shop@4.2")
    payload["contexts"]["blockchain"] = {"network": network}
    root = payload["contexts"]["trace"]
    kinds = [("db.query", "SELECT cart", db_ms)] * 2 + [("http.client", "GET /price", 30.0)]
    kinds += [("cache.get", "cart:42", 15.0)] if extra else []
    payload["spans"], at = [], start + 0.005
    for op, description, ms in kinds:
        payload["spans"].append(
            {
                "trace_id": root["trace_id"],
                "span_id": uuid.uuid4().hex[:16],
                "parent_span_id": root["span_id"],
                "op": op,
                "description": description,
                "start_timestamp": at,
                "timestamp": at + ms / 1000,
            }
        )
        at += ms / 1000
    payload["start_timestamp"], payload["timestamp"] = start, at + 0.005
    return payload


@pytest.fixture(scope="module")
def orders(server: RunningServer) -> list[dict[str, Any]]:
    """Three orders 90 to 80 minutes ago (quick queries), three in the last half hour
    (queries 10x slower; the last, slowest, also reads the cache)."""
    project = server.project(PROJECT)
    now = time.time()
    sent = [order(now - 5400 + n * 300, 20.0, "mainnet") for n in range(3)]
    sent += [order(now - 1500 + n * 300, 200.0 + 50 * n, "base-sepolia") for n in range(2)]
    sent.append(order(now - 600, 400.0, "mainnet", extra=True))
    for payload in sent:
        answer = httpx.post(
            f"{server.url}/api/{project['id']}/envelope/",
            content=envelope_bytes(payload),
            headers={"X-Sentry-Auth": f"Sentry sentry_key={project['public_key']}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
    for payload in sent:
        server.wait_for_trace(payload["contexts"]["trace"]["trace_id"])
    return sent


def legend(page: Any, key: str) -> list[str]:
    bar = page.locator(f"#tag-breakdown .tagbar[data-key='{key}']")
    return [" ".join(li.split()) for li in bar.locator("ol.tagvalues li").all_inner_texts()]


def test_summary_shows_tag_bars_and_the_span_kind_that_slowed(
    server: RunningServer, orders: list[dict[str, Any]], page: Any, artifacts: Path
) -> None:
    log_in(page, server)
    page.goto(f"{server.url}/?period=1h&query=transaction:{NAME}")
    page.click(f"table >> text={NAME}")
    page.wait_for_url("**/transaction?**")
    # tags: the three orders of the last hour, not the three before it
    assert legend(page, "blockchain.network") == ["base-sepolia 67% 2", "mainnet 33% 1"]
    assert legend(page, "environment") == ["production 100% 3"]
    widths = page.locator(
        "#tag-breakdown .tagbar[data-key='blockchain.network'] rect.tagseg"
    ).evaluate_all("rects => rects.map(r => Math.round(r.getBBox().width))")
    assert widths == [67, 33]
    # suspect spans: the db queries, 2 x 20 ms per order before, 2 x ~283 ms now
    rows = page.locator("#suspect-spans tbody tr")
    first = rows.first.locator("td").all_inner_texts()
    assert first[:2] == ["db.query", "SELECT cart"]
    assert first[2:4] == ["567ms", "40ms"] and first[4].startswith("+527ms (+1317%)")
    assert first[5] == "2"
    page.screenshot(path=str(artifacts / "transaction-summary.png"), full_page=True)
    assert rows.locator("td.mono").all_inner_texts() == ["db.query", "cache.get"]
    cache = rows.nth(1).locator("td").all_inner_texts()
    assert cache[3] == "—" and cache[4].endswith("(new)")
    # the row opens the span explorer on exactly those spans
    rows.first.locator("a").click()
    page.wait_for_url("**/explore/spans**")
    searched = page.locator(".filters input[type=search][name=query]").input_value()
    assert searched == f'transaction:"{NAME}" span.op:"db.query" span.description:"SELECT cart"'
    groups = page.locator("table.span-groups tbody tr")
    assert groups.locator("td.group-key").all_inner_texts() == ["db.query"]
    assert groups.locator("td.num").first.inner_text() == "6"  # 2 in each of 3 orders


def compare_rows(page: Any) -> list[tuple[str, str, str, str]]:
    rows = []
    for row in page.locator("#compare-rows tbody tr").all():
        cells = [" ".join(t.split()) for t in row.locator("td").all_inner_texts()]
        rows.append((cells[0], cells[2], cells[3], cells[4]))
    return rows


def test_compare_the_slowest_with_a_typical_trace(
    server: RunningServer, orders: list[dict[str, Any]], page: Any, artifacts: Path
) -> None:
    slowest, typical = (orders[i]["contexts"]["trace"]["trace_id"] for i in (5, 4))
    log_in(page, server)
    page.goto(f"{server.url}/transaction?name={NAME}&period=1h")
    page.click("#compare-link")
    page.wait_for_url(f"**/traces/compare?a={slowest}&b={typical}")
    assert page.locator("#trace-a b").inner_text() == "855ms"
    assert page.locator("#trace-b b").inner_text() == "540ms"
    assert page.locator("#total-diff b").inner_text() == "−315ms"
    rows = compare_rows(page)
    assert [r[0] for r in rows] == [
        f"http.server {NAME}",
        "db.query SELECT cart",
        "db.query SELECT cart",
        "http.client GET /price",
        "cache.get cart:42",
    ]
    assert rows[1][1:] == ("400ms", "250ms", "−150ms") and rows[2][1:] == rows[1][1:]
    assert rows[4][1:] == ("15ms", "—", "only in A")
    # the other way round: the cache read is only in B, the queries are slower in B
    page.fill("input[name=a]", typical)
    page.fill("input[name=b]", slowest)
    page.click(".cmp-form button[type=submit]")
    page.wait_for_url(f"**/traces/compare?a={typical}&b={slowest}")
    rows = compare_rows(page)
    assert rows[1][1:] == ("250ms", "400ms", "+150ms")
    assert rows[4][1:] == ("—", "15ms", "only in B")
    assert page.locator("tr[data-presence=b] rect.cmp-b").count() == 1
    assert page.locator("tr[data-presence=b] rect.cmp-a").count() == 0
    page.screenshot(path=str(artifacts / "trace-compare.png"), full_page=True)
    # a trace that never arrived: 404 naming it (fetched, not opened: the console
    # would report the 404 as an error)
    missing = "e" * 32
    answer = page.request.get(f"{server.url}/traces/compare?a={typical}&b={missing}")
    assert answer.status == 404 and f"No trace {missing}" in answer.text()
