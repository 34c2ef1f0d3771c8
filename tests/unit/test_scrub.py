"""Scrubbing secrets and limiting sizes: pure functions on values and batches."""

from __future__ import annotations

import pytest

from glasspane.domain import Batch, LogRecord, Span, User
from glasspane.errors import RateLimited
from glasspane.ingest.ratelimit import KeyRateLimiter, TokenBucket
from glasspane.normalize.limits import DEPTH_MARKER, clamp, truncate
from glasspane.normalize.sanitize import Policy, sanitize_batch
from glasspane.normalize.scrub import FILTERED, Scrubber, luhn_valid

SCRUB = Scrubber()


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "db_passwd",
        "Authorization",
        "X-Sentry-Auth",
        "Cookie",
        "set-cookie",
        "api_key",
        "apiKey",
        "X-API-Key",
        "client_secret",
        "access_token",
        "refresh-token",
        "credentials",
        "private_key",
        "AWS_ACCESS_KEY_ID",
        "sessionid",
        "csrftoken",
    ],
)
def test_secret_names(name: str) -> None:
    assert SCRUB.is_sensitive(name)


@pytest.mark.parametrize(
    "name", ["author", "gen_ai.usage.input_tokens", "user", "email", "http.method", "status"]
)
def test_names_that_are_not_secrets(name: str) -> None:
    assert not SCRUB.is_sensitive(name)


def test_nested_values_under_secret_names_are_filtered_counts_are_kept() -> None:
    value = {
        "headers": {"Authorization": "Bearer abc", "Accept": "text/html"},
        "cookies": {"sessionid": "x"},
        "data": {"user": {"password": "hunter2", "name": "ann"}, "input_tokens": 812},
        "pairs": [["Cookie", "a=b"], ["Host", "example.com"]],
    }
    assert SCRUB.scrub(value) == {
        "headers": {"Authorization": FILTERED, "Accept": "text/html"},
        "cookies": FILTERED,
        "data": {"user": {"password": FILTERED, "name": "ann"}, "input_tokens": 812},
        "pairs": [["Cookie", FILTERED], ["Host", "example.com"]],
    }


def test_unchanged_values_are_not_copied() -> None:
    value = {"a": ["b", {"c": 1}]}
    assert SCRUB.scrub(value) is value
    assert clamp(value, 10, 5) is value


def test_query_strings_and_card_numbers_in_text() -> None:
    assert SCRUB.scrub_text("/cb?token=abc&page=2") == f"/cb?token={FILTERED}&page=2"
    assert SCRUB.scrub_text("card 4111 1111 1111 1111 declined") == f"card {FILTERED} declined"
    assert SCRUB.scrub_text("order 4111111111111112") == "order 4111111111111112"  # not Luhn
    assert SCRUB.scrub_text("ts 1732838400123") == "ts 1732838400123"
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")


def test_extra_fields_from_the_setting() -> None:
    scrubber = Scrubber("ssn, Mother_Maiden")
    assert scrubber.scrub({"SSN": "1", "mother_maiden_name": "x", "ok": "y"}) == {
        "SSN": FILTERED,
        "mother_maiden_name": FILTERED,
        "ok": "y",
    }


def test_truncate_and_depth_markers() -> None:
    assert truncate("abcdef", 3) == "abc...[truncated 3 chars]"
    assert truncate("abc", 3) == "abc"
    assert clamp({"a": {"b": {"c": 1}}}, 100, 2) == {"a": {"b": DEPTH_MARKER}}
    assert clamp(["x" * 10], 4, 5) == ["xxxx...[truncated 6 chars]"]


def _span(**fields: object) -> Span:
    base: dict = dict(
        project_id=1,
        trace_id="a" * 32,
        span_id="b" * 16,
        parent_span_id=None,
        segment_id="b" * 16,
        is_segment=True,
        transaction="t",
        op="http.server",
        description="GET /?api_key=123",
        status="ok",
        start_timestamp=0.0,
        timestamp=1.0,
    )
    return Span(**{**base, **fields})  # type: ignore[arg-type]


def test_sanitize_batch_walks_spans_logs_and_users() -> None:
    batch = Batch(
        spans=[
            _span(
                data={
                    "http.request.header.authorization": ["Basic x"],
                    "client.address": "1.2.3.4",
                },
                user=User(id="u1", ip_address="1.2.3.4"),
                request={"env": {"REMOTE_ADDR": "1.2.3.4"}, "url": "/x"},
            )
        ],
        logs=[
            LogRecord(
                project_id=1,
                timestamp=0.0,
                level="info",
                body="pay 4111-1111-1111-1111",
                attributes={"password": "p"},
            )
        ],
    )
    sanitize_batch(batch, Policy(100, 10, Scrubber(), store_client_ips=False))
    span, log = batch.spans[0], batch.logs[0]
    assert span.description == f"GET /?api_key={FILTERED}"
    assert span.data == {"http.request.header.authorization": FILTERED}
    assert span.user.ip_address is None and span.user.id == "u1"
    assert span.request == {"env": {}, "url": "/x"}
    assert span.trace_id == "a" * 32
    assert log.body == f"pay {FILTERED}" and log.attributes == {"password": FILTERED}


def test_scrubbing_can_be_off() -> None:
    batch = Batch(spans=[_span(data={"password": "p"})])
    sanitize_batch(batch, Policy(100, 10, None))
    assert batch.spans[0].data == {"password": "p"}


def test_token_bucket_refills_at_its_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=2, now=0.0)
    assert [bucket.take(0.0), bucket.take(0.0)] == [0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(0.5)
    assert bucket.take(0.5) == 0.0


def test_key_limiter_says_when_to_retry() -> None:
    now = [0.0]
    limiter = KeyRateLimiter(0.1, 1, clock=lambda: now[0])
    limiter.check("k")
    with pytest.raises(RateLimited) as caught:
        limiter.check("k")
    assert caught.value.retry_after == 10
    assert "rate_limit" in str(caught.value)
    limiter.check("other")
    now[0] = 10.0
    limiter.check("k")
