"""The replays pages in-process, over a recorded @sentry/browser replay.

The envelopes in ``tests/fixtures/envelopes`` were recorded from the real SDK
in Chromium: the user clicks into the case name, types, clicks "Upload
Document"; the request fails with a 504 and the page throws. The list shows
the replay's row; its page shows that timeline and links the issue and trace;
the trace page and the issue page link the replay back.
"""

from __future__ import annotations

import re
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from bs4 import BeautifulSoup

from inprocess.conftest import App
from inprocess.test_replay_api import ERROR_ID, REPLAY_ID, TRACE_ID, _post
from ui.test_pages import login


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    running = App(tmp_path / "data")
    with running.client:
        login(running)
        _post(running, "browser-replay.envelope")
        _post(running, "browser-error.envelope")
        yield running
    running.instance.close()


def _soup(app: App, path: str) -> BeautifulSoup:
    answer = app.client.get(path)
    assert answer.status_code == 200, answer.text
    return BeautifulSoup(answer.text, "html.parser")


def _rows(soup: BeautifulSoup) -> list[list[str]]:
    return [
        [" ".join(td.get_text(" ").split()) for td in tr.find_all("td")]
        for tr in soup.select("table.replays tbody tr")
    ]


def test_the_list_shows_the_replay_and_opens_it(app: App) -> None:
    soup = _soup(app, "/replays?period=7d")
    [row] = _rows(soup)
    assert row[0].startswith("demo@test.com")
    assert row[2] == "1"  # the error it saw
    assert "index.html" in row[3]
    assert soup.select_one("table.replays a")["href"] == f"/replays/{REPLAY_ID}"
    nav = soup.select_one("nav.mainnav a[aria-current=page]")
    assert nav is not None and nav.get_text() == "Replays"


@pytest.mark.parametrize(
    ("search", "shown"),
    [
        ("?errors=1", 1),
        ("?query=user:demo@test.com", 1),
        ("?query=user.email:DEMO", 1),
        ("?query=user:someone-else", 0),
        ("?query=url:index.html+has:errors", 1),
        ("?query=url:/checkout", 0),
        ("?query=demo", 1),
    ],
)
def test_the_list_filters_by_user_and_errors(app: App, search: str, shown: int) -> None:
    sep = "&" if search else "?"
    soup = _soup(app, f"/replays{search}{sep}period=7d")
    assert len(_rows(soup)) == shown
    if not shown:
        assert "No replays in the last 7d" in soup.get_text()
    api = app.client.get(f"/api/v1/replays{search}{sep}period=7d", headers=app.admin())
    assert [r["id"] for r in api.json()["replays"]] == [REPLAY_ID] * shown


def _quiet_replay(replay_id: str) -> bytes:
    """A replay of one segment that saw no error, as the SDK frames it."""
    now = time.time()
    recording = b'{"segment_id":0}\n' + zlib.compress(
        orjson.dumps([{"type": 4, "data": {"href": "http://shop/"}, "timestamp": now * 1000}])
    )
    event = {
        "type": "replay_event",
        "replay_id": replay_id,
        "segment_id": 0,
        "timestamp": now,
        "replay_start_timestamp": now - 3,
        "urls": ["http://shop/"],
        "user": {"email": "quiet@test.com"},
    }
    return b"\n".join(
        [
            orjson.dumps({"event_id": replay_id}),
            b'{"type":"replay_event"}',
            orjson.dumps(event),
            b'{"type":"replay_recording","length":%d}' % len(recording),
            recording,
        ]
    )


def test_a_replay_without_errors_is_left_out_by_errors_only(app: App) -> None:
    quiet = "a" * 32
    answer = app.client.post(app.envelope_url(), content=_quiet_replay(quiet), headers=app.auth())
    assert answer.status_code == 200, answer.text
    rows = _rows(_soup(app, "/replays?period=7d"))
    assert [r[0] for r in rows] == ["quiet@test.com", "demo@test.com HeadlessChrome"]
    assert rows[0][1:3] == ["3.0s", "0"]
    [row] = _rows(_soup(app, "/replays?period=7d&errors=1"))
    assert row[0].startswith("demo@test.com")
    [row] = _rows(_soup(app, "/replays?period=7d&query=user:quiet"))
    assert row[3] == "http://shop/"


def test_a_bad_search_is_a_clear_400(app: App) -> None:
    answer = app.client.get("/api/v1/replays?query=color:red", headers=app.admin())
    assert answer.status_code == 400
    assert "Cannot search replays by 'color:red'" in answer.json()["detail"]
    many = app.client.get("/api/v1/replays", params={"query": "a " * 17}, headers=app.admin())
    assert many.status_code == 400 and "at most 16 words" in many.json()["detail"]
    page = app.client.get("/replays?query=color:red")
    assert page.status_code == 400 and "Cannot search replays" in page.text


def test_the_replay_page_lists_the_timeline_with_offsets(app: App) -> None:
    soup = _soup(app, f"/replays/{REPLAY_ID}")
    rows = soup.select("#replay-timeline tbody tr")
    kinds = [tr["data-type"] for tr in rows]
    assert kinds[:8] == ["navigation", "click", "input", "click", "network", "dom", "dom", "error"]
    assert kinds[8:] == ["feedback"]  # the breadcrumb of the feedback the user sent
    offsets = [int(tr["data-offset"]) for tr in rows]
    assert offsets == sorted(offsets) and offsets[-1] > 0
    text = [" ".join(tr.get_text(" ").split()) for tr in rows]
    assert re.fullmatch(r"\d+\.\d s click Clicked \"Upload Document\"", text[3]), text[3]
    assert text[2].endswith('Typed "********************" into input#case-name (masked)')
    assert "GET" in text[4] and "504" in text[4]
    error = rows[7].select_one("a[href^='/issues/']")
    assert error is not None and "Blockchain confirmation timeout" in error.get_text()
    assert soup.select_one(f"a[href='/traces/{TRACE_ID}']") is not None
    scrub = soup.select_one("input#replay-scrub[type=range]")
    assert scrub is not None and int(scrub["max"]) == offsets[-1]


def test_trace_and_issue_pages_link_the_replay(app: App) -> None:
    trace = _soup(app, f"/traces/{TRACE_ID}")
    assert [a["href"] for a in trace.select("a[href^='/replays/']")] == [f"/replays/{REPLAY_ID}"]
    replay = app.client.get(f"/api/v1/replays/{REPLAY_ID}", headers=app.admin()).json()
    [error] = [e for e in replay["errors"] if e["event_id"] == ERROR_ID]
    issue = _soup(app, f"/issues/{error['issue_id']}")
    assert [a["href"] for a in issue.select("a[href^='/replays/']")] == [f"/replays/{REPLAY_ID}"]


def test_an_unknown_replay_is_a_404_page(app: App) -> None:
    answer = app.client.get(f"/replays/{'0' * 32}")
    assert answer.status_code == 404 and "No replay" in answer.text
    assert app.client.get("/replays/not-hex").status_code == 400


def test_the_replay_page_shows_the_pages_text_at_each_moment(app: App) -> None:
    replay = app.client.get(f"/api/v1/replays/{REPLAY_ID}", headers=app.admin()).json()
    states = replay["page_text"]
    assert [s["offset_ms"] for s in states] == sorted(s["offset_ms"] for s in states)
    texts = [s["text"] for s in states]
    first_seen = next(t for t in texts if t)
    assert first_seen == "Documents\nCase name\nUpload Document\nIdle"
    assert texts[-1] == "Documents\nCase name\nUpload Document\nBlockchain confirmation timeout"
    assert "Documents\nCase name\nUpload Document\nProcessing..." in texts
    # Drawn beside the timeline; the last state shows first (the scrubber starts at the end).
    soup = _soup(app, f"/replays/{REPLAY_ID}")
    drawn = soup.select("#replay-page-text .page-state")
    assert [int(d["data-offset"]) for d in drawn] == [s["offset_ms"] for s in states]
    shown = [d for d in drawn if not d.has_attr("hidden")]
    assert [d.get_text() for d in shown] == [texts[-1]]
