"""Where the SDKs put the public key: the auth header, DSNs."""

from __future__ import annotations

import pytest

from glasspane.protocol.auth import key_from_dsn, make_dsn, parse_auth_header

PY = "Sentry sentry_key=publickey, sentry_version=7, sentry_client=sentry.python/2.75.0"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(
            PY,
            {
                "sentry_key": "publickey",
                "sentry_version": "7",
                "sentry_client": "sentry.python/2.75.0",
            },
            id="python-sdk",
        ),
        pytest.param(
            "Sentry sentry_version=7, sentry_key=abc",
            {"sentry_version": "7", "sentry_key": "abc"},
            id="js-otlp-helper-order",
        ),
        pytest.param(
            "sentry sentry_key=abc,sentry_version=7",
            {"sentry_key": "abc", "sentry_version": "7"},
            id="lowercase-prefix-no-spaces",
        ),
        pytest.param("SENTRY Sentry_Key=abc", {"sentry_key": "abc"}, id="uppercase"),
        pytest.param("sentry_key=abc", {"sentry_key": "abc"}, id="no-prefix"),
        pytest.param(
            "  Sentry   sentry_key = abc ,  sentry_secret = s3cret  ",
            {"sentry_key": "abc", "sentry_secret": "s3cret"},
            id="extra-whitespace",
        ),
        pytest.param(
            "Sentry sentry_key=abc, sentry_client=x=y",
            {"sentry_key": "abc", "sentry_client": "x=y"},
            id="value-containing-equals",
        ),
        pytest.param(
            "Sentry sentry_key=abc, garbage, , sentry_version=7",
            {"sentry_key": "abc", "sentry_version": "7"},
            id="parts-without-equals-are-skipped",
        ),
        pytest.param("Sentry sentry_key=CaseKept", {"sentry_key": "CaseKept"}, id="value-case"),
        pytest.param("", {}, id="empty"),
        pytest.param("Sentry ", {}, id="prefix-only"),
        pytest.param("Bearer abc", {}, id="other-scheme"),
    ],
)
def test_parse_auth_header(header: str, expected: dict[str, str]) -> None:
    assert parse_auth_header(header) == expected


@pytest.mark.parametrize(
    ("dsn", "key"),
    [
        ("https://publickey@o42.ingest.example.com/7", "publickey"),
        ("https://pub:secret@o123.ingest.example.com/prefix/sub/42", "pub"),
        ("http://abc123@127.0.0.1:8000/1", "abc123"),
        ("http://abc123@[::1]:8000/1", "abc123"),
        ("https://o42.ingest.example.com/7", None),
        ("https://@host/7", None),
        ("not a dsn", None),
        ("", None),
        ("http://key@[::1/1", None),  # urlsplit raises on a broken IPv6 host
    ],
)
def test_key_from_dsn(dsn: str, key: str | None) -> None:
    assert key_from_dsn(dsn) == key


@pytest.mark.parametrize(
    ("base_url", "dsn"),
    [
        ("http://127.0.0.1:8000", "http://k@127.0.0.1:8000/3"),
        ("http://127.0.0.1:8000/", "http://k@127.0.0.1:8000/3"),
        ("https://sentry.example.com", "https://k@sentry.example.com/3"),
        ("https://example.com/glasspane", "https://k@example.com/glasspane/3"),
        ("https://example.com/prefix/sub/", "https://k@example.com/prefix/sub/3"),
        ("http://[::1]:9000", "http://k@[::1]:9000/3"),
    ],
)
def test_make_dsn(base_url: str, dsn: str) -> None:
    assert make_dsn(base_url, "k", 3) == dsn


def test_make_dsn_round_trips_through_key_from_dsn() -> None:
    assert key_from_dsn(make_dsn("https://example.com/prefix", "f00dfeed", 12)) == "f00dfeed"
