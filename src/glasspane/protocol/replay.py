"""The ``replay_recording`` payload of Session Replay, parsed from bytes.

    {"segment_id":0}\\n<rrweb events: a JSON array, zlib-compressed (78 9c ...)>

The browser SDK compresses the array in a web worker; with compression off it
sends the JSON as is. The rrweb events carry mixed units: rrweb's own events
are in integer milliseconds, many of Sentry's custom events (``type`` 5) in
float seconds; :func:`event_seconds` tells them apart as the SDK itself does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from glasspane.errors import LimitExceeded, ProtocolError
from glasspane.protocol.streams import decompress

#: Epoch values above this are milliseconds (the SDK's own rule: year 2286 in seconds).
MILLISECONDS_FROM = 9_999_999_999


@dataclass(slots=True)
class Recording:
    segment_id: int | None  # from the header line; None if absent
    body: bytes  # the events as sent (compressed or not), without the header line
    compressed: bool


def split_recording(payload: bytes) -> Recording:
    """Header line and body; :class:`ProtocolError` if the header is not JSON."""
    newline = payload.find(b"\n")
    if newline < 0 or payload[:1] != b"{":
        raise ProtocolError('Replay recording must start with a {"segment_id":N} line')
    try:
        header = orjson.loads(payload[:newline])
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"Replay recording header is not valid JSON: {exc}") from None
    segment = header.get("segment_id") if isinstance(header, dict) else None
    if not isinstance(segment, int) or isinstance(segment, bool):
        segment = None
    body = payload[newline + 1 :]
    return Recording(segment, body, compressed=body[:1] not in (b"[", b" ", b"\n"))


def recording_events(body: bytes, max_size: int) -> list[dict[str, Any]]:
    """The rrweb events of a recording body (zlib or plain JSON).

    Decompression stops past ``max_size`` bytes (:class:`LimitExceeded`);
    anything but a JSON array is a :class:`ProtocolError`. Entries that are
    not objects are left out.
    """
    if body[:1] != b"[":
        try:
            body = decompress(body, "deflate", max_size)
        except LimitExceeded:
            raise LimitExceeded(
                f"Replay recording decompresses to more than {max_size} bytes"
            ) from None
        except ProtocolError as exc:
            raise ProtocolError(f"Replay recording is neither JSON nor zlib data: {exc}") from None
    try:
        events = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"Replay recording events are not valid JSON: {exc}") from None
    if not isinstance(events, list):
        raise ProtocolError("Replay recording events must be a JSON array")
    return [event for event in events if isinstance(event, dict)]


def event_seconds(value: Any) -> float | None:
    """Epoch seconds from an rrweb timestamp in milliseconds or seconds."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value / 1000.0 if value > MILLISECONDS_FROM else float(value)
