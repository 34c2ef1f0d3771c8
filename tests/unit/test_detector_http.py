"""``n_plus_one_api_calls`` at its thresholds, and URL masking."""

from __future__ import annotations

import orjson
import pytest

from glasspane.detectors import SpanFacts, detect, mask_url
from glasspane.detectors.http import n_plus_one_api_calls
from glasspane.store.findings import http_call

UUID = "3f2b8c1e-9d4a-4e6f-8b7c-1a2b3c4d5e6f"


def _call(i: int, url: str, start_ms: float, ms: float, parent: str = "p") -> SpanFacts:
    return SpanFacts(
        f"h{i:02d}", parent, "http.client", url, ms, start_ms / 1000, (start_ms + ms) / 1000
    )


def _calls(count: int, each_ms: float, gap_ms: float = 40) -> list[SpanFacts]:
    return [
        _call(i, f"GET https://api.example/users/{i * 7}?expand=true&n={i}", i * gap_ms, each_ms)
        for i in range(count)
    ]


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("GET https://api.example/users/42", "GET https://api.example/users/*"),
        (f"GET https://a.example/docs/{UUID}/pages", "GET https://a.example/docs/*/pages"),
        ("GET https://a.example/blob/9f86d081884c", "GET https://a.example/blob/*"),
        ("GET https://a.example/v2/accepted?id=7&x=", "GET https://a.example/v2/accepted?id=*&x=*"),
        ("POST https://a.example/users/me#top", "POST https://a.example/users/me"),
        ("GET https://a.example/a1b2/7x", "GET https://a.example/a1b2/7x"),
    ],
)
def test_urls_are_masked(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_ten_calls_of_thirty_ms_to_one_pattern_are_an_n_plus_one() -> None:
    [finding] = n_plus_one_api_calls(_calls(10, 30))
    assert finding.type == "n_plus_one_api_calls"
    assert finding.statement == "GET https://api.example/users/*?expand=*&n=*"
    assert finding.span_ids == tuple(f"h{i:02d}" for i in range(10))
    assert (finding.repeated, finding.duration_ms) == (10, pytest.approx(300))


def test_parallel_calls_count_too() -> None:
    [finding] = detect(_calls(12, 40, gap_ms=1))
    assert finding.repeated == 12


@pytest.mark.parametrize(("count", "each_ms"), [(9, 50), (10, 29.9)])
def test_just_under_a_threshold_is_no_n_plus_one(count: int, each_ms: float) -> None:
    assert n_plus_one_api_calls(_calls(count, each_ms)) == []


def test_another_url_or_another_parent_breaks_the_run() -> None:
    calls = _calls(12, 40)
    other = [*calls[:6], _call(50, "GET https://api.example/teams/1", 235, 1), *calls[6:]]
    assert n_plus_one_api_calls(other) == []
    split = [
        _call(i, s.description or "", s.start * 1000, 40, parent="p" if i % 2 else "q")
        for i, s in enumerate(_calls(18, 40))
    ]
    assert n_plus_one_api_calls(split) == []
    db = [SpanFacts(s.span_id, "p", "db", s.description, 40, s.start, s.end) for s in calls]
    assert n_plus_one_api_calls(db) == []


@pytest.mark.parametrize(
    ("description", "data", "expected"),
    [
        # @sentry/node (OpenTelemetry): the span is named after the host only.
        (
            "GET 127.0.0.1",
            {"url.full": "http://127.0.0.1:81/customers/3", "http.request.method": "GET"},
            "GET http://127.0.0.1:81/customers/3",
        ),
        ("POST api.local", {"http.url": "https://api.local/a/1"}, "POST https://api.local/a/1"),
        # sentry-sdk (Python) names the span with the URL already: kept as it came.
        ("GET https://x.test/y/2", None, "GET https://x.test/y/2"),
        ("GET https://x.test/y/2", {"thread.id": 1}, "GET https://x.test/y/2"),
        ("GET x.test", {"url.full": 42}, "GET x.test"),
        ("GET x.test", "{not json", "GET x.test"),
    ],
)
def test_an_outgoing_call_is_known_by_its_url(
    description: str, data: object, expected: str
) -> None:
    text = data if isinstance(data, str) or data is None else orjson.dumps(data).decode()
    assert http_call(description, text) == expected
