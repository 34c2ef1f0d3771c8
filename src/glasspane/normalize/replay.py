"""Session Replay items → :class:`ReplayEvent` and :class:`ReplayRecording`.

A segment arrives as two items of one envelope: ``replay_event`` (JSON: who,
where, and the trace and error ids seen during the segment) and
``replay_recording`` (bytes: a ``{"segment_id":N}`` line, then the rrweb events,
usually zlib-compressed). Both carry the replay id only in the envelope header
(``event_id``) or, for the event, in ``replay_id``.
"""

from __future__ import annotations

from typing import Any

from glasspane.domain import Batch, ReplayEvent, ReplayRecording
from glasspane.errors import ItemError, LimitExceeded, ProtocolError
from glasspane.normalize import enrich
from glasspane.normalize.context import IngestContext
from glasspane.normalize.values import (
    hex_id,
    mapping,
    optional_hex_id,
    string_tags,
    text,
    timestamp,
)
from glasspane.protocol.replay import recording_events, split_recording

#: A recording larger than this once decompressed is refused (the default of
#: max_decompressed_size: a segment is a few KiB to a few MiB).
MAX_RECORDING_SIZE = 100 * 1024 * 1024
MAX_URLS = 100


def _segment_id(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ItemError(f"{what} segment_id must be a non-negative integer, got {value!r}")
    return value


def _ids(value: Any, length: int) -> list[str]:
    """The well-formed ids of a list; the SDK's odd entries are skipped, not fatal."""
    ids: list[str] = []
    for raw in value if isinstance(value, list) else []:
        try:
            ids.append(hex_id(raw, length, "id"))
        except ItemError:
            continue
    return ids


def _urls(value: Any) -> list[str]:
    return [u for u in value if isinstance(u, str)][:MAX_URLS] if isinstance(value, list) else []


def _replay_id(payload: dict[str, Any], ctx: IngestContext, what: str) -> str:
    raw = payload.get("replay_id") or ctx.envelope_event_id
    if raw is None:
        raise ItemError(f"{what} has no replay_id (nor an event_id in the envelope header)")
    return hex_id(raw, 32, f"{what} replay_id")


def normalize_replay_event(payload: Any, ctx: IngestContext, what: str, batch: Batch) -> None:
    if not isinstance(payload, dict):
        raise ItemError(f"{what} must be a JSON object")
    raw_ts = payload.get("timestamp")
    start = payload.get("replay_start_timestamp")
    user = ctx.user(payload.get("user"))
    batch.replay_events.append(
        ReplayEvent(
            project_id=ctx.project_id,
            replay_id=_replay_id(payload, ctx, what),
            segment_id=_segment_id(payload.get("segment_id"), what),
            timestamp=ctx.received_at if raw_ts is None else timestamp(raw_ts, f"{what} timestamp"),
            replay_start_timestamp=None
            if start is None
            else timestamp(start, f"{what} replay_start_timestamp"),
            replay_type=text(payload.get("replay_type")),
            trace_ids=_ids(payload.get("trace_ids"), 32),
            error_ids=_ids(payload.get("error_ids"), 32),
            urls=_urls(payload.get("urls")),
            environment=text(payload.get("environment")),
            release=text(payload.get("release")),
            platform=text(payload.get("platform")),
            user=user,
            client=enrich.from_event(payload, user.ip_address),
            tags=string_tags(payload.get("tags")),
            sdk=mapping(payload.get("sdk")),
            received_at=ctx.received_at,
        )
    )


def normalize_replay_recording(payload: bytes, ctx: IngestContext, what: str, batch: Batch) -> None:
    """The recording, checked to decode; kept compressed as it came."""
    replay_id = optional_hex_id(ctx.envelope_event_id, 32, f"{what} envelope event_id")
    if replay_id is None:
        raise ItemError(f"{what} needs the replay id as event_id in the envelope header")
    try:
        recording = split_recording(payload)
        events = recording_events(recording.body, MAX_RECORDING_SIZE)
    except (ProtocolError, LimitExceeded) as exc:
        raise ItemError(f"{what}: {exc}") from None
    if recording.segment_id is None:
        raise ItemError(f'{what} must start with a {{"segment_id":N}} line')
    batch.replay_recordings.append(
        ReplayRecording(
            project_id=ctx.project_id,
            replay_id=replay_id,
            segment_id=recording.segment_id,
            payload=recording.body,
            events=len(events),
            received_at=ctx.received_at,
        )
    )
