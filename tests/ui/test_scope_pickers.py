"""The pickers every page shares (project, environment, time range), in-process:
they narrow what each page shows, stay in the URL as the reader moves between
pages, and a custom range becomes ``period=FROM/TO``."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

from envelopes import envelope_bytes, error_event, new_trace_id, transaction
from inprocess.conftest import App


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    running = App(tmp_path / "data")
    with running.client:
        running.client.get(f"/?token={running.token}")  # log in (session cookie)
        yield running
    running.instance.close()


def send(app: App, payload: dict, project_id: int, key: str) -> None:
    answer = app.client.post(
        app.envelope_url(project_id), content=envelope_bytes(payload), headers=app.auth(key)
    )
    assert answer.status_code == 200, answer.text


def shifted(payload: dict, seconds_ago: float) -> dict:
    """A transaction moved ``seconds_ago`` into the past (its spans with it)."""
    for holder in (payload, *payload.get("spans", [])):
        for key in ("start_timestamp", "timestamp"):
            if key in holder:
                holder[key] -= seconds_ago
    return payload


@pytest.fixture
def two_projects(app: App) -> dict[str, tuple[int, str]]:
    created = app.client.post("/api/v1/projects", json={"name": "shop"}, headers=app.admin())
    assert created.status_code == 201, created.text
    shop = created.json()
    shop_key = re.search(r"//([0-9a-f]+)@", shop["dsn"]).group(1)  # type: ignore[union-attr]
    default = (app.default.id, app.default.public_key)
    send(app, transaction(name="uploadDocument", environment="production"), *default)
    send(app, transaction(name="oldReport", environment="production"), *default)
    send(app, shifted(transaction(name="lastWeek"), 3 * 86400), *default)
    send(app, transaction(name="checkoutCart", environment="staging"), shop["id"], shop_key)
    trace = new_trace_id()
    error = error_event(trace, environment="staging")
    error["exception"]["values"][0]["value"] = "cart is empty"
    send(app, error, shop["id"], shop_key)
    return {"default": default, "shop": (shop["id"], shop_key)}


def names_on(html: str) -> set[str]:
    """The transaction names in the transactions table."""
    soup = BeautifulSoup(html, "html.parser")
    return {a.get_text(strip=True) for a in soup.select("table a[href^='/transaction']")}


def test_project_picker_narrows_the_transactions_table(app: App, two_projects: dict) -> None:
    everything = names_on(app.client.get("/?period=7d").text)
    assert {"uploadDocument", "checkoutCart", "lastWeek"} <= everything
    shop = app.client.get("/?period=7d&project=shop")
    assert shop.status_code == 200, shop.text
    assert names_on(shop.text) == {"checkoutCart"}
    soup = BeautifulSoup(shop.text, "html.parser")
    chosen = soup.select_one("select[name=project] option[selected]")
    assert chosen is not None and chosen.get_text() == "shop"
    # The search box shows what the reader typed, not the picker's terms.
    assert soup.select_one(".filters input[name=query]")["value"] == ""  # type: ignore[index]


def test_environment_picker_and_a_typed_query_combine(app: App, two_projects: dict) -> None:
    page = app.client.get("/?environment=production&query=transaction:upload*")
    assert page.status_code == 200, page.text
    assert names_on(page.text) == {"uploadDocument"}
    box = BeautifulSoup(page.text, "html.parser").select_one(".filters input[name=query]")
    assert box["value"] == "transaction:upload*"  # type: ignore[index]


def test_issues_keep_their_default_search_under_a_project(app: App, two_projects: dict) -> None:
    shop = app.client.get("/issues?project=shop").text
    assert "cart is empty" in shop
    assert "cart is empty" not in app.client.get("/issues?project=default").text
    # An absent query still means unresolved issues only: the box says so.
    box = BeautifulSoup(shop, "html.parser").select_one(".filters input[name=query]")
    assert box["value"] == "is:unresolved"  # type: ignore[index]


def test_navigation_keeps_the_pickers(app: App, two_projects: dict) -> None:
    page = app.client.get("/services?project=shop&environment=staging&period=1h")
    soup = BeautifulSoup(page.text, "html.parser")
    links = [a["href"] for a in soup.select("nav.mainnav a")]
    assert len(links) >= 8
    for href in links:
        kept = parse_qs(urlsplit(href).query)
        assert kept == {"project": ["shop"], "environment": ["staging"], "period": ["1h"]}, href


def test_every_page_of_the_navigation_answers_under_the_pickers(
    app: App, two_projects: dict
) -> None:
    home = app.client.get("/?project=default&environment=production&period=24h")
    soup = BeautifulSoup(home.text, "html.parser")
    for link in soup.select("nav.mainnav a"):
        answer = app.client.get(link["href"])
        assert answer.status_code == 200, (link["href"], answer.text[:500])


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M")


def test_custom_range_redirects_to_a_period_and_shows_only_that_range(
    app: App, two_projects: dict
) -> None:
    now = time.time()
    start, end = iso(now - 4 * 86400), iso(now - 2 * 86400)
    answer = app.client.get(f"/?from={start}&to={end}&project=default", follow_redirects=False)
    assert answer.status_code == 303
    target = answer.headers["location"]
    assert parse_qs(urlsplit(target).query) == {
        "project": ["default"],
        "period": [f"{start}/{end}"],
    }
    page = app.client.get(target)
    assert page.status_code == 200, page.text
    assert names_on(page.text) == {"lastWeek"}
    soup = BeautifulSoup(page.text, "html.parser")
    label = soup.select_one(".custom-range summary").get_text()  # type: ignore[union-attr]
    assert start.replace("T", " ") in label and end.replace("T", " ") in label
    # The range stays when the reader moves on.
    services = next(a["href"] for a in soup.select("nav.mainnav a") if "/services" in a["href"])
    assert f"{start}/{end}" in unquote(services)


def test_a_range_that_ends_before_it_starts_is_a_clear_error(app: App) -> None:
    answer = app.client.get("/?period=2026-12-03T10:00/2026-12-03T09:00")
    assert answer.status_code == 400
    assert "ends before it starts" in answer.text
    answer = app.client.get("/api/v1/transactions?period=yesterday/today", headers=app.admin())
    assert answer.status_code == 400
    assert "is not a time" in answer.json()["detail"]
