"""Per-category quotas: the setting's syntax, and which items an envelope keeps."""

from __future__ import annotations

import pytest

from glasspane.errors import ConfigError, RateLimited
from glasspane.ingest.quotas import CategoryQuotas, Quota, parse_quotas
from glasspane.ingest.ratelimit import limits_header, rate_limit_headers
from glasspane.protocol.envelope import Item


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def item(kind: str, **headers: object) -> Item:
    return Item(1, kind, {"type": kind, **headers}, b"{}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {}),
        ("error=100/60", {"error": Quota(100, 60.0)}),
        (
            " error = 5 , transaction=50/0.5 ",
            {"error": Quota(5, 1.0), "transaction": Quota(50, 0.5)},
        ),
        ("log=10", {"log_item": Quota(10, 1.0)}),
        ("replay=1/3600,span=1000", {"replay": Quota(1, 3600.0), "span": Quota(1000, 1.0)}),
    ],
)
def test_the_setting_reads_category_limit_and_window(text: str, expected: dict[str, Quota]) -> None:
    assert parse_quotas(text) == expected


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("errors=5", "unknown data category 'errors'"),
        ("internal=5", "unknown data category 'internal'"),
        ("error", "error"),
        ("error=0", "at least 1"),
        ("error=1.5", "whole LIMIT"),
        ("error=5/0", "error=5/0"),
        ("error=5/x", "error=5/x"),
    ],
)
def test_a_bad_quota_names_the_part_and_the_setting(text: str, names: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_quotas(text)
    assert names in str(error.value)
    assert "rate_limit_categories" in str(error.value)


def test_items_over_quota_are_dropped_and_the_rest_kept() -> None:
    clock = Clock()
    quotas = CategoryQuotas(parse_quotas("error=2/60"), clock)
    assert len(quotas.admit("k", [item("event"), item("event")]).kept) == 2
    mixed = [item("event"), item("transaction"), item("client_report")]
    admission = quotas.admit("k", mixed)
    assert [i.type for i in admission.kept] == ["transaction", "client_report"]
    assert admission.exhausted == {"error": 30}  # one token back every 30 s
    clock.now += 30
    assert len(quotas.admit("k", [item("event")]).kept) == 1


def test_quotas_are_per_key() -> None:
    quotas = CategoryQuotas(parse_quotas("error=1/60"), Clock())
    quotas.admit("a", [item("event")])
    assert quotas.admit("b", [item("event")]).exhausted == {}


def test_nothing_left_is_a_429_naming_only_the_exhausted_categories() -> None:
    quotas = CategoryQuotas(parse_quotas("error=1/10,transaction=1/100"), Clock())
    quotas.admit("k", [item("event"), item("transaction")])
    with pytest.raises(RateLimited) as refused:
        quotas.admit("k", [item("event"), item("transaction")])
    assert refused.value.categories == {"error": 10, "transaction": 100}
    assert refused.value.retry_after == 100
    assert "rate_limit_categories" in str(refused.value)
    headers = rate_limit_headers(refused.value.retry_after, refused.value.categories)
    assert headers == {
        "Retry-After": "100",
        "X-Sentry-Rate-Limits": "10:error:key:rate_limited, 100:transaction:key:rate_limited",
    }


def test_a_log_container_counts_its_items() -> None:
    quotas = CategoryQuotas(parse_quotas("log_item=10/10"), Clock())
    assert quotas.admit("k", [item("log", item_count=8)]).kept
    admission = quotas.admit("k", [item("log", item_count=3), item("transaction")])
    assert admission.exhausted == {"log_item": 1}
    assert quotas.dropped_outcomes("k", 7, 5.0)[0].quantity == 3


def test_dropped_items_become_outcomes_once() -> None:
    quotas = CategoryQuotas(parse_quotas("error=1/60"), Clock())
    quotas.admit("k", [item("event")])
    for _ in range(3):
        with pytest.raises(RateLimited):
            quotas.admit("k", [item("event")])
    outcomes = quotas.dropped_outcomes("k", 7, 5.0)
    assert [(o.project_id, o.category, o.reason, o.quantity) for o in outcomes] == [
        (7, "error", "rate_limited", 3)
    ]
    assert quotas.dropped_outcomes("k", 7, 5.0) == []


def test_no_quotas_keep_everything() -> None:
    items = [item("event")] * 5
    assert CategoryQuotas({}).admit("k", items).kept == items


def test_the_key_wide_limit_header_is_unchanged() -> None:
    assert limits_header({}, 7) == "7::key:rate_limited"
