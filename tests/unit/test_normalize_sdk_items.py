"""Replays, sessions, check-ins, feedback and profiles: wire → domain, and hostile input."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from glasspane.errors import ItemError
from glasspane.normalize.context import IngestContext
from glasspane.normalize.envelope import normalize_item
from glasspane.protocol.envelope import Item

NOW = 1795898462.0
REPLAY = "7b8035352d4e4149bafe59ed0bf44c1c"


def ctx(event_id: str | None = None) -> IngestContext:
    return IngestContext(9, "web", NOW, "192.0.2.1", envelope_event_id=event_id)


def item(type_: str, payload: Any) -> Item:
    raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return Item(1, type_, {"type": type_}, raw)


def test_replay_event_takes_the_envelope_id_and_skips_odd_ids() -> None:
    payload = {
        "segment_id": 2,
        "timestamp": NOW,
        "trace_ids": ["A" * 32, "nope", None],
        "error_ids": ["b" * 32],
        "urls": ["http://x/", 5],
        "user": {"ip_address": "{{auto}}"},
        "request": {
            "headers": {
                "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) "
                "AppleWebKit/537.36 Chrome/120.0 Safari"
            }
        },
    }
    [event] = normalize_item(item("replay_event", payload), ctx(REPLAY)).replay_events
    assert (event.replay_id, event.segment_id) == (REPLAY, 2)
    assert event.trace_ids == ["a" * 32] and event.urls == ["http://x/"]
    assert event.user.ip_address == "192.0.2.1" and event.client.browser == "Chrome"


@pytest.mark.parametrize(
    ("payload", "event_id", "message"),
    [
        ([], REPLAY, "must be a JSON object"),
        ({"segment_id": 0}, None, "has no replay_id"),
        ({"segment_id": -1}, REPLAY, "non-negative integer"),
        ({"segment_id": True}, REPLAY, "non-negative integer"),
        ({"segment_id": 0, "timestamp": "yesterday"}, REPLAY, "not a timestamp"),
    ],
)
def test_bad_replay_events(payload: Any, event_id: str | None, message: str) -> None:
    with pytest.raises(ItemError, match=message):
        normalize_item(item("replay_event", payload), ctx(event_id))


def test_replay_event_urls_must_be_a_list() -> None:
    payload = {"segment_id": 0, "urls": "http://x/"}
    [event] = normalize_item(item("replay_event", payload), ctx(REPLAY)).replay_events
    assert event.urls == []


def test_recording_needs_the_envelope_replay_id_and_a_header() -> None:
    with pytest.raises(ItemError, match="replay id as event_id"):
        normalize_item(item("replay_recording", b'{"segment_id":0}\n[]'), ctx())
    with pytest.raises(ItemError, match='segment_id":N'):
        normalize_item(item("replay_recording", b'{"segment":0}\n[]'), ctx(REPLAY))
    batch = normalize_item(item("replay_recording", b'{"segment_id":1}\n[{"type":0}]'), ctx(REPLAY))
    [recording] = batch.replay_recordings
    assert (recording.segment_id, recording.events, recording.payload) == (1, 1, b'[{"type":0}]')


def test_session_statuses_and_ids() -> None:
    payload = {
        "sid": "0744C017-84E7-4F2E-A1B2-000000000000",
        "status": "crashed",
        "errors": -3,
        "started": "2026-11-28T20:39:00Z",
        "attrs": {"release": "r@1"},
        "init": True,
    }
    [session] = normalize_item(item("session", payload), ctx()).sessions
    assert session.session_id == "0744c01784e74f2ea1b2000000000000"
    assert (session.status, session.errors, session.init, session.timestamp) == (
        "crashed",
        0,
        True,
        NOW,
    )
    with pytest.raises(ItemError, match="unknown status 'zombie'"):
        normalize_item(item("session", {**payload, "status": "zombie"}), ctx())
    with pytest.raises(ItemError, match="has no sid"):
        normalize_item(item("session", {**payload, "sid": ""}), ctx())


def test_session_aggregates() -> None:
    payload = {
        "attrs": {"release": "r@1", "environment": "prod"},
        "aggregates": [
            {"started": "2026-11-28T20:39:00.000000Z", "exited": 3, "crashed": 1, "errored": "x"},
            {"started": 1795898400, "did": "u1", "abnormal": 2},
        ],
    }
    aggregates = normalize_item(item("sessions", payload), ctx()).session_aggregates
    assert [(a.exited, a.errored, a.crashed, a.abnormal, a.distinct_id) for a in aggregates] == [
        (3, 0, 1, 0, None),
        (0, 0, 0, 2, "u1"),
    ]
    with pytest.raises(ItemError, match="no aggregates list"):
        normalize_item(item("sessions", {"attrs": {"release": "r"}}), ctx())
    with pytest.raises(ItemError) as caught:
        normalize_item(item("sessions", {"aggregates": []}), ctx())
    assert caught.value.reason == "missing_release"


def test_check_ins() -> None:
    payload = {
        "check_in_id": "c" * 32,
        "monitor_slug": "nightly",
        "status": "ok",
        "duration": 1.25,
        "contexts": {"trace": {"trace_id": "d" * 32}},
        "monitor_config": {"schedule": {"type": "crontab", "value": "0 3 * * *"}},
    }
    [check_in] = normalize_item(item("check_in", payload), ctx()).check_ins
    assert (check_in.timestamp, check_in.duration, check_in.trace_id) == (NOW, 1.25, "d" * 32)
    assert check_in.monitor_config["schedule"]["value"] == "0 3 * * *"
    for bad, message in (
        ({"monitor_slug": ""}, "monitor_slug"),
        ({"status": "done"}, "status"),
        ({"check_in_id": "zz"}, "check_in_id"),
    ):
        with pytest.raises(ItemError, match=message):
            normalize_item(item("check_in", {**payload, **bad}), ctx())


def test_feedback_and_user_report() -> None:
    payload = {"contexts": {"feedback": {"message": "x" * 20_000, "replay_id": REPLAY}}}
    [feedback] = normalize_item(item("feedback", payload), ctx("e" * 32)).feedback
    assert feedback.event_id == "e" * 32 and len(feedback.message) == 10_000
    assert feedback.replay_id == REPLAY and feedback.timestamp == NOW
    report = {"event_id": "f" * 32, "name": "Ann", "email": "a@x.io", "comments": "broken"}
    [legacy] = normalize_item(item("user_report", report), ctx()).feedback
    assert (legacy.associated_event_id, legacy.contact_email) == ("f" * 32, "a@x.io")
    with pytest.raises(ItemError, match="no message"):
        normalize_item(item("user_report", {**report, "comments": None}), ctx())


def test_profiles_need_samples_and_ids() -> None:
    with pytest.raises(ItemError, match=r"profile\.samples"):
        normalize_item(item("profile", {"event_id": "a" * 32, "profile": {}}), ctx())
    with pytest.raises(ItemError, match="event_id"):
        normalize_item(item("profile", {"profile": {"samples": []}}), ctx())
    with pytest.raises(ItemError, match="profiler_id"):
        chunk = {"chunk_id": "a" * 32, "profile": {"samples": []}}
        normalize_item(item("profile_chunk", chunk), ctx())
    payload = {
        "event_id": "a" * 32,
        "profile": {"samples": [{}, {}]},
        "transaction": {
            "id": "b" * 32,
            "name": "job",
            "relative_start_ns": "0",
            "relative_end_ns": "1500000",
        },
    }
    [profile] = normalize_item(item("profile", payload), ctx()).profiles
    assert (profile.transaction_id, profile.duration_ms, profile.samples) == ("b" * 32, 1.5, 2)
    assert orjson.loads(profile.payload) == payload
