"""The issue part of the store contract, on every backend: aggregates from the
event rows, status changes, reopening on a new event, and paging."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from glasspane.domain import Batch, ClientInfo, ErrorEvent
from glasspane.errors import ProtocolError
from glasspane.query.search import parse
from glasspane.store import rows
from glasspane.store.api import Store
from glasspane.store.models import Window
from store.backends import open_backend
from store.search_data import ERRORS, NOW, E, load

EVERYTHING = Window(float("-inf"), float("inf"))


def matching(query: str) -> Window:
    return Window(float("-inf"), float("inf"), parse(query, NOW))


def more(name: str, fingerprint: str, ago: float) -> Batch:
    return Batch(errors=[E(name, fingerprint, ago, "KeyError", "'user'", trace="T4").event()])


def test_aggregates_come_from_the_events(store: Store) -> None:
    ids = load(store)
    store.write(more("e5", "B", 7200)).result(timeout=10)
    last_hour = Window(NOW - 3500, NOW + 1)
    [b] = [i for i in store.list_issues(last_hour, "-last_seen", 10, 4) if i.id == ids["B"]]
    assert (b.count, b.total, b.users) == (1, 2, 1)
    assert b.first_seen == pytest.approx(NOW - 7200) and b.last_seen == pytest.approx(NOW - 120)
    assert b.series == [0, 0, 0, 1] and b.level == "fatal"  # the latest event's level
    assert {i.id for i in store.list_issues(last_hour, "-count", 10, 4)} == {
        ids["B"],
        ids["C"],
        ids["D"],
    }


def test_sorting_and_limits(store: Store) -> None:
    ids = load(store)
    newest_first = [i.id for i in store.list_issues(EVERYTHING, "-last_seen", 10, 0)]
    assert newest_first == [ids["C"], ids["B"], ids["D"], ids["A"]]
    assert [i.id for i in store.list_issues(EVERYTHING, "first_seen", 2, 0)] == [
        ids["A"],
        ids["D"],
    ]
    with pytest.raises(ProtocolError, match="sort 'title' is not one of"):
        store.list_issues(EVERYTHING, "title", 10, 0)


def test_get_issue_knows_idle_and_unknown_issues(store: Store) -> None:
    ids = load(store)
    idle = store.get_issue(ids["A"], Window(NOW - 60, NOW + 1), 2)
    assert idle is not None and (idle.count, idle.total, idle.series) == (0, 1, [0, 0])
    assert store.get_issue(9999, EVERYTHING) is None
    assert store.issue_event(9999) is None and store.issue_events(9999, 10) == []


def test_new_event_reopens_a_resolved_issue_as_regressed(store: Store) -> None:
    ids = load(store)  # D is resolved
    d = store.get_issue(ids["D"], EVERYTHING)
    assert d is not None and d.status == "resolved" and d.regressed_at is None
    store.write(more("e6", "D", 10)).result(timeout=10)
    d = store.get_issue(ids["D"], EVERYTHING)
    assert d is not None and d.status == "unresolved" and d.regressed_at is not None
    # an ignored issue stays ignored
    assert store.set_issue_status(ids["B"], "ignored")
    store.write(more("e7", "B", 5)).result(timeout=10)
    b = store.get_issue(ids["B"], EVERYTHING)
    assert b is not None and b.status == "ignored" and b.regressed_at is None
    assert not store.set_issue_status(9999, "resolved")
    with pytest.raises(ProtocolError, match="status 'closed' is not one of"):
        store.set_issue_status(ids["B"], "closed")


def test_status_survives_a_restart(backend: str, url: str, tmp_path: Path) -> None:
    first = open_backend(backend, tmp_path, url)
    ids = load(first)
    first.close()
    again = open_backend(backend, tmp_path, url)
    try:
        d = again.get_issue(ids["D"], EVERYTHING)
        assert d is not None and d.status == "resolved"
        again.write(more("e8", "D", 1)).result(timeout=10)  # the id map was reloaded too
        d = again.get_issue(ids["D"], EVERYTHING)
        assert d is not None and d.status == "unresolved" and d.total == 2
    finally:
        again.close()


def test_events_page_newest_first_and_full_payloads(store: Store) -> None:
    ids = load(store)
    for i in range(3):
        store.write(more(f"p{i}", "B", 60 - i)).result(timeout=10)
    page = store.issue_events(ids["B"], 2, 0)
    rest = store.issue_events(ids["B"], 2, 2)
    assert [e.timestamp for e in page + rest] == sorted(
        (e.timestamp for e in page + rest), reverse=True
    )
    assert len(page) == 2 and len(rest) == 2
    latest = store.issue_event(ids["B"])
    assert latest is not None and latest["event_id"] == page[0].event_id
    assert latest["exceptions"][0]["type"] == "KeyError"
    one = store.issue_event(ids["B"], ERRORS[1].event().event_id)
    assert one is not None and one["level"] == "fatal"


def test_related_issues_share_traces(store: Store) -> None:
    ids = load(store)
    related = store.related_issues(ids["A"])
    assert [(r.id, r.shared_traces) for r in related] == [(ids["D"], 1)]
    assert store.related_issues(ids["C"]) == []  # no trace


@pytest.mark.parametrize(
    ("query", "letters"),
    [
        ("is:resolved", {"D"}),
        ("!is:resolved", {"A", "B", "C"}),
        ("is:[resolved,ignored]", {"D"}),
        ("is:regressed", set()),
        ("first_seen:+55m", {"A"}),
        ("last_seen:-5m", {"B", "C"}),
        ("is:unresolved level:fatal", {"B"}),
    ],
)
def test_issue_keys_filter_the_list(store: Store, query: str, letters: set[str]) -> None:
    ids = load(store)
    found = {i.id for i in store.list_issues(matching(query), "-count", 10, 0)}
    assert found == {ids[letter] for letter in letters}


def test_a_reopened_issue_is_regressed_until_its_status_is_set(store: Store) -> None:
    ids = load(store)
    store.write(more("e9", "D", 10)).result(timeout=10)
    regressed = store.list_issues(matching("is:regressed"), "-count", 10, 0)
    assert [i.id for i in regressed] == [ids["D"]]
    assert store.set_issue_status(ids["D"], "resolved")  # clears the mark
    assert store.list_issues(matching("is:regressed"), "-count", 10, 0) == []


@pytest.fixture
def clickhouse_store(tmp_path: Path) -> Iterator[Store]:
    """ClickHouse only: DuckDB writes a group in one transaction, so no event row is
    ever stored twice there."""
    opened = open_backend("chdb", tmp_path)
    yield opened
    opened.close()


def test_an_event_stored_twice_counts_once(clickhouse_store: Store) -> None:
    """ClickHouse: a group retried after a partial failure may leave an event row twice."""
    store = clickhouse_store
    ids = load(store)
    event = ERRORS[1].event()  # issue B's only event
    again = rows.arrow_table(rows.ERROR_COLUMNS, [rows.error_row(event, ids["B"])])
    store._conn.insert("errors", again)  # type: ignore[attr-defined]
    b = store.get_issue(ids["B"], Window(NOW - 3600, NOW + 1), 2)
    assert b is not None and (b.count, b.total, b.series) == (1, 1, [0, 1])
    [listed] = [i for i in store.list_issues(EVERYTHING, "-count", 10, 0) if i.id == ids["B"]]
    assert (listed.count, listed.total) == (1, 1)
    assert [e.event_id for e in store.issue_events(ids["B"], 10)] == [event.event_id]


def tagged(name: str, ago: float, env: str, browser: str | None, network: str) -> ErrorEvent:
    event = E(name, "TAGS", ago, "ValueError", "bad tag", tags={"region": "eu"}).event()
    event.environment, event.release = env, "1.0"
    event.client = ClientInfo(browser=browser, os="Linux")
    event.contexts = {"blockchain": {"network": network, "type": "default", "nested": {}}}
    return event


def test_issue_tags_count_every_event_in_the_window(store: Store) -> None:
    load(store)
    envs = ["prod"] * 6 + ["staging", "dev", "qa", "ci", "lab", "edge"]
    events = [
        tagged(f"t{n}", 60 + n, env, "Chrome" if n % 2 else None, "testnet" if n < 3 else "main")
        for n, env in enumerate(envs)
    ]
    store.write(Batch(errors=events)).result(timeout=10)
    [issue] = [
        i
        for i in store.list_issues(EVERYTHING, "-last_seen", 100, 0)
        if i.title == "ValueError: bad tag"
    ]
    tags = {t.key: t for t in store.issue_tags(issue.id, EVERYTHING, 5)}
    assert list(tags)[:4] == ["environment", "release", "browser", "os"]
    env = tags["environment"]
    assert (env.total, env.other) == (12, 2)
    assert env.values == [("prod", 6), ("ci", 1), ("dev", 1), ("edge", 1), ("lab", 1)]
    assert (tags["browser"].total, tags["browser"].values) == (6, [("Chrome", 6)])
    assert tags["blockchain.network"].values == [("main", 9), ("testnet", 3)]
    assert tags["region"].values == [("eu", 12)] and "blockchain.type" not in tags
    # the window: only the 3 newest events
    recent = {t.key: t for t in store.issue_tags(issue.id, Window(NOW - 62.5, NOW + 1), 5)}
    assert recent["environment"].values == [("prod", 3)]
    assert recent["blockchain.network"].values == [("testnet", 3)]
    assert store.issue_tags(9999, EVERYTHING) == []
