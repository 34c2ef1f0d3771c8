"""Web vitals from browser-shaped pageload transactions (as @sentry/browser frames
them: ``contexts.trace.op`` ``pageload``, ``measurements`` lcp/fcp/cls/ttfb), read
through ``GET /api/v1/web-vitals``, the Web vitals page and the transaction summary."""

from __future__ import annotations

import re
from typing import Any

from envelopes import envelope_bytes, transaction
from inprocess.conftest import App
from inprocess.test_event_pages import logged_in
from inprocess.test_metrics_page import text


def pageload(name: str, lcp: float, cls: float, fcp: float = 900.0) -> dict[str, Any]:
    payload = transaction(name=name, children=0, platform="javascript")
    payload["contexts"]["trace"]["op"] = "pageload"
    payload["measurements"] = {
        "lcp": {"value": lcp, "unit": "millisecond"},
        "fcp": {"value": fcp, "unit": "millisecond"},
        "cls": {"value": cls, "unit": ""},
        "ttfb": {"value": 150.0, "unit": "millisecond"},
    }
    return payload


def send(app: App, payload: dict[str, Any]) -> None:
    answer = app.client.post(
        app.envelope_url(), content=envelope_bytes(payload), headers=app.auth()
    )
    assert answer.status_code == 200, answer.text


def test_web_vitals_api_page_and_transaction_summary(app: App) -> None:
    # /upload: LCP 1.2 s, 3.0 s, 5.0 s, 9.0 s → p75 6.0 s (poor); CLS all good.
    for lcp in (1200.0, 3000.0, 5000.0, 9000.0):
        send(app, pageload("/upload", lcp, 0.01))
    # /home: good LCP, but CLS 0.2 (needs improvement) on both loads.
    for lcp in (800.0, 1000.0):
        send(app, pageload("/home", lcp, 0.2))

    answer = app.client.get("/api/v1/web-vitals", params={"period": "1h"}, headers=app.admin())
    assert answer.status_code == 200, answer.text
    upload, home = answer.json()["pages"]
    assert (upload["transaction"], upload["page_loads"], upload["worst"]) == ("/upload", 4, "lcp")
    assert upload["vitals"]["lcp"] == {
        "p75": 6000.0,
        "band": "poor",
        "samples": 4,
        "good": 0.25,
        "needs_improvement": 0.25,
        "poor": 0.5,
    }
    assert (home["transaction"], home["band"], home["worst"]) == (
        "/home",
        "needs-improvement",
        "cls",
    )
    assert answer.json()["bands"]["inp"] == {"good": 200.0, "poor": 500.0}

    client = logged_in(app)
    listing = client.get("/web-vitals", params={"period": "1h"})
    assert listing.status_code == 200
    rows = re.findall(r"<tr>\s*<td><a href=\"/transaction\?[^\"]*\">([^<]+)</a>", listing.text)
    assert rows == ["/upload", "/home"]
    badges = re.findall(r'class="vital vital-([\w-]+)"[^>]*>([^<]+)<', listing.text)
    # Per row: LCP, FCP, CLS, TTFB (no INP was sent).
    assert badges == [
        ("poor", "6.0s"),
        ("good", "900ms"),
        ("good", "0.01"),
        ("good", "150ms"),
        ("good", "950ms"),
        ("good", "900ms"),
        ("needs-improvement", "0.20"),
        ("good", "150ms"),
    ]

    summary = client.get("/transaction", params={"name": "/upload", "period": "1h"})
    assert summary.status_code == 200
    section = summary.text.split('id="web-vitals"', 1)[1].split("</section>", 1)[0]
    lcp_row = text(section.split('data-vital="lcp">', 1)[1].split("</tr>", 1)[0])
    assert lcp_row.split() == ["LCP", "6.0s", "25%", "25%", "50%"]
    assert "p75 over 4 page loads" in text(section)

    # A server transaction has no web vitals section.
    send(app, transaction(name="POST /upload"))
    server = client.get("/transaction", params={"name": "POST /upload", "period": "1h"})
    assert 'id="web-vitals"' not in server.text
