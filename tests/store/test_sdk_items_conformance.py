"""The store contract for replays, sessions, check-ins, feedback and profiles."""

from __future__ import annotations

import time
from typing import Any

from envelopes import error_event
from glasspane.domain import (
    Batch,
    CheckIn,
    ClientInfo,
    Feedback,
    Outcome,
    Profile,
    ReplayEvent,
    ReplayRecording,
    SessionAggregate,
    SessionUpdate,
    User,
)
from glasspane.normalize.context import IngestContext
from glasspane.normalize.event import normalize_event
from glasspane.store.api import Store
from glasspane.store.models import OutcomeCount, Window

NOW = time.time()
EVERYTHING = Window(0.0, NOW + 3600)
REPLAY = "a" * 32


def _segment(segment_id: int, received_at: float, **extra: Any) -> ReplayEvent:
    return ReplayEvent(
        1,
        REPLAY,
        segment_id,
        NOW + segment_id,
        NOW - 5,
        "session",
        received_at=received_at,
        **{"user": User(id="u1"), **extra},
    )


def test_replays_round_trip_and_resent_segments_read_once(store: Store) -> None:
    batch = Batch(
        replay_events=[
            _segment(1, NOW, trace_ids=["b" * 32]),
            _segment(0, NOW, urls=["/a"]),
            _segment(1, NOW + 1, trace_ids=["c" * 32]),
        ],
        replay_recordings=[
            ReplayRecording(1, REPLAY, 0, b"\x78\x9c..", 3, NOW),
            ReplayRecording(1, REPLAY, 0, b"\x78\x9c!!", 4, NOW + 1),
        ],
    )
    store.write(batch).result(timeout=10)
    segments = store.replay_segments(REPLAY)
    assert [(s.segment_id, s.trace_ids) for s in segments] == [(0, []), (1, ["c" * 32])]
    assert segments[0].urls == ["/a"] and segments[0].user == User(id="u1")
    [recording] = store.replay_recordings(REPLAY)
    assert (recording.payload, recording.events) == (b"\x78\x9c!!", 4)
    [listed] = store.list_replays(EVERYTHING, None, None, 10)
    assert (listed.replay_id, listed.segments, listed.started_at) == (REPLAY, 2, NOW - 5)
    assert store.list_replays(EVERYTHING, "c" * 32, None, 10)[0].replay_id == REPLAY
    assert store.list_replays(EVERYTHING, "d" * 32, None, 10) == []


def test_a_listed_replay_merges_its_segments(store: Store) -> None:
    first = _segment(0, NOW, urls=["/a"], environment="prod", client=ClientInfo("Firefox"))
    later = _segment(
        1, NOW, urls=["/b", "/a"], trace_ids=["b" * 32], error_ids=["c" * 32], user=User(id="u2")
    )
    store.write(Batch(replay_events=[later, first])).result(timeout=10)
    [listed] = store.list_replays(Window(NOW - 60, NOW + 60), None, None, 10)
    assert (listed.started_at, listed.finished_at, sorted(listed.urls)) == (
        NOW - 5,
        NOW + 1,
        ["/a", "/b"],
    )
    assert (listed.trace_ids, listed.error_ids) == (["b" * 32], ["c" * 32])
    assert (listed.user, listed.client.browser, listed.environment) == (
        User(id="u1"),
        "Firefox",
        "prod",
    )
    assert store.list_replays(Window(NOW + 60, NOW + 120), None, None, 10) == []


def test_issue_finds_replays_by_error_or_trace(store: Store) -> None:
    ctx = IngestContext(1, "web", NOW)
    event = normalize_event(error_event(trace_id="e" * 32), ctx, "test")
    store.write(Batch(errors=[event])).result(timeout=10)
    [error] = store.errors_by_id([event.event_id, "f" * 32])
    by_error = _segment(0, NOW, error_ids=[event.event_id])
    by_trace = ReplayEvent(1, "b" * 32, 0, NOW, None, trace_ids=["e" * 32], received_at=NOW)
    store.write(Batch(replay_events=[by_error, by_trace])).result(timeout=10)
    found = store.list_replays(EVERYTHING, None, error.issue_id, 10)
    assert sorted(r.replay_id for r in found) == sorted([REPLAY, "b" * 32])


def test_release_health_counts_sessions_once(store: Store) -> None:
    updates = [
        SessionUpdate(1, "s1", "u1", "r@1", "prod", "ok", 0, NOW, NOW, init=True),
        SessionUpdate(1, "s1", "u1", "r@1", "prod", "crashed", 1, NOW, NOW + 1),
        SessionUpdate(1, "s1", "u1", "r@1", "prod", "exited", 1, NOW, NOW + 2),  # late, milder
        SessionUpdate(1, "s2", "u2", "r@1", "prod", "exited", 0, NOW, NOW + 1),
        SessionUpdate(1, "old", "u3", "r@1", "prod", "crashed", 0, NOW - 86400, NOW - 86400),
    ]
    aggregate = SessionAggregate(1, "r@1", "prod", NOW, exited=3, errored=1)
    store.write(Batch(sessions=updates, session_aggregates=[aggregate])).result(timeout=10)
    [health] = store.release_health(Window(NOW - 60, NOW + 60))
    assert (health.sessions, health.healthy, health.errored, health.crashed) == (6, 4, 1, 1)
    assert (health.users, health.crashed_users, health.environments) == (2, 1, ["prod"])
    assert store.release_health(Window(0.0, 1.0)) == []


def test_client_reports_sum_what_the_sdks_dropped_in_the_window(store: Store) -> None:
    outcomes = [
        Outcome(1, "error", "client:queue_overflow", 2, NOW - 10),
        Outcome(1, "error", "client:queue_overflow", 3, NOW),
        Outcome(1, "span", "client:sample_rate", 9, NOW - 5),
        Outcome(1, "error", "invalid_json", 7, NOW),
        Outcome(1, "error", "client:network_error", 1, NOW - 7200),
    ]
    store.write(Batch(outcomes=outcomes)).result(timeout=10)
    assert store.client_reports(Window(NOW - 600, NOW + 1)) == [
        OutcomeCount(1, "span", "sample_rate", 9, NOW - 5),
        OutcomeCount(1, "error", "queue_overflow", 5, NOW),
    ]


def test_check_ins_include_the_last_one_before_the_window(store: Store) -> None:
    check_ins = [
        CheckIn(1, "1" * 32, "job", "ok", NOW - 7200, monitor_config={"schedule": {}}),
        CheckIn(1, "2" * 32, "job", "ok", NOW - 3600),
        CheckIn(1, "3" * 32, "other", "error", NOW - 60, duration=1.5),
    ]
    store.write(Batch(check_ins=check_ins)).result(timeout=10)
    found = store.check_ins(Window(NOW - 600, NOW))
    assert [(c.monitor_slug, c.check_in_id[0]) for c in found] == [("job", "2"), ("other", "3")]
    assert found[1].duration == 1.5
    assert store.check_ins(Window(NOW - 10_000, NOW))[0].monitor_config == {"schedule": {}}


def test_feedback_and_profiles_round_trip(store: Store) -> None:
    feedback = Feedback(
        1,
        "f" * 32,
        NOW,
        "slow",
        replay_id=REPLAY,
        user=User(email="a@b.c"),
        tags={"k": "v"},
        received_at=NOW,
    )
    profile = Profile(
        1,
        "1" * 32,
        "transaction",
        NOW,
        "python",
        b'{"x":1}',
        transaction_id="2" * 32,
        trace_id="3" * 32,
        samples=5,
        received_at=NOW,
    )
    store.write(Batch(feedback=[feedback], profiles=[profile])).result(timeout=10)
    assert store.list_feedback(EVERYTHING, None, 10) == [feedback]
    assert store.list_feedback(EVERYTHING, "0" * 32, 10) == []
    assert store.list_feedback(Window(0.0, 1.0), REPLAY, 10) == [feedback]
    assert store.get_profile("1" * 32) == profile
    [listed] = store.list_profiles(EVERYTHING, "2" * 32, None, 10)
    assert listed.payload == b"" and listed.samples == 5
    assert [p.profile_id for p in store.list_profiles(EVERYTHING, None, "3" * 32, 10)] == ["1" * 32]
    assert store.list_profiles(Window(0.0, 1.0), None, None, 10) == []
    assert store.get_profile("9" * 32) is None
    assert store.replay_segments("9" * 32) == [] and store.replay_recordings("9" * 32) == []
