"""An ``event`` item (error or message) → ErrorEvent."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from glasspane.domain import ErrorEvent, Location, User
from glasspane.errors import ItemError
from glasspane.normalize.context import IngestContext
from glasspane.normalize.event import normalize_event
from glasspane.normalize.fingerprint import fingerprint

FIXTURES = Path(__file__).parent.parent / "fixtures" / "envelopes"
WHAT = 'Envelope item 1 ("event")'
TRACE = "ca28f8096e1e4ac684c7750a75006aeb"
SPAN = "8dcaed6bda01de78"
EVENT_ID = "33409eb702af463bbc3fb60082365274"
RECEIVED = datetime(2026, 11, 28, 21, 53, tzinfo=UTC).timestamp()


def py_frame(function: str, lineno: int, in_app: bool = True, **kw: Any) -> dict[str, Any]:
    frame = {
        "filename": "upload.py",
        "abs_path": "/srv/app/upload.py",
        "function": function,
        "module": "app.upload",
        "lineno": lineno,
        "context_line": f"    {function}()",
        "pre_context": ["def x():"],
        "post_context": [""],
        "vars": {"document_id": "'doc-7d1e4b2a'"},
        "in_app": in_app,
    }
    frame.update(kw)
    return frame


LIB_FRAME = py_frame(
    "send", 645, in_app=False, filename="requests/sessions.py", module="requests.sessions"
)


def python_error(**overrides: Any) -> dict[str, Any]:
    """The shape sentry-python 2.75 sends for a captured exception, trimmed."""
    payload: dict[str, Any] = {
        "level": "error",
        "exception": {
            "values": [
                {
                    "mechanism": {"type": "generic", "handled": True},
                    "module": None,
                    "type": "BlockchainTimeoutError",
                    "value": "no receipt for 0x5e1f after 12.0s from rpc-node-2",
                    "stacktrace": {
                        "frames": [
                            py_frame("upload_document", 159),
                            py_frame("submit_transaction", 105),
                            py_frame("wait_for_receipt", 100),
                            LIB_FRAME,
                        ]
                    },
                }
            ]
        },
        "event_id": EVENT_ID,
        "timestamp": "2026-11-28T21:52:47.737549Z",
        "contexts": {
            "trace": {"trace_id": TRACE, "span_id": SPAN, "parent_span_id": "af640f90778c6022"},
            "blockchain": {"network": "sepolia", "node": "rpc-node-2"},
        },
        "user": {"id": "42", "email": "demo@test.com", "ip_address": "{{auto}}"},
        "transaction": "uploadDocument",
        "tags": {"service": "upload-api"},
        "breadcrumbs": {"values": [{"category": "db", "message": "SELECT 1"}]},
        "extra": {"sys.argv": ["app.py"]},
        "request": {"url": "http://upload-api/documents", "method": "POST"},
        "release": "upload-api@1.4.2",
        "environment": "production",
        "sdk": {"name": "sentry.python.flask", "version": "2.75.0"},
        "platform": "python",
    }
    payload.update(overrides)
    return payload


def ctx(**kw: Any) -> IngestContext:
    kw.setdefault("project_id", 5)
    kw.setdefault("service", "upload-api")
    kw.setdefault("received_at", RECEIVED)
    return IngestContext(**kw)


def run(payload: Any, **kw: Any) -> ErrorEvent:
    return normalize_event(payload, ctx(**kw), WHAT)


def test_python_error() -> None:
    event = run(python_error(), client_ip="203.0.113.9")
    assert event.project_id == 5
    assert event.event_id == EVENT_ID
    assert event.timestamp == pytest.approx(RECEIVED - 12.262451)
    assert event.received_at == RECEIVED
    assert event.level == "error"
    assert event.platform == "python"
    assert event.trace_id == TRACE
    assert event.span_id == SPAN
    assert event.transaction == "uploadDocument"
    assert event.message is None
    assert event.type == "BlockchainTimeoutError"
    assert event.value == "no receipt for 0x5e1f after 12.0s from rpc-node-2"
    assert event.title == (
        "BlockchainTimeoutError: no receipt for 0x5e1f after 12.0s from rpc-node-2"
    )
    assert event.service == "upload-api"
    assert event.breadcrumbs == [{"category": "db", "message": "SELECT 1"}]
    assert event.contexts["blockchain"] == {"network": "sepolia", "node": "rpc-node-2"}
    assert event.tags == {"service": "upload-api"}
    assert event.extra == {"sys.argv": ["app.py"]}
    assert event.user == User(id="42", email="demo@test.com", ip_address="203.0.113.9")
    assert event.release == "upload-api@1.4.2"
    assert event.environment == "production"
    assert event.request["method"] == "POST"
    assert event.sdk["version"] == "2.75.0"
    assert re.fullmatch(r"[0-9a-f]{32}", event.fingerprint)


def test_frames_are_kept_in_order_with_their_details() -> None:
    (exc,) = run(python_error()).exceptions
    assert exc.mechanism == {"type": "generic", "handled": True}
    assert exc.module is None
    assert [f.function for f in exc.frames] == [
        "upload_document",
        "submit_transaction",
        "wait_for_receipt",
        "send",
    ]
    first = exc.frames[0]
    assert first.filename == "upload.py"
    assert first.abs_path == "/srv/app/upload.py"
    assert first.module == "app.upload"
    assert first.lineno == 159
    assert first.in_app is True
    assert first.context_line == "    upload_document()"
    assert first.pre_context == ["def x():"]
    assert first.post_context == [""]
    assert first.vars == {"document_id": "'doc-7d1e4b2a'"}
    assert exc.frames[3].in_app is False


def test_frame_with_odd_values() -> None:
    frame = {"lineno": True, "colno": "7", "in_app": "yes", "pre_context": "x", "vars": [1]}
    payload = python_error(exception={"values": [{"type": "E", "stacktrace": {"frames": [frame]}}]})
    (f,) = run(payload).exceptions[0].frames
    assert (f.lineno, f.colno, f.in_app, f.pre_context, f.vars) == (None, None, None, [], {})


def test_recorded_python_error_fixture() -> None:
    lines = (FIXTURES / "python-error.envelope").read_bytes().split(b"\n")
    header, payload = orjson.loads(lines[0]), orjson.loads(lines[2])
    event = run(payload, envelope_event_id=header["event_id"])
    assert event.event_id == header["event_id"]
    assert event.type == "BlockchainTimeoutError"
    assert event.location == Location("record_envelopes.py", 100, "wait_for_receipt")
    assert event.culprit == "record_envelopes.py in wait_for_receipt"
    assert event.trace_id == header["trace"]["trace_id"]
    assert event.contexts["blockchain"]["node"] == "rpc-node-2"


# -- exceptions --------------------------------------------------------------------------


def test_exception_chain_oldest_first() -> None:
    cause = {"type": "ConnectionError", "value": "reset", "stacktrace": {"frames": [LIB_FRAME]}}
    outer = {
        "type": "UploadFailed",
        "value": "could not store",
        "stacktrace": {"frames": [py_frame("store", 12)]},
    }
    event = run(python_error(exception={"values": [cause, outer]}))
    assert [e.type for e in event.exceptions] == ["ConnectionError", "UploadFailed"]
    assert event.type == "UploadFailed"
    assert event.title == "UploadFailed: could not store"
    assert event.location == Location("upload.py", 12, "store")
    single = run(python_error(exception={"values": [outer]}))
    assert single.fingerprint != event.fingerprint


def test_exception_as_a_bare_list() -> None:
    event = run(python_error(exception=[{"type": "KeyError", "value": "'a'"}]))
    assert event.type == "KeyError"
    assert event.title == "KeyError: 'a'"


@pytest.mark.parametrize(
    "exception",
    [None, {}, {"values": None}, {"values": "x"}, "boom", {"values": []}],
)
def test_no_usable_exception(exception: Any) -> None:
    event = run(python_error(exception=exception, message="fallback"))
    assert event.exceptions == []
    assert event.title == "fallback"


@pytest.mark.parametrize(
    ("exception", "title"),
    [
        ({"type": "KeyError", "value": "'a'"}, "KeyError: 'a'"),
        ({"type": "StopIteration", "value": None}, "StopIteration"),
        ({"type": "StopIteration", "value": ""}, "StopIteration"),
        ({"type": "E", "value": "x" * 5000}, "E: " + "x" * 997),
    ],
    ids=["type-and-value", "no-value", "empty-value", "cut-at-1000"],
)
def test_title(exception: dict[str, Any], title: str) -> None:
    assert run(python_error(exception={"values": [exception]})).title == title


def test_title_of_an_exception_without_type() -> None:
    """Browser errors can lack a type; the title must not read ``None: ...``."""
    title = run(python_error(exception={"values": [{"value": "Script error."}]})).title
    assert "Script error." in title
    assert not title.startswith("None")


def test_exception_values_that_are_not_objects_are_empty_exceptions() -> None:
    event = run(python_error(exception={"values": ["junk"]}))
    assert len(event.exceptions) == 1
    assert event.exceptions[0].frames == []


# -- messages ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({"message": "retry limit reached"}, "retry limit reached", id="string"),
        pytest.param({"message": {"formatted": "a 1", "message": "a %s"}}, "a 1", id="formatted"),
        pytest.param({"message": {"message": "a %s", "params": [1]}}, "a %s", id="template"),
        pytest.param({"logentry": {"formatted": "b 2", "message": "b %s"}}, "b 2", id="logentry"),
        pytest.param({"logentry": {"message": "b %s"}}, "b %s", id="logentry-template"),
        pytest.param(
            {"logentry": {"formatted": "from logentry"}, "message": "from message"},
            "from logentry",
            id="logentry-first",
        ),
        pytest.param({"logentry": {}, "message": "m"}, "m", id="empty-logentry"),
        pytest.param({"message": ""}, None, id="empty-string"),
        pytest.param({"message": 42}, None, id="number"),
        pytest.param({}, None, id="none"),
    ],
)
def test_message_variants(fields: dict[str, Any], message: str | None) -> None:
    payload = python_error(**fields)
    del payload["exception"]
    event = run(payload)
    assert event.message == message
    assert event.title == (message or "<no message>")
    assert event.value == message
    assert event.type is None
    assert event.location is None


def test_message_events_group_by_masked_message() -> None:
    a = python_error(message="retry 3 of user 42")
    b = python_error(message="retry 4 of user 43")
    del a["exception"], b["exception"]
    assert run(a).fingerprint == run(b).fingerprint


def test_sdk_fingerprint_is_used() -> None:
    event = run(python_error(fingerprint=["blockchain-timeout"]))
    assert event.fingerprint == fingerprint([], None, ["blockchain-timeout"])


# -- breadcrumbs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("breadcrumbs", "expected"),
    [
        pytest.param({"values": [{"a": 1}, {"b": 2}]}, [{"a": 1}, {"b": 2}], id="python-values"),
        pytest.param([{"a": 1}], [{"a": 1}], id="browser-bare-list"),
        pytest.param([{"a": 1}, "junk", None, 3], [{"a": 1}], id="non-objects-dropped"),
        pytest.param({"values": None}, [], id="values-none"),
        pytest.param({}, [], id="empty-object"),
        pytest.param(None, [], id="none"),
        pytest.param("crumbs", [], id="string"),
    ],
)
def test_breadcrumbs(breadcrumbs: Any, expected: list[dict[str, Any]]) -> None:
    assert run(python_error(breadcrumbs=breadcrumbs)).breadcrumbs == expected


# -- location and culprit ----------------------------------------------------------------


def _one(*frames: dict[str, Any]) -> dict[str, Any]:
    return {"values": [{"type": "E", "value": "x", "stacktrace": {"frames": list(frames)}}]}


@pytest.mark.parametrize(
    ("exception", "location"),
    [
        pytest.param(
            _one(py_frame("outer", 1), py_frame("inner", 2), LIB_FRAME),
            Location("upload.py", 2, "inner"),
            id="innermost-in-app-beats-library",
        ),
        pytest.param(
            _one(py_frame("outer", 1), py_frame("inner", 2)),
            Location("upload.py", 2, "inner"),
            id="innermost-in-app",
        ),
        pytest.param(
            _one(LIB_FRAME, py_frame("get", 9, in_app=False, filename="requests/api.py")),
            Location("requests/api.py", 9, "get"),
            id="no-in-app-last-frame",
        ),
        pytest.param(
            _one({"abs_path": "/srv/app.js", "function": "f", "lineno": 3, "in_app": True}),
            Location("/srv/app.js", 3, "f"),
            id="abs-path-without-filename",
        ),
        pytest.param(
            _one({"filename": "https://cdn/app.js", "function": "onClick", "in_app": True}),
            Location("https://cdn/app.js", None, "onClick"),
            id="browser-no-lineno",
        ),
        pytest.param(_one(), None, id="no-frames"),
    ],
)
def test_location(exception: dict[str, Any], location: Location | None) -> None:
    assert run(python_error(exception=exception)).location == location


def test_culprit_is_file_and_function_of_the_location() -> None:
    event = run(python_error())
    assert event.location == Location("upload.py", 100, "wait_for_receipt")
    assert event.culprit == "upload.py in wait_for_receipt"


def test_culprit_falls_back_to_the_transaction() -> None:
    event = run(python_error(exception=_one()))
    assert event.culprit == "uploadDocument"
    event = run(python_error(exception=_one(), transaction=None))
    assert event.culprit is None


# -- defaults ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (None, "error"),
        ("error", "error"),
        ("warning", "warning"),
        ("info", "info"),
        ("debug", "debug"),
        ("fatal", "fatal"),
        ("shouting", "error"),
        (3, "error"),
    ],
)
def test_level(level: Any, expected: str) -> None:
    payload = python_error(level=level)
    if level is None:
        del payload["level"]
    assert run(payload).level == expected


def test_minimal_event() -> None:
    event = run({"message": "hi"})
    assert re.fullmatch(r"[0-9a-f]{32}", event.event_id)
    assert event.timestamp == RECEIVED
    assert event.level == "error"
    assert event.trace_id is None and event.span_id is None
    assert event.user.is_empty()
    assert event.tags == {} and event.contexts == {} and event.breadcrumbs == []


def test_event_ids_are_random_when_missing() -> None:
    assert run({"message": "hi"}).event_id != run({"message": "hi"}).event_id


def test_event_id_from_the_envelope_header() -> None:
    assert run({"message": "hi"}, envelope_event_id="AB" * 16).event_id == "ab" * 16


def test_event_id_with_dashes() -> None:
    payload = python_error(event_id="33409eb7-02af-463b-bc3f-b60082365274")
    assert run(payload).event_id == EVENT_ID


def test_float_timestamp() -> None:
    assert run(python_error(timestamp=1795898461.95)).timestamp == 1795898461.95


# -- unusable events ---------------------------------------------------------------------


@pytest.mark.parametrize("payload", [None, [], "event", 5])
def test_not_an_object(payload: Any) -> None:
    with pytest.raises(ItemError, match=re.escape(f"{WHAT} must be a JSON object")):
        run(payload)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"event_id": "nothex"}, f"{WHAT} event_id must be a 32-digit hex"),
        ({"timestamp": "later"}, f"{WHAT} timestamp is not a timestamp"),
        ({"timestamp": True}, f"{WHAT} timestamp must be a timestamp"),
        (
            {"contexts": {"trace": {"trace_id": "abc"}}},
            f"{WHAT} contexts.trace.trace_id must be a 32-digit hex",
        ),
        (
            {"contexts": {"trace": {"trace_id": TRACE, "span_id": "x"}}},
            f"{WHAT} contexts.trace.span_id must be a 16-digit hex",
        ),
    ],
)
def test_bad_fields_are_named(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ItemError) as caught:
        run(python_error(**overrides))
    assert str(caught.value).startswith(message)


def test_hostile_tags_do_not_raise() -> None:
    event = run(python_error(tags=[[["not", "hashable"], "x"], ["ok", "y"]]))
    assert event.tags == {"ok": "y"}
