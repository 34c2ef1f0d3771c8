"""Replay recordings and the timeline built from them: pure, on bytes and events."""

from __future__ import annotations

import zlib
from pathlib import Path

import orjson
import pytest

from glasspane.errors import LimitExceeded, ProtocolError
from glasspane.protocol.envelope import parse_envelope
from glasspane.protocol.replay import event_seconds, recording_events, split_recording
from glasspane.query.replay_timeline import build_timeline

FIXTURE = Path(__file__).parent.parent / "fixtures" / "envelopes" / "browser-replay.envelope"


def _recorded_events() -> list[dict]:
    envelope = parse_envelope(FIXTURE.read_bytes(), 10**8)
    recording = split_recording(envelope.items[1].payload)
    assert recording.segment_id == 0 and recording.compressed
    return recording_events(recording.body, 10**8)


def test_recorded_browser_session_reads_like_the_story() -> None:
    timeline = build_timeline(_recorded_events())
    assert [e["description"] for e in timeline][1:] == [
        "Clicked input#case-name",
        'Typed "********************" into input#case-name',
        'Clicked "Upload Document"',
        "GET http://127.0.0.1:9412/upload?fail=1&case=arbitration-case-142 → 504",
        'Page shows "Processing..."',
        'Page shows "Blockchain confirmation timeout"',
        "User sent feedback",
    ]
    navigation = timeline[0]
    # The navigation entry (seconds) and the meta event (milliseconds) are one page view.
    assert navigation["type"] == "navigation" and navigation["timestamp"] == 1795904776.8413
    times = [e["timestamp"] for e in timeline]
    assert times == sorted(times)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (1795904777255, 1795904777.255),
        (1795904777.1373, 1795904777.1373),
        ("x", None),
        (True, None),
    ],
)
def test_rrweb_timestamps_in_milliseconds_or_seconds(value: object, seconds: float) -> None:
    assert event_seconds(value) == seconds


def test_plain_and_compressed_recordings() -> None:
    events = [{"type": 4, "timestamp": 1, "data": {"href": "http://a/"}}, "junk"]
    plain = split_recording(b'{"segment_id":3}\n' + orjson.dumps(events))
    assert (plain.segment_id, plain.compressed) == (3, False)
    assert recording_events(plain.body, 1000) == [events[0]]
    packed = split_recording(b'{"segment_id":4}\n' + zlib.compress(orjson.dumps(events)))
    assert recording_events(packed.body, 1000) == [events[0]]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"no header", "must start with"),
        (b'{"segment_id":\n[]', "header is not valid JSON"),
        (b'{"segment_id":0}\n\x00\x01garbage', "neither JSON nor zlib"),
        (b'{"segment_id":0}\n' + zlib.compress(b'{"a":1}'), "must be a JSON array"),
        (b'{"segment_id":0}\n' + zlib.compress(b"[1,"), "not valid JSON"),
    ],
)
def test_broken_recordings_say_what_is_wrong(payload: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        recording_events(split_recording(payload).body, 10**6)


def test_a_recording_bomb_stops_at_the_limit() -> None:
    bomb = zlib.compress(b"[" + b" " * 5_000_000 + b"]")
    with pytest.raises(LimitExceeded, match="more than 100000 bytes"):
        recording_events(bomb, 100_000)


#: Synthetic recordings start at a real epoch, so milliseconds look like milliseconds.
T = 1_795_904_700.0
T_MS = int(T * 1000)


def _crumb(offset: float, category: str, **payload: object) -> dict:
    ts = T + offset
    body = {"timestamp": ts, "category": category, **payload}
    return {"type": 5, "timestamp": ts * 1000, "data": {"tag": "breadcrumb", "payload": body}}


def _node(tag: str, node_id: int, text: str = "", **attributes: str) -> dict:
    return {
        "nodeId": node_id,
        "node": {"id": node_id, "tagName": tag, "textContent": text, "attributes": attributes},
    }


def test_inputs_take_the_last_value_typed_before_the_next_action() -> None:
    events = [
        _crumb(10.0, "ui.input", message="input#a", data=_node("input", 5, id="a")),
        {"type": 3, "timestamp": T_MS + 10100, "data": {"source": 5, "text": "*", "id": 5}},
        {"type": 3, "timestamp": T_MS + 10200, "data": {"source": 5, "text": "**", "id": 5}},
        _crumb(11.0, "ui.click", message="button", data=_node("button", 6, "Save")),
        {"type": 3, "timestamp": T_MS + 12000, "data": {"source": 5, "text": "visible", "id": 9}},
    ]
    timeline = build_timeline(events)
    assert [(e["type"], e.get("value")) for e in timeline] == [
        ("input", "**"),
        ("click", None),
        ("input", "visible"),
    ]
    assert timeline[0]["masked"] is True and timeline[2]["masked"] is False


def test_uncovered_input_is_named_from_the_snapshot() -> None:
    snapshot = {
        "type": 2,
        "timestamp": 1000,
        "data": {
            "node": {
                "type": 0,
                "id": 1,
                "childNodes": [
                    {"type": 2, "tagName": "input", "id": 7, "attributes": {"name": "email"}}
                ],
            }
        },
    }
    typed = {"type": 3, "timestamp": T_MS + 2000, "data": {"source": 5, "text": "***", "id": 7}}
    [entry] = build_timeline([snapshot, typed])
    assert entry["description"] == 'Typed "***" into input[name="email"]'


def test_frustration_console_navigation_and_script_text() -> None:
    events = [
        _crumb(
            1.0,
            "ui.multiClick",
            message="button#pay",
            data={**_node("button", 3, "Pay"), "clickCount": 4},
        ),
        _crumb(
            2.0,
            "ui.slowClickDetected",
            message="a",
            data={**_node("a", 4, "Help"), "timeAfterClickMs": 7000},
        ),
        _crumb(3.0, "console", level="error", message="boom"),
        _crumb(3.5, "console", level="log", message="chatter"),
        _crumb(4.0, "navigation", data={"from": "/a", "to": "/b"}),
        {
            "type": 2,
            "timestamp": 4500,
            "data": {
                "node": {
                    "type": 0,
                    "id": 1,
                    "childNodes": [
                        {
                            "type": 2,
                            "tagName": "script",
                            "id": 2,
                            "attributes": {},
                            "childNodes": [],
                        }
                    ],
                }
            },
        },
        {
            "type": 3,
            "timestamp": 5000,
            "data": {
                "source": 0,
                "texts": [],
                "adds": [{"parentId": 2, "node": {"type": 3, "id": 8, "textContent": "var x = 1"}}],
            },
        },
        {
            "type": 5,
            "timestamp": T + 6.0,
            "data": {
                "tag": "performanceSpan",
                "payload": {
                    "op": "resource.xhr",
                    "description": "/api",
                    "startTimestamp": T + 6.0,
                    "endTimestamp": T + 6.25,
                    "data": {"method": "POST"},
                },
            },
        },
    ]
    assert [e["description"] for e in build_timeline(events)] == [
        'Rage-clicked "Pay" (4×)',
        'Clicked "Help": nothing happened',
        "Console error: boom",
        "Navigated to /b",
        "POST /api → failed",
    ]
