"""The releases, crons, feedback and profile pages in-process: empty states and
bad input (the browser tests, over the real SDKs, are test_health_browser.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from envelopes import transaction
from inprocess.conftest import App
from inprocess.test_health_api import _envelope, _post, _profile
from ui.test_pages import login


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    running = App(tmp_path / "data")
    with running.client:
        login(running)
        yield running
    running.instance.close()


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/releases", "No sessions in the last 24h"),
        ("/crons?period=7d", "No monitor has checked in"),
        ("/feedback?period=1h", "No feedback in the last 1h"),
    ],
)
def test_empty_pages_say_how_to_send_the_data(app: App, path: str, says: str) -> None:
    answer = app.client.get(path)
    assert answer.status_code == 200, answer.text
    soup = BeautifulSoup(answer.text, "html.parser")
    assert says in soup.get_text(" ")
    nav = soup.select_one("nav.mainnav a[aria-current=page]")
    assert nav is not None and nav["href"].startswith(path.split("?")[0])


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/profiles/not-a-profile", 400, "is not 32 hex digits"),
        ("/profiles/" + "0" * 32, 404, "has not arrived"),
        ("/releases/web@9.9.9", 404, "No sessions of release 'web@9.9.9'"),
        ("/releases?period=forever", 400, "is not a duration"),
        ("/crons?period=0m", 400, "more than 0"),
    ],
)
def test_bad_input_is_a_clear_answer(app: App, path: str, status: int, says: str) -> None:
    answer = app.client.get(path)
    assert answer.status_code == status
    assert says in BeautifulSoup(answer.text, "html.parser").get_text(" ")


def test_a_profile_page_per_thread(app: App) -> None:
    txn = transaction(name="nightly-report")
    profile = _profile(txn["event_id"], txn["contexts"]["trace"]["trace_id"])
    _post(app, _envelope(("transaction", txn), ("profile", profile)))
    answer = app.client.get(f"/profiles/{profile['event_id']}")
    assert answer.status_code == 200, answer.text
    soup = BeautifulSoup(answer.text, "html.parser")
    shares = {g["data-name"]: float(g["data-share"]) for g in soup.select("g.flame-cell")}
    assert shares == {"all": 1.0, "app.main": 1.0, "app.work": 1.0, "time.sleep": 0.5}
    rows = [
        [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        for tr in soup.select("table.functions tbody tr")
    ]
    assert [r[1:] for r in rows] == [["50.0%", "100.0%"], ["50.0%", "50.0%"], ["0.0%", "100.0%"]]
    assert rows[0][0].startswith("app.work")
    bad = app.client.get(f"/profiles/{profile['event_id']}?thread=9")
    assert bad.status_code == 400
    assert "no samples of thread '9'" in BeautifulSoup(bad.text, "html.parser").get_text(" ")
