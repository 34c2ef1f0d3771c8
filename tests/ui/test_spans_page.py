"""The span explorer page in-process: groups, their numbers and links, the list, the rule."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from envelopes import new_trace_id, transaction
from glasspane.alerts.rules import load_rules
from inprocess.conftest import App
from ui.test_pages import login, send


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    running = App(tmp_path / "data")
    with running.client:
        yield running
    running.instance.close()


def two_queries(app: App) -> tuple[str, list[str]]:
    """A 500 ms request holding a 100 ms and a 300 ms query, the second failing."""
    trace_id = new_trace_id()
    tx = transaction(trace_id, children=2, name="createCase")
    end = tx["timestamp"]
    tx["spans"][0].update(start_timestamp=end - 0.4, timestamp=end - 0.3)
    tx["spans"][1].update(
        start_timestamp=end - 0.3, timestamp=end, description='SELECT "x"', status="internal_error"
    )
    send(app, tx)
    return trace_id, [s["span_id"] for s in tx["spans"]]


def cells(page: str, cls: str) -> list[str]:
    return [
        html_lib.unescape(c) for c in re.findall(rf'<td class="(?:num )?{cls}">(.*?)</td>', page)
    ]


def test_spans_grouped_by_op_with_numbers_and_narrowing_links(app: App) -> None:
    two_queries(app)
    client = login(app)
    page = client.get("/explore/spans").text
    assert 'href="/explore/spans" aria-current="page">Spans' in page
    table = page[page.index('<table class="data span-groups">') :]
    rows = re.findall(r"<tr>\s*(.*?)</tr>", table[: table.index("</table>")], re.S)[1:]
    numbers = [re.findall(r'<td class="num">([^<]*)</td>', r) for r in rows]
    ops = [re.search(r'<td class="group-key"><a [^>]*>([^<]*)</a>', r).group(1) for r in rows]  # type: ignore[union-attr]
    # largest count first: two db.query spans (100 and 300 ms, one failed), one request
    assert ops == ["db.query", "http.server"]
    assert numbers[0][0] == "2" and numbers[0][4] == "400ms" and numbers[0][5] == "50.0%"
    assert numbers[1][0] == "1" and numbers[1][2] == "500ms" and numbers[1][5] == "0.0%"
    link = "/explore/spans?query=span.op%3A%22db.query%22&amp;view=spans"
    assert f'href="{link}"' in page
    narrowed = client.get(html_lib.unescape(link)).text
    assert cells(narrowed, "span-op") == ["db.query", "db.query"]


def test_the_span_list_sorts_by_duration_and_opens_each_trace(app: App) -> None:
    trace_id, (fast, slow) = two_queries(app)
    client = login(app)
    longest = client.get("/explore/spans", params={"view": "spans", "sort": "-duration"}).text
    assert cells(longest, "span-duration") == ["500ms", "300ms", "100ms"]
    assert cells(longest, "span-description")[1] == 'SELECT "x"'
    assert f'href="/traces/{trace_id}?span={slow}#span-{slow}"' in longest
    assert f'href="/traces/{trace_id}?span={fast}#span-{fast}"' in longest
    assert 'sort=duration"' in longest  # the header now links the other way
    shortest = client.get("/explore/spans", params={"view": "spans", "sort": "duration"}).text
    assert cells(shortest, "span-duration") == ["100ms", "300ms", "500ms"]
    # an emptied group-by field is the list, kept in the address for the other links
    emptied = client.get("/explore/spans", params={"group_by": "", "query": "span.op:db.query"})
    assert emptied.url.params["view"] == "spans"
    assert cells(emptied.text, "span-op") == ["db.query", "db.query"]


def test_a_bad_group_by_is_a_message_and_the_rule_loads(app: App) -> None:
    two_queries(app)
    client = login(app)
    bad = client.get("/explore/spans", params={"group_by": "a,b,c,d,e,f"})
    assert bad.status_code == 400
    assert "group_by takes at most 5 keys, not 6" in bad.text
    assert 'id="spans-error"' in bad.text and "<h1>Spans</h1>" in bad.text

    page = client.get("/explore/spans", params={"query": "span.op:db.query"}).text
    found = re.search(r'<pre class="message" id="alert-rule-yaml">(.*?)</pre>', page, re.S)
    assert found
    rules = load_rules(html_lib.unescape(found.group(1))).rules
    assert [(r.name, r.error) for r in rules] == [("Slow: span.op:db.query", None)]
    assert rules[0].filters == {"query": "span.op:db.query"}
    [condition] = rules[0].conditions
    assert (condition.metric, condition.op, condition.threshold) == ("p95", ">", 300.0)


def test_the_chart_draws_a_line_per_group_and_switches_measure(app: App) -> None:
    two_queries(app)
    client = login(app)
    page = client.get("/explore/spans").text
    chart = page[page.index('<section id="group-chart"') : page.index("</section>")]
    assert "p95 over time, the 2 largest groups" in chart
    legend = re.findall(r'<span class="legend (series-\d)">([^<]*)</span>', chart)
    assert legend == [("series-0", "db.query"), ("series-1", "http.server")]
    assert len(re.findall(r'<path class="line series-\d" d="M', chart)) == 2
    by_count = client.get("/explore/spans?measure=count&group_by=span.op,span.status").text
    assert "Count over time, the 3 largest groups" in by_count
    assert "db.query · ok" in by_count and "db.query · internal_error" in by_count
    assert 'aria-current="true">count</a>' in by_count
