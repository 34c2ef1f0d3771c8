"""The metrics page (``/explore/metrics``) over trace metrics posted as the Python
SDK frames them: the list, the type's statistics, a group-by, and the previous
period's value beside the current one ("now 8.2s · normal 200ms")."""

from __future__ import annotations

import re
import time
from typing import Any

from inprocess.conftest import App
from inprocess.test_event_pages import logged_in
from inprocess.test_logs_metrics_api import METRIC_TYPE, attrs, container, post


def point(name: str, kind: str, value: float, at: float, **tags: str) -> dict[str, Any]:
    entry = {"timestamp": at, "name": name, "type": kind, "value": value}
    return (
        {**entry, "unit": "millisecond", "attributes": attrs(**tags)}
        if kind != "counter"
        else {
            **entry,
            "attributes": attrs(**tags),
        }
    )


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_metrics_page_shows_now_against_the_previous_period(app: App) -> None:
    now = time.time()
    hour_ago = now - 3600
    entries = [
        # The previous hour: fast RPCs; this hour: slow ones, on two chains.
        point("rpc.response_time", "distribution", 200.0, hour_ago - 600, chain="eth"),
        point("rpc.response_time", "distribution", 200.0, hour_ago - 300, chain="eth"),
        point("rpc.response_time", "distribution", 8000.0, now - 120, chain="eth"),
        point("rpc.response_time", "distribution", 8400.0, now - 60, chain="sol"),
        *[point("rpc.errors", "counter", 1.0, now - 30 - i, chain="eth") for i in range(120)],
    ]
    post(app, container("trace_metric", METRIC_TYPE, entries))
    client = logged_in(app)

    listing = client.get("/explore/metrics", params={"period": "1h"})
    assert listing.status_code == 200
    names = text(listing.text.split('class="metric-list"', 1)[1].split("</nav>", 1)[0])
    assert "rpc.errors counter" in names
    assert "rpc.response_time distribution · millisecond" in names

    shown = client.get("/explore/metrics", params={"name": "rpc.response_time", "period": "1h"})
    assert shown.status_code == 200
    summary = text(shown.text.split('id="metric-summary"', 1)[1].split("</p>", 1)[0])
    assert "avg now 8.2s · normal 200ms" in summary
    legend = re.findall(r'class="legend ([\w-]+)">([^<]+)<', shown.text)
    assert legend == [
        ("series-0", "avg"),
        ("series-1", "p50"),
        ("series-2", "p95"),
        ("previous", "previous period"),
    ]
    assert 'class="line previous"' in shown.text

    grouped = client.get(
        "/explore/metrics",
        params={"name": "rpc.response_time", "period": "1h", "group_by": "chain"},
    )
    rows = re.findall(
        r"<tr><td>(\w+)</td><td class=\"num\">(\d+)</td><td class=\"num\">([^<]+)</td></tr>",
        grouped.text,
    )
    assert rows == [("eth", "1", "8.0s"), ("sol", "1", "8.4s")]
    legend = re.findall(r'class="legend ([\w-]+)">([^<]+)<', grouped.text)
    assert [name for _, name in legend] == ["eth", "sol", "previous period"]

    counter = client.get("/explore/metrics", params={"name": "rpc.errors", "period": "1h"})
    summary = text(counter.text.split('id="metric-summary"', 1)[1].split("</p>", 1)[0])
    assert "per minute now 2/min · normal –" in summary
    assert "Sum per interval" in counter.text


def test_metrics_page_bad_input_is_a_clear_answer(app: App) -> None:
    client = logged_in(app)
    missing = client.get("/explore/metrics", params={"name": "nope"})
    assert missing.status_code == 404
    assert "No metric named &#39;nope&#39; has arrived" in missing.text
    post(app, container("trace_metric", METRIC_TYPE, [point("jobs", "counter", 1, time.time())]))
    bad = client.get("/explore/metrics", params={"name": "jobs", "group_by": "tier;drop"})
    assert bad.status_code == 400
    error = text(bad.text.split('id="metrics-error"', 1)[1].split("</p>", 1)[0])
    assert "tier;drop" in error
