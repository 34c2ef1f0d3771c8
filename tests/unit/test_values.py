"""Coercions shared by the normalisers: timestamps, ids, tags, sample rates."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from glasspane.errors import ItemError
from glasspane.normalize.values import (
    hex_id,
    mapping,
    optional_hex_id,
    sample_rate,
    string_tags,
    text,
    timestamp,
)

# 2026-11-28T21:52:47Z, the capture time of the recorded fixtures
T = datetime(2026, 11, 28, 21, 52, 47, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("2026-11-28T21:52:47Z", T, id="iso-z"),
        pytest.param("2026-11-28T21:52:47.788068Z", T + 0.788068, id="iso-z-micros"),
        pytest.param("2026-11-28T21:52:47.059Z", T + 0.059, id="iso-z-millis-js"),
        pytest.param("2026-11-28T21:52:47.5Z", T + 0.5, id="iso-z-one-digit"),
        pytest.param("2026-11-28T21:52:47+00:00", T, id="iso-utc-offset"),
        pytest.param("2026-11-28T22:52:47.25+01:00", T + 0.25, id="iso-positive-offset"),
        pytest.param("2026-11-28T16:52:47-05:00", T, id="iso-negative-offset"),
        pytest.param("2026-11-28T21:52:47", T, id="no-zone-is-utc"),
        pytest.param("2026-11-28T21:52:47.100000", T + 0.1, id="no-zone-micros-is-utc"),
        pytest.param("2026-11-28 21:52:47Z", T, id="space-separator"),
        pytest.param("2026-11-28T21:52:47.123456789Z", T + 0.123456, id="nanos-z"),
        pytest.param("2026-11-28T21:52:47.123456789+01:00", T - 3600 + 0.123456, id="nanos-off"),
        pytest.param("2026-11-28T21:52:47.999999999", T + 0.999999, id="nanos-no-zone-cut"),
        pytest.param(" 2026-11-28T21:52:47Z ", T, id="surrounding-space"),
        pytest.param(T + 0.5, T + 0.5, id="float"),
        pytest.param(1795898461.9518807, 1795898461.9518807, id="float-js"),
        pytest.param(int(T), T, id="int"),
        pytest.param(0, 0.0, id="zero"),
        pytest.param(str(int(T)), T, id="int-string"),
        pytest.param(f"{T + 0.25}", T + 0.25, id="float-string"),
    ],
)
def test_timestamp(value: Any, expected: float) -> None:
    result = timestamp(value, "x")
    assert isinstance(result, float)
    assert result == pytest.approx(expected, abs=1e-6)


def test_timestamp_of_an_int_is_a_float() -> None:
    assert type(timestamp(5, "x")) is float


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="none"),
        pytest.param(True, id="true"),
        pytest.param(False, id="false"),
        pytest.param("", id="empty"),
        pytest.param("yesterday", id="word"),
        pytest.param("2026-13-45T99:00:00Z", id="impossible-date"),
        pytest.param("2026-11-28T21:52:47Zulu", id="trailing-junk"),
        pytest.param("nan", id="nan-string"),
        pytest.param("inf", id="inf-string"),
        pytest.param("1e400", id="overflow-string"),
        pytest.param([1, 2], id="list"),
        pytest.param({"seconds": 1}, id="dict"),
    ],
)
def test_bad_timestamp_names_the_field(value: Any) -> None:
    with pytest.raises(ItemError) as caught:
        timestamp(value, 'Envelope item 1 ("transaction") start_timestamp')
    message = str(caught.value)
    assert message.startswith('Envelope item 1 ("transaction") start_timestamp ')
    assert "timestamp" in message


# -- ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "length", "expected"),
    [
        ("ca28f8096e1e4ac684c7750a75006aeb", 32, "ca28f8096e1e4ac684c7750a75006aeb"),
        ("CA28F8096E1E4AC684C7750A75006AEB", 32, "ca28f8096e1e4ac684c7750a75006aeb"),
        ("ca28f809-6e1e-4ac6-84c7-750a75006aeb", 32, "ca28f8096e1e4ac684c7750a75006aeb"),
        ("ba337b56bc64bcda", 16, "ba337b56bc64bcda"),
    ],
)
def test_hex_id(value: str, length: int, expected: str) -> None:
    assert hex_id(value, length, "x") == expected


@pytest.mark.parametrize(
    ("value", "length"),
    [
        ("ca28f8096e1e4ac684c7750a75006ae", 32),  # one short
        ("ca28f8096e1e4ac684c7750a75006aeb0", 32),  # one long
        ("ga28f8096e1e4ac684c7750a75006aeb", 32),  # not hex
        ("ba337b56bc64bcda", 32),
        ("ca28f8096e1e4ac684c7750a75006aeb", 16),
        ("ba337b56 bc64bcd", 16),
        ("", 16),
        (None, 16),
        (1234567890123456, 16),
        (["ba337b56bc64bcda"], 16),
    ],
)
def test_bad_hex_id_names_the_field(value: Any, length: int) -> None:
    with pytest.raises(ItemError) as caught:
        hex_id(value, length, "contexts.trace.span_id")
    assert str(caught.value).startswith(f"contexts.trace.span_id must be a {length}-digit hex")


@pytest.mark.parametrize("value", [None, ""])
def test_optional_hex_id_absent(value: Any) -> None:
    assert optional_hex_id(value, 16, "x") is None


def test_optional_hex_id_present_is_checked() -> None:
    assert optional_hex_id("BA337B56BC64BCDA", 16, "x") == "ba337b56bc64bcda"
    with pytest.raises(ItemError, match="parent_span_id"):
        optional_hex_id("nothex", 16, "parent_span_id")


# -- loose values ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("a", "a"), ("", ""), (1, "1"), (1.5, "1.5"), (True, "True")],
)
def test_text(value: Any, expected: str | None) -> None:
    assert text(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [({"a": 1}, {"a": 1}), (None, {}), ([("a", 1)], {}), ("a", {}), (3, {})],
)
def test_mapping(value: Any, expected: dict[str, Any]) -> None:
    assert mapping(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param({"a": "b"}, {"a": "b"}, id="dict"),
        pytest.param({"n": 1, "f": 1.5, "b": True}, {"n": "1", "f": "1.5", "b": "True"}, id="str"),
        pytest.param({"a": None, "b": "x"}, {"b": "x"}, id="none-dropped"),
        pytest.param([["a", "b"], ["c", 1]], {"a": "b", "c": "1"}, id="pairs"),
        pytest.param([["a", "b"], ["bad"], "x", ["c", "d", "e"]], {"a": "b"}, id="bad-pairs"),
        pytest.param({1: "x"}, {"1": "x"}, id="non-string-key"),
        pytest.param(None, {}, id="none"),
        pytest.param("a=b", {}, id="string"),
        pytest.param(5, {}, id="number"),
        pytest.param([[["a"], "b"], ["c", "d"]], {"c": "d"}, id="unhashable-key-pair"),
        pytest.param([[{"k": 1}, "b"]], {}, id="dict-key-pair"),
    ],
)
def test_string_tags(value: Any, expected: dict[str, str]) -> None:
    """Hostile tags never raise: what cannot be a tag is left out."""
    assert string_tags(value) == expected


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        pytest.param(("0.25", 0.5), 0.25, id="first-wins"),
        pytest.param((None, 0.5), 0.5, id="skip-none"),
        pytest.param(("", "0.1"), 0.1, id="skip-empty"),
        pytest.param(("abc", "0.1"), 0.1, id="skip-garbage"),
        pytest.param(("0", 0.3), 0.3, id="skip-zero"),
        pytest.param((-0.5, 0.3), 0.3, id="skip-negative"),
        pytest.param((1.5, 0.3), 0.3, id="skip-over-one"),
        pytest.param(("nan", 0.3), 0.3, id="skip-nan"),
        pytest.param(("inf",), 1.0, id="skip-inf"),
        pytest.param(("1.0",), 1.0, id="one"),
        pytest.param((1,), 1.0, id="int-one"),
        pytest.param((), 1.0, id="nothing"),
        pytest.param((None, None, None), 1.0, id="all-missing"),
        pytest.param(({"rate": 0.5}, [0.5]), 1.0, id="containers"),
    ],
)
def test_sample_rate(candidates: tuple[Any, ...], expected: float) -> None:
    assert sample_rate(*candidates) == expected
