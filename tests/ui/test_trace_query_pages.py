"""The trace page marks the spans that meet a query's span-level terms (in process)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from inprocess.conftest import App
from ui.test_pages import failing_trace, login


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    running = App(tmp_path / "data")
    with running.client:
        yield running
    running.instance.close()


def marked(html: str) -> list[str]:
    """The span ids of the waterfall rows marked as matching."""
    return re.findall(
        r'<div class="wf-row [^"]*\bmatched\b[^"]*"[^>]*data-span="([0-9a-f]+)"', html
    )


def test_trace_page_marks_the_spans_the_query_matched(app: App) -> None:
    trace_id, waiting = failing_trace(app)
    client = login(app)
    page = client.get(f"/traces/{trace_id}", params={"query": "span.op:blockchain.wait"})
    assert page.status_code == 200
    assert marked(page.text) == [waiting]
    assert "1 span match <code>span.op:blockchain.wait</code>" in page.text
    # The first matching span is the one selected when no span is asked for.
    assert f'data-span="{waiting}"' in page.text and f'id="span-{waiting}">' in page.text

    both = client.get(f"/traces/{trace_id}", params={"query": "span.op:*"}).text
    assert len(marked(both)) == 3 and "3 spans match" in both
    none = client.get(f"/traces/{trace_id}", params={"query": "transaction:registerDocument"})
    assert marked(none.text) == [] and "0 spans match" in none.text


def test_a_wrong_query_still_shows_the_trace(app: App) -> None:
    trace_id, _ = failing_trace(app)
    page = login(app).get(f"/traces/{trace_id}", params={"query": "span.op:"})
    assert page.status_code == 200 and 'class="wf-row' in page.text
    assert "The query was not applied: expected a value after" in page.text
    assert marked(page.text) == []


def test_search_results_link_traces_with_the_query(app: App) -> None:
    trace_id, _ = failing_trace(app)
    page = login(app).get("/search", params={"query": "confirmation"})
    assert f'href="/traces/{trace_id}?query=confirmation"' in page.text
