"""Session replays in the API's shapes: one replay with its segments and
timeline, the list, and the links between replays, traces and issues.

A replay links to the traces it saw (``trace_ids``) and the errors it saw
(``error_ids``); a trace or an issue finds its replays the other way round
(``list_replays(trace_id=...)`` / ``issue_id=...``). The timeline merges the
recording's events (see :mod:`glasspane.query.replay_timeline`) with the
error events of the replay and of its traces, and the user's feedback.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from glasspane.domain import Project, ReplayEvent, ReplayRecording, User
from glasspane.errors import NotFound, ProtocolError
from glasspane.protocol.replay import recording_events
from glasspane.query.period import parse_window
from glasspane.query.replay_dom import page_texts, snapshot_time
from glasspane.query.replay_timeline import build_timeline
from glasspane.query.traces import normalize_trace_id
from glasspane.store.api import SdkItemReader, Store, TraceReader
from glasspane.store.models import ReplaySummary, TraceError, Window

MAX_LIMIT = 1000
#: Errors of at most this many of the replay's traces are looked up.
MAX_TRACES = 50
#: Each segment may decompress to this much (as at ingest).
MAX_RECORDING_SIZE = 100 * 1024 * 1024


def normalize_replay_id(replay_id: str) -> str:
    text = replay_id.strip().lower().replace("-", "")
    if len(text) != 32 or any(c not in "0123456789abcdef" for c in text):
        raise ProtocolError(f"Replay id {replay_id!r} is not 32 hex digits")
    return text


def period_window(period: str | None) -> Window:
    return Window(*parse_window(period, time.time()))


#: Each word of a search is matched against every user field and URL.
MAX_TERMS = 16
#: The search keys of the replays list, and the user fields each matches.
USER_KEYS = {
    "user": ("id", "email", "username", "ip_address"),
    "user.id": ("id",),
    "user.email": ("email",),
    "user.username": ("username",),
    "user.ip": ("ip_address",),
}


@dataclass(frozen=True)
class ReplayQuery:
    """The replays list's search: ``user:`` words (``user.email:`` etc.),
    ``url:`` words, ``has:errors``; a bare word matches the user or a URL.
    Words are case-insensitive substrings and all must match."""

    user: tuple[tuple[tuple[str, ...], str], ...] = ()
    urls: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    errors_only: bool = False

    @classmethod
    def parse(cls, query: str | None, errors_only: bool = False) -> ReplayQuery:
        user: list[tuple[tuple[str, ...], str]] = []
        urls: list[str] = []
        words: list[str] = []
        terms = (query or "").split()
        if len(terms) > MAX_TERMS:
            raise ProtocolError(f"A replays search has at most {MAX_TERMS} words, got {len(terms)}")
        for word in terms:
            key, colon, value = word.partition(":")
            key = key.lower()
            if not colon or key in ("http", "https"):
                words.append(word.lower())
            elif key in USER_KEYS and value:
                user.append((USER_KEYS[key], value.lower()))
            elif key == "url" and value:
                urls.append(value.lower())
            elif key == "has" and value.lower() == "errors":
                errors_only = True
            else:
                keys = ", ".join([*USER_KEYS, "url", "has:errors"])
                raise ProtocolError(f"Cannot search replays by {word[:80]!r}; the keys: {keys}")
        return cls(tuple(user), tuple(urls), tuple(words), errors_only)

    def __bool__(self) -> bool:
        return bool(self.user or self.urls or self.words or self.errors_only)

    def matches(self, replay: dict[str, Any]) -> bool:
        person = {k: str(v).lower() for k, v in replay["user"].items()}
        urls = [u.lower() for u in replay["urls"]]
        if self.errors_only and not replay["count_errors"]:
            return False
        if not all(any(v in person.get(f, "") for f in fs) for fs, v in self.user):
            return False
        if not all(any(v in u for u in urls) for v in self.urls):
            return False
        texts = [*person.values(), *urls]
        return all(any(w in t for t in texts) for w in self.words)


def _user(user: User) -> dict[str, Any]:
    return {k: v for k, v in asdict(user).items() if v is not None}


def _project(projects: dict[int, Project], project_id: int) -> str:
    project = projects.get(project_id)
    return project.name if project else str(project_id)


def summary_json(replay: ReplaySummary, projects: dict[int, Project]) -> dict[str, Any]:
    return {
        "id": replay.replay_id,
        "project": _project(projects, replay.project_id),
        "project_id": replay.project_id,
        "replay_type": replay.replay_type,
        "started_at": replay.started_at,
        "finished_at": replay.finished_at,
        "duration_ms": round(max(0.0, replay.finished_at - replay.started_at) * 1000.0, 3),
        "segments": replay.segments,
        "user": _user(replay.user),
        "browser": replay.client.browser,
        "os": replay.client.os,
        "country": replay.client.country,
        "environment": replay.environment,
        "release": replay.release,
        "urls": replay.urls,
        "trace_ids": replay.trace_ids,
        "error_ids": replay.error_ids,
        "count_errors": len(replay.error_ids),
    }


def list_replays(
    store: SdkItemReader,
    projects: list[Project],
    window: Window,
    trace_id: str | None = None,
    issue_id: int | None = None,
    limit: int = 50,
    query: ReplayQuery | None = None,
) -> dict[str, Any]:
    """Newest first. A search filters the newest :data:`MAX_LIMIT` of the
    window (the store has no user or URL index for replays)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ProtocolError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    trace_id = normalize_trace_id(trace_id) if trace_id else None
    by_id = {p.id: p for p in projects}
    found = store.list_replays(window, trace_id, issue_id, MAX_LIMIT if query else limit)
    shown = [summary_json(r, by_id) for r in found]
    if query:
        shown = [r for r in shown if query.matches(r)][:limit]
    return {"replays": shown}


def _segment_json(event: ReplayEvent | None, recording: ReplayRecording | None) -> dict:
    out: dict[str, Any] = {"segment_id": (event or recording).segment_id}  # type: ignore[union-attr]
    if event is not None:
        out.update(
            timestamp=event.timestamp,
            received_at=event.received_at,
            urls=event.urls,
            trace_ids=event.trace_ids,
            error_ids=event.error_ids,
        )
    out["events"] = recording.events if recording else 0
    out["size_bytes"] = len(recording.payload) if recording else 0
    out["has_recording"] = recording is not None
    return out


def _errors(store: TraceReader, segments: list[ReplayEvent]) -> list[tuple[TraceError, str]]:
    """The replay's own errors, then those of its traces, each once."""
    own = sorted({e for s in segments for e in s.error_ids})
    traces = sorted({t for s in segments for t in s.trace_ids})[:MAX_TRACES]
    found: dict[str, tuple[TraceError, str]] = {}
    for error in store.errors_by_id(own):
        found[error.event_id] = (error, "replay")
    for trace_id in traces:
        for error in store.trace_errors(trace_id):
            found.setdefault(error.event_id, (error, "trace"))
    return sorted(found.values(), key=lambda pair: pair[0].timestamp)


def _error_json(error: TraceError, linked_by: str, projects: dict[int, Project]) -> dict:
    return {
        "event_id": error.event_id,
        "issue_id": error.issue_id,
        "project": _project(projects, error.project_id),
        "trace_id": error.trace_id,
        "span_id": error.span_id,
        "type": error.type,
        "value": error.value,
        "title": error.title,
        "level": error.level,
        "transaction": error.transaction,
        "timestamp": error.timestamp,
        "linked_by": linked_by,
    }


def _events(recordings: list[ReplayRecording]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for recording in recordings:
        events.extend(recording_events(recording.payload, MAX_RECORDING_SIZE))
    return events


def get_replay(store: Store, projects: list[Project], replay_id: str) -> dict[str, Any]:
    """The replay with segments, links and timeline; :class:`NotFound` if unknown."""
    replay_id = normalize_replay_id(replay_id)
    segments = store.replay_segments(replay_id)
    recordings = store.replay_recordings(replay_id)
    if not segments and not recordings:
        raise NotFound(
            f"No replay {replay_id}: nothing of it has arrived (yet). The browser SDK sends "
            "a segment about every 5 seconds while the page is open"
        )
    by_id = {p.id: p for p in projects}
    errors = _errors(store, segments)
    feedback = store.list_feedback(Window(0, 0), replay_id, MAX_LIMIT)
    events = _events(recordings)
    timeline = build_timeline(events)
    timeline += [_error_entry(e, how, by_id) for e, how in errors]
    messages = {f.event_id: f.message for f in feedback}
    for entry in timeline:
        if entry["type"] == "feedback" and entry.get("feedback_id") in messages:
            entry["message"] = messages[entry["feedback_id"]]
            entry["description"] = f"User sent feedback: {messages[entry['feedback_id']]}"
    timeline.sort(key=lambda e: e["timestamp"])
    head = _head(replay_id, segments, recordings, timeline)
    for entry in timeline:
        entry["offset_ms"] = round(max(0.0, entry["timestamp"] - head["started_at"]) * 1000.0)
    return {
        **head,
        "page_text": _page_text(events, timeline, head["started_at"]),
        "project": _project(by_id, head["project_id"]),
        "segments": _segments_json(segments, recordings),
        "issue_ids": sorted({e.issue_id for e, _ in errors}),
        "errors": [_error_json(e, how, by_id) for e, how in errors],
        "feedback": [
            {
                "event_id": f.event_id,
                "message": f.message,
                "name": f.name,
                "contact_email": f.contact_email,
                "timestamp": f.timestamp,
            }
            for f in feedback
        ],
        "timeline": timeline,
    }


def _page_text(
    events: list[dict[str, Any]], timeline: list[dict[str, Any]], started_at: float
) -> list[dict[str, Any]]:
    """The page's text at the start, at each full snapshot and at each timeline entry,
    where it changed: ``[{offset_ms, text}]``; a reader at offset ``t`` sees the last
    one at or before it."""
    snapshots = [snapshot_time(e) for e in events]
    moments = sorted(
        {started_at, *(e["timestamp"] for e in timeline), *(t for t in snapshots if t)}
    )
    shown: list[dict[str, Any]] = []
    for moment, text in zip(moments, page_texts(events, moments), strict=True):
        if not shown or shown[-1]["text"] != text:
            offset = round(max(0.0, moment - started_at) * 1000.0)
            shown.append({"offset_ms": offset, "text": text})
    return shown


def _error_entry(error: TraceError, linked_by: str, projects: dict[int, Project]) -> dict:
    return {
        **_error_json(error, linked_by, projects),
        "type": "error",
        "error_type": error.type,
        "description": f"Error: {error.title}",
    }


def _segments_json(
    segments: list[ReplayEvent], recordings: list[ReplayRecording]
) -> list[dict[str, Any]]:
    events = {s.segment_id: s for s in segments}
    records = {r.segment_id: r for r in recordings}
    return [_segment_json(events.get(n), records.get(n)) for n in sorted({*events, *records})]


def _head(
    replay_id: str,
    segments: list[ReplayEvent],
    recordings: list[ReplayRecording],
    timeline: list[dict[str, Any]],
) -> dict[str, Any]:
    first = segments[0] if segments else None
    starts = [s.replay_start_timestamp for s in segments if s.replay_start_timestamp]
    times = [s.timestamp for s in segments] + [e["timestamp"] for e in timeline]
    started = min(starts) if starts else min(times, default=0.0)
    finished = max(times, default=started)
    project_id = first.project_id if first else recordings[0].project_id
    return {
        "id": replay_id,
        "project_id": project_id,
        "replay_type": first.replay_type if first else None,
        "started_at": started,
        "finished_at": finished,
        "duration_ms": round(max(0.0, finished - started) * 1000.0, 3),
        "user": _user(first.user) if first else {},
        "browser": first.client.browser if first else None,
        "os": first.client.os if first else None,
        "environment": first.environment if first else None,
        "release": first.release if first else None,
        "platform": first.platform if first else None,
        "urls": list(dict.fromkeys(u for s in segments for u in s.urls)),
        "trace_ids": sorted({t for s in segments for t in s.trace_ids}),
        "error_ids": sorted({e for s in segments for e in s.error_ids}),
    }


def recording(store: SdkItemReader, replay_id: str) -> dict[str, Any]:
    """The rrweb events of every segment, for a player."""
    replay_id = normalize_replay_id(replay_id)
    recordings = store.replay_recordings(replay_id)
    if not recordings:
        raise NotFound(f"No recording of replay {replay_id} has arrived (yet)")
    return {
        "id": replay_id,
        "segments": [
            {
                "segment_id": r.segment_id,
                "events": recording_events(r.payload, MAX_RECORDING_SIZE),
            }
            for r in recordings
        ],
    }
