"""A ``transaction`` event → its segment span and children."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from glasspane.domain import Span, User
from glasspane.errors import ItemError
from glasspane.normalize.context import IngestContext
from glasspane.normalize.transaction import normalize_transaction

FIXTURES = Path(__file__).parent.parent / "fixtures" / "envelopes"
WHAT = 'Envelope item 1 ("transaction")'
TRACE = "ca28f8096e1e4ac684c7750a75006aeb"
ROOT = "ba337b56bc64bcda"
CHILD = "b94d0800f1ca6487"
GRANDCHILD = "84855d7724caacfb"
T0 = datetime(2026, 11, 28, 21, 52, 47, tzinfo=UTC).timestamp()


def python_transaction() -> dict[str, Any]:
    """The shape sentry-python 2.75 sends (see tests/fixtures/envelopes), trimmed."""
    return {
        "type": "transaction",
        "transaction": "uploadDocument",
        "transaction_info": {"source": "custom"},
        "contexts": {
            "trace": {
                "trace_id": TRACE,
                "span_id": ROOT,
                "parent_span_id": None,
                "op": "http.server",
                "description": None,
                "origin": "manual",
                "status": "internal_error",
                "data": {"thread.id": "140196318206848", "thread.name": "MainThread"},
            },
            "blockchain": {"network": "sepolia", "node": "rpc-node-2", "gas_limit": 210000},
            "runtime": {"name": "CPython", "version": "3.11.7"},
        },
        "tags": {"document.type": "pdf", "service": "upload-api"},
        "timestamp": "2026-11-28T21:52:47.788068Z",
        "start_timestamp": "2026-11-28T21:52:47.683084Z",
        "spans": [
            {
                "trace_id": TRACE,
                "span_id": CHILD,
                "parent_span_id": ROOT,
                "same_process_as_parent": True,
                "op": "function",
                "description": "validateDocument",
                "start_timestamp": "2026-11-28T21:52:47.686946Z",
                "timestamp": "2026-11-28T21:52:47.694955Z",
                "origin": "manual",
                "data": {"thread.name": "MainThread", "document.id": "doc-7d1e4b2a"},
            },
            {
                "trace_id": TRACE,
                "span_id": GRANDCHILD,
                "parent_span_id": CHILD,
                "same_process_as_parent": True,
                "op": "http.client",
                "description": "POST https://rpc.sepolia.example/",
                "start_timestamp": "2026-11-28T21:52:47.715758Z",
                "timestamp": "2026-11-28T21:52:47.788054Z",
                "origin": "manual",
                "status": "deadline_exceeded",
                "tags": {"status": "deadline_exceeded"},
                "data": {"http.request.method": "POST", "rpc.method": "eth_sendRawTransaction"},
            },
        ],
        "measurements": {"ttfb": {"value": 12.5, "unit": "millisecond"}},
        "event_id": "ee8e863d96d541969bcbb3c305b564a5",
        "user": {"id": "42", "email": "demo@test.com", "username": "demo"},
        "extra": {"sys.argv": ["bench/record_envelopes.py"]},
        "release": "upload-api@1.4.2",
        "environment": "production",
        "server_name": "upload-api-7f9c",
        "sdk": {"name": "sentry.python.flask", "version": "2.75.0"},
        "platform": "python",
    }


def ctx(**kw: Any) -> IngestContext:
    kw.setdefault("project_id", 7)
    kw.setdefault("service", "upload-api")
    kw.setdefault("received_at", T0 + 1)
    return IngestContext(**kw)


def run(payload: dict[str, Any], **kw: Any) -> list[Span]:
    return normalize_transaction(payload, ctx(**kw), WHAT)


# -- a realistic payload -----------------------------------------------------------------


def test_segment_from_python_sdk_payload() -> None:
    segment = run(python_transaction(), client_ip="203.0.113.9")[0]
    assert segment.project_id == 7
    assert segment.trace_id == TRACE
    assert segment.span_id == ROOT
    assert segment.parent_span_id is None
    assert segment.segment_id == ROOT
    assert segment.is_segment is True
    assert segment.transaction == "uploadDocument"
    assert segment.op == "http.server"
    assert segment.status == "internal_error"
    assert segment.start_timestamp == pytest.approx(T0 + 0.683084)
    assert segment.timestamp == pytest.approx(T0 + 0.788068)
    assert segment.duration_ms == pytest.approx(104.984, abs=1e-3)
    assert segment.service == "upload-api"
    assert segment.tags == {"document.type": "pdf", "service": "upload-api"}
    assert segment.data == {"thread.id": "140196318206848", "thread.name": "MainThread"}
    assert segment.environment == "production"
    assert segment.release == "upload-api@1.4.2"
    assert segment.user == User(id="42", email="demo@test.com", username="demo")
    assert segment.event_id == "ee8e863d96d541969bcbb3c305b564a5"
    assert segment.measurements == {"ttfb": {"value": 12.5, "unit": "millisecond"}}
    assert set(segment.contexts) == {"blockchain", "runtime"}  # trace is the span itself
    assert segment.contexts["blockchain"]["node"] == "rpc-node-2"
    assert segment.sdk == {"name": "sentry.python.flask", "version": "2.75.0"}
    assert segment.platform == "python"
    assert segment.sample_rate == 1.0


def test_segment_description_falls_back_to_the_transaction_name() -> None:
    assert run(python_transaction())[0].description == "uploadDocument"


def test_segment_description_from_the_sdk_wins() -> None:
    payload = python_transaction()
    payload["contexts"]["trace"]["description"] = "POST /upload"
    assert run(payload)[0].description == "POST /upload"


def test_children() -> None:
    spans = run(python_transaction())
    assert [s.span_id for s in spans] == [ROOT, CHILD, GRANDCHILD]
    child, grandchild = spans[1], spans[2]
    assert child.parent_span_id == ROOT
    assert grandchild.parent_span_id == CHILD
    for span in spans[1:]:
        assert span.is_segment is False
        assert span.segment_id == ROOT
        assert span.trace_id == TRACE
        assert span.transaction == "uploadDocument"
        assert span.event_id is None
        assert span.contexts == {}
    assert child.op == "function"
    assert child.description == "validateDocument"
    assert child.status == "ok"
    assert child.data == {"thread.name": "MainThread", "document.id": "doc-7d1e4b2a"}
    assert child.duration_ms == pytest.approx(8.009, abs=1e-3)
    assert grandchild.status == "deadline_exceeded"
    assert grandchild.tags == {"status": "deadline_exceeded"}


def test_transaction_details_are_copied_onto_every_span() -> None:
    spans = run(python_transaction(), dsc={"sample_rate": "0.25"})
    for span in spans:
        assert span.service == "upload-api"
        assert span.environment == "production"
        assert span.release == "upload-api@1.4.2"
        assert span.user.email == "demo@test.com"
        assert span.sample_rate == 0.25
        assert span.project_id == 7


def test_recorded_python_transaction_fixture() -> None:
    body = (FIXTURES / "python-transaction.envelope").read_bytes()
    lines = body.split(b"\n")
    header, payload = orjson.loads(lines[0]), orjson.loads(lines[2])
    spans = normalize_transaction(
        payload, ctx(dsc=header["trace"], envelope_event_id=header["event_id"]), WHAT
    )
    assert len(spans) == 11
    segment = spans[0]
    assert segment.is_segment and segment.description == "uploadDocument"
    assert {s.trace_id for s in spans} == {header["trace"]["trace_id"]}
    ids = {s.span_id for s in spans}
    assert all(s.parent_span_id in ids for s in spans[1:])
    by_description = {s.description: s for s in spans}
    assert by_description["registerOnBlockchain"].status == "internal_error"
    assert by_description["POST https://rpc.sepolia.example/"].status == "deadline_exceeded"
    assert by_description["quota:user:42"].data["cache.hit"] is True


# -- sample rate precedence --------------------------------------------------------------


@pytest.mark.parametrize(
    ("dsc", "trace", "expected"),
    [
        pytest.param({"sample_rate": "0.1"}, {"client_sample_rate": 0.5}, 0.1, id="dsc-first"),
        pytest.param({}, {"client_sample_rate": 0.5}, 0.5, id="client-sample-rate"),
        pytest.param({"sample_rate": "1"}, {"client_sample_rate": 0.5}, 1.0, id="dsc-one-wins"),
        pytest.param({"sample_rate": "junk"}, {"client_sample_rate": 0.5}, 0.5, id="bad-dsc"),
        pytest.param(
            {}, {"data": {"sentry.sample_rate": 0.2}}, 0.2, id="js-trace-data-sample-rate"
        ),
        pytest.param(
            {},
            {"client_sample_rate": 0.3, "data": {"sentry.sample_rate": 0.2}},
            0.3,
            id="client-before-data",
        ),
        pytest.param({}, {}, 1.0, id="none"),
        pytest.param({"sample_rate": "0"}, {}, 1.0, id="zero-is-unusable"),
    ],
)
def test_sample_rate_precedence(
    dsc: dict[str, Any], trace: dict[str, Any], expected: float
) -> None:
    payload = python_transaction()
    payload["contexts"]["trace"].update(trace)
    spans = run(payload, dsc=dsc)
    assert {s.sample_rate for s in spans} == {expected}


# -- defaults and variants ---------------------------------------------------------------


def test_child_without_parent_gets_the_segment_as_parent() -> None:
    payload = python_transaction()
    del payload["spans"][0]["parent_span_id"]
    payload["spans"][1]["parent_span_id"] = None
    spans = run(payload)
    assert [s.parent_span_id for s in spans[1:]] == [ROOT, ROOT]


def test_segment_with_remote_parent() -> None:
    payload = python_transaction()
    payload["contexts"]["trace"]["parent_span_id"] = "1111222233334444"
    assert run(payload)[0].parent_span_id == "1111222233334444"


@pytest.mark.parametrize(
    ("user", "client_ip", "expected"),
    [
        pytest.param(
            {"id": "42", "ip_address": "{{auto}}"},
            "203.0.113.9",
            User(id="42", ip_address="203.0.113.9"),
            id="auto-is-client-ip",
        ),
        pytest.param({"ip_address": "{{auto}}"}, None, User(), id="auto-without-client-ip"),
        pytest.param(
            {"ip_address": "10.1.1.1"},
            "203.0.113.9",
            User(ip_address="10.1.1.1"),
            id="explicit-ip-kept",
        ),
        pytest.param({"id": 42}, "203.0.113.9", User(id="42"), id="numeric-id-as-string"),
        pytest.param(None, "203.0.113.9", User(), id="no-user"),
        pytest.param("someone", "203.0.113.9", User(), id="user-not-an-object"),
    ],
)
def test_user(user: Any, client_ip: str | None, expected: User) -> None:
    payload = python_transaction()
    payload["user"] = user
    spans = run(payload, client_ip=client_ip)
    assert {repr(s.user) for s in spans} == {repr(expected)}


def test_js_static_transaction_with_float_times_and_no_spans() -> None:
    payload = {
        "type": "transaction",
        "transaction": "GET /api/upload",
        "start_timestamp": 1795898461.5,
        "timestamp": 1795898462.25,
        "contexts": {"trace": {"trace_id": TRACE.upper(), "span_id": ROOT, "op": "http.server"}},
    }
    (segment,) = run(payload, envelope_event_id="aa" * 16)
    assert segment.trace_id == TRACE
    assert segment.duration_ms == pytest.approx(750.0)
    assert segment.status == "ok"
    assert segment.event_id == "aa" * 16
    assert segment.tags == {}
    assert segment.user.is_empty()


def test_unnamed_transaction() -> None:
    payload = python_transaction()
    del payload["transaction"]
    segment = run(payload)[0]
    assert segment.transaction == "<unlabeled transaction>"
    assert segment.description == "<unlabeled transaction>"


def test_child_status_from_tags_when_no_status_field() -> None:
    payload = python_transaction()
    del payload["spans"][1]["status"]
    assert run(payload)[2].status == "deadline_exceeded"


def test_unfinished_child_is_an_instant() -> None:
    payload = python_transaction()
    del payload["spans"][0]["timestamp"]
    child = run(payload)[1]
    assert child.timestamp == child.start_timestamp
    assert child.duration_ms == 0.0


def test_tags_as_a_list_of_pairs() -> None:
    payload = python_transaction()
    payload["tags"] = [["document.type", "pdf"], ["retries", 3]]
    assert run(payload)[0].tags == {"document.type": "pdf", "retries": "3"}


@pytest.mark.parametrize("spans", [None, []])
def test_no_children(spans: Any) -> None:
    payload = python_transaction()
    payload["spans"] = spans
    assert len(run(payload)) == 1


# -- unusable transactions: ItemError naming the field -----------------------------------


def _without(path: str) -> dict[str, Any]:
    payload = python_transaction()
    *parents, last = path.split(".")
    target: Any = payload
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    del target[last]
    return payload


def _with(path: str, value: Any) -> dict[str, Any]:
    payload = python_transaction()
    *parents, last = path.split(".")
    target: Any = payload
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    target[last] = value
    return payload


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        pytest.param(_without("contexts"), f"{WHAT} has no contexts.trace", id="no-contexts"),
        pytest.param(_with("contexts.trace", {}), f"{WHAT} has no contexts.trace", id="empty"),
        pytest.param(
            _without("contexts.trace.trace_id"),
            f"{WHAT} contexts.trace.trace_id must be a 32-digit hex",
            id="no-trace-id",
        ),
        pytest.param(
            _with("contexts.trace.span_id", "xyz"),
            f"{WHAT} contexts.trace.span_id must be a 16-digit hex",
            id="bad-span-id",
        ),
        pytest.param(
            _with("contexts.trace.parent_span_id", "short"),
            f"{WHAT} parent_span_id must be a 16-digit hex",
            id="bad-parent",
        ),
        pytest.param(_without("start_timestamp"), f"{WHAT} start_timestamp must be", id="no-start"),
        pytest.param(_with("timestamp", "soon"), f"{WHAT} timestamp is not", id="bad-end"),
        pytest.param(_with("spans", {"a": 1}), f"{WHAT} spans must be a list", id="spans-dict"),
        pytest.param(
            _with("spans.1.span_id", None),
            f"{WHAT} span 1 span_id must be a 16-digit hex",
            id="child-span-id",
        ),
        pytest.param(
            _with("spans.0.start_timestamp", True),
            f"{WHAT} span 0 start_timestamp must be a timestamp",
            id="child-start",
        ),
        pytest.param(
            _with("spans.0.parent_span_id", 12),
            f"{WHAT} span 0 parent_span_id must be",
            id="child-parent",
        ),
        pytest.param(_with("spans", ["junk"]), f"{WHAT} span 0 ", id="child-not-object"),
    ],
)
def test_unusable_transaction(payload: dict[str, Any], message: str) -> None:
    with pytest.raises(ItemError) as caught:
        run(copy.deepcopy(payload))
    assert str(caught.value).startswith(message)
