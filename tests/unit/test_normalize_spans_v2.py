"""``span`` v2 batches (the JavaScript SDKs' default since v11) → spans."""

from __future__ import annotations

from typing import Any

import pytest

from glasspane.domain import Span, User
from glasspane.errors import ItemError
from glasspane.normalize.context import IngestContext
from glasspane.normalize.spans_v2 import (
    flatten_attributes,
    normalize_span,
    normalize_span_batch,
    span_status,
)

WHAT = 'Envelope item 1 ("span")'
TRACE = "3b4213ac6fd49503cb540c7b9b6ad0b8"
SEGMENT = "a1b2c3d4e5f60718"
CHILD = "0f1e2d3c4b5a6978"
CALLER = "9988776655443322"


def attr(value: Any, type_: str = "string") -> dict[str, Any]:
    return {"value": value, "type": type_}


def node_segment() -> dict[str, Any]:
    """A downstream service's segment as @sentry/node 11 streams it."""
    return {
        "trace_id": TRACE,
        "span_id": SEGMENT,
        "parent_span_id": CALLER,
        "name": "POST /documents",
        "status": "ok",
        "is_segment": True,
        "start_timestamp": 1795898461.25,
        "end_timestamp": 1795898461.75,
        "attributes": {
            "sentry.op": attr("http.server"),
            "sentry.origin": attr("auto.http.otel.http"),
            "sentry.segment.id": attr(SEGMENT),
            "sentry.segment.name": attr("POST /documents"),
            "sentry.sample_rate": attr(0.5, "double"),
            "sentry.release": attr("upload-api@1.4.2"),
            "sentry.environment": attr("production"),
            "sentry.sdk.name": attr("sentry.javascript.node"),
            "sentry.sdk.version": attr("11.12.0"),
            "sentry.platform": attr("node"),
            "http.response.status_code": attr(201, "integer"),
            "http.request.header.accept": attr(["application/json"], "array"),
            "url.full": attr("http://upload-api/documents"),
            "user.id": attr("42"),
            "user.email": attr("demo@test.com"),
            "user.name": attr("demo"),
            "user.ip_address": attr("{{auto}}"),
        },
    }


def node_child() -> dict[str, Any]:
    return {
        "trace_id": TRACE,
        "span_id": CHILD,
        "parent_span_id": SEGMENT,
        "name": "registerOnBlockchain",
        "status": "error",
        "is_segment": False,
        "start_timestamp": 1795898461.3,
        "end_timestamp": 1795898461.7,
        "attributes": {
            "sentry.op": attr("function"),
            "sentry.segment.id": attr(SEGMENT),
            "sentry.segment.name": attr("POST /documents"),
            "sentry.status.message": attr("deadline_exceeded"),
            "blockchain.network": attr("sepolia"),
            "gas.limit": attr(210000, "integer"),
        },
    }


def ctx(**kw: Any) -> IngestContext:
    kw.setdefault("project_id", 3)
    kw.setdefault("service", "upload-api")
    kw.setdefault("received_at", 1795898462.0)
    return IngestContext(**kw)


def batch(*spans: dict[str, Any], **kw: Any) -> list[Span]:
    return normalize_span_batch({"version": 2, "items": list(spans)}, ctx(**kw), WHAT)


# -- attributes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "flat"),
    [
        ({"a": attr("x"), "n": attr(3, "integer")}, {"a": "x", "n": 3}),
        ({"d": attr(0.5, "double"), "b": attr(True, "boolean")}, {"d": 0.5, "b": True}),
        ({"l": attr(["a", "b"], "array")}, {"l": ["a", "b"]}),
        ({"bare": "x", "num": 1}, {"bare": "x", "num": 1}),
        ({"no_value": {"type": "string"}}, {"no_value": None}),
        (None, {}),
        ([["a", "b"]], {}),
        ({}, {}),
    ],
)
def test_flatten_attributes(raw: Any, flat: dict[str, Any]) -> None:
    assert flatten_attributes(raw) == flat


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [
        ("ok", None, "ok"),
        (None, None, "ok"),
        ("unset", None, "ok"),
        ("ok", "deadline_exceeded", "ok"),
        ("error", None, "internal_error"),
        ("error", "deadline_exceeded", "deadline_exceeded"),
        ("error", "not_found", "not_found"),
        ("error", "Request failed with status 500", "internal_error"),
        ("error", 504, "internal_error"),
        ("cancelled", None, "cancelled"),
        ("internal_error", None, "internal_error"),
        ("weird", None, "internal_error"),
        (2, None, "internal_error"),
    ],
)
def test_span_status(status: Any, message: Any, expected: str) -> None:
    assert span_status(status, message) == expected


# -- whole spans -------------------------------------------------------------------------


def test_segment() -> None:
    (span,) = batch(node_segment(), client_ip="198.51.100.4")
    assert span.project_id == 3
    assert span.trace_id == TRACE
    assert span.span_id == SEGMENT
    assert span.parent_span_id == CALLER
    assert span.segment_id == SEGMENT
    assert span.is_segment is True
    assert span.transaction == "POST /documents"
    assert span.op == "http.server"
    assert span.description == "POST /documents"
    assert span.status == "ok"
    assert span.start_timestamp == 1795898461.25
    assert span.timestamp == 1795898461.75
    assert span.duration_ms == pytest.approx(500.0)
    assert span.service == "upload-api"
    assert span.environment == "production"
    assert span.release == "upload-api@1.4.2"
    assert span.sample_rate == 0.5
    assert span.platform == "node"
    assert span.sdk == {"name": "sentry.javascript.node", "version": "11.12.0"}
    assert span.user == User(
        id="42", email="demo@test.com", username="demo", ip_address="198.51.100.4"
    )


def test_attributes_become_data_and_string_tags() -> None:
    (span,) = batch(node_segment())
    assert span.data["http.response.status_code"] == 201
    assert span.data["http.request.header.accept"] == ["application/json"]
    assert span.data["sentry.op"] == "http.server"
    assert span.tags["url.full"] == "http://upload-api/documents"
    assert span.tags["user.email"] == "demo@test.com"
    assert "http.response.status_code" not in span.tags  # not a string
    assert not any(key.startswith("sentry.") for key in span.tags)
    assert all(isinstance(value, str) for value in span.tags.values())


def test_child_with_error_status_and_message() -> None:
    _, child = batch(node_segment(), node_child())
    assert child.is_segment is False
    assert child.parent_span_id == SEGMENT
    assert child.segment_id == SEGMENT
    assert child.transaction == "POST /documents"
    assert child.status == "deadline_exceeded"
    assert child.op == "function"
    assert child.description == "registerOnBlockchain"
    assert child.data["gas.limit"] == 210000
    assert child.tags == {"blockchain.network": "sepolia"}


def test_child_arriving_alone_is_complete() -> None:
    """Spans of one segment arrive split and out of order: nothing waits for the segment."""
    (child,) = batch(node_child(), dsc={"sample_rate": "0.25", "environment": "staging"})
    assert child.transaction == "POST /documents"
    assert child.segment_id == SEGMENT
    assert child.sample_rate == 0.25
    assert child.environment == "staging"


def test_segment_name_falls_back_to_the_name_of_a_segment() -> None:
    raw = node_segment()
    del raw["attributes"]["sentry.segment.name"]
    (span,) = batch(raw)
    assert span.transaction == "POST /documents"


def test_child_without_segment_name_has_no_transaction() -> None:
    raw = node_child()
    del raw["attributes"]["sentry.segment.name"]
    (span,) = batch(raw)
    assert span.transaction is None


def test_segment_id_defaults_to_the_span_itself() -> None:
    raw = node_segment()
    del raw["attributes"]["sentry.segment.id"]
    (span,) = batch(raw)
    assert span.segment_id == SEGMENT


@pytest.mark.parametrize(
    ("dsc", "attribute", "expected"),
    [
        ({"sample_rate": "0.1"}, 0.5, 0.1),
        ({}, 0.5, 0.5),
        ({"sample_rate": "bad"}, 0.5, 0.5),
        ({}, None, 1.0),
    ],
)
def test_sample_rate(dsc: dict[str, Any], attribute: Any, expected: float) -> None:
    raw = node_segment()
    if attribute is None:
        del raw["attributes"]["sentry.sample_rate"]
    else:
        raw["attributes"]["sentry.sample_rate"] = attr(attribute, "double")
    (span,) = batch(raw, dsc=dsc)
    assert span.sample_rate == expected


def test_release_and_environment_fall_back_to_the_dsc() -> None:
    raw = node_child()
    (span,) = batch(raw, dsc={"release": "web@2", "environment": "staging"})
    assert (span.release, span.environment) == ("web@2", "staging")
    raw = node_segment()
    (span,) = batch(raw, dsc={"release": "web@2", "environment": "staging"})
    assert (span.release, span.environment) == ("upload-api@1.4.2", "production")


@pytest.mark.parametrize(
    ("attributes", "client_ip", "expected"),
    [
        pytest.param(
            {"user.id": attr("7"), "user.username": attr("ann")},
            None,
            User(id="7", username="ann"),
            id="username-attribute",
        ),
        pytest.param(
            {"user.name": attr("ann"), "user.username": attr("other")},
            None,
            User(username="ann"),
            id="name-before-username",
        ),
        pytest.param(
            {"user.ip_address": attr("{{auto}}")},
            "198.51.100.4",
            User(ip_address="198.51.100.4"),
            id="auto-ip",
        ),
        pytest.param({"user.id": attr(42, "integer")}, None, User(id="42"), id="numeric-id"),
        pytest.param({}, "198.51.100.4", User(), id="no-user"),
    ],
)
def test_user_attributes(attributes: dict[str, Any], client_ip: str | None, expected: User) -> None:
    raw = node_child()
    raw["attributes"] = attributes
    (span,) = batch(raw, client_ip=client_ip)
    assert span.user == expected


def test_end_timestamp_variants() -> None:
    raw = node_child()
    del raw["end_timestamp"]
    raw["timestamp"] = 1795898461.5
    assert batch(raw)[0].timestamp == 1795898461.5
    del raw["timestamp"]
    span = batch(raw)[0]
    assert span.timestamp == span.start_timestamp


def test_minimal_span() -> None:
    (span,) = batch({"trace_id": TRACE, "span_id": CHILD, "start_timestamp": 1.0})
    assert span.parent_span_id is None
    assert span.is_segment is False
    assert span.status == "ok"
    assert span.op is None
    assert span.description is None
    assert span.tags == {}
    assert span.data == {}
    assert span.sdk == {}


def test_empty_batch() -> None:
    assert batch() == []


# -- unusable spans ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [None, [], "spans", {"version": 2}, {"items": {"a": 1}}, {"items": None}],
)
def test_batch_without_items_list(payload: Any) -> None:
    with pytest.raises(ItemError) as caught:
        normalize_span_batch(payload, ctx(), WHAT)
    assert str(caught.value) == f'{WHAT} must be an object with an "items" list of spans'


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"trace_id": "abc"}, f"{WHAT} span 1 trace_id must be a 32-digit hex"),
        ({"span_id": None}, f"{WHAT} span 1 span_id must be a 16-digit hex"),
        ({"parent_span_id": "nope"}, f"{WHAT} span 1 parent_span_id must be a 16-digit hex"),
        ({"start_timestamp": None}, f"{WHAT} span 1 start_timestamp must be a timestamp"),
        ({"end_timestamp": "later"}, f"{WHAT} span 1 end_timestamp is not a timestamp"),
    ],
)
def test_bad_span_names_its_index_and_field(change: dict[str, Any], message: str) -> None:
    raw = {**node_child(), **change}
    with pytest.raises(ItemError) as caught:
        batch(node_segment(), raw)
    assert str(caught.value).startswith(message)


def test_span_that_is_not_an_object() -> None:
    with pytest.raises(ItemError, match=r"span 0 span_id"):
        normalize_span("junk", ctx(), f"{WHAT} span 0")
