"""Give a recorded Sentry envelope fresh ids and timestamps, so it can be replayed.

Pure functions, no I/O. A recorded envelope is analysed once into an
:class:`EnvelopeTemplate`; :func:`rewrite` then makes a new envelope per request:

* every id found under an id key (:data:`ID_KEYS`) gets a new random id of the
  same length (32 or 16 hex digits). One old id maps to one new id across the
  whole envelope, so parent links stay intact, and the map is applied to the
  JSON *text*, so an id also changes where it hides inside a string (baggage,
  ``sentry-trace``);
* every timestamp under a timestamp key (:data:`TIME_KEYS`), RFC 3339 string or
  float seconds, moves by one delta that puts the latest of them at ``now``, so
  durations are kept to the microsecond;
* each item's ``length`` header is recomputed (and left out when the recording
  had none, as JS SDKs send it).

Non-JSON payloads (attachments, replay recordings) are copied unchanged.

Why the template is pre-cut text rather than a document to parse, edit and dump
per request: filling slots is ~10x cheaper, and the load generator shares the
machine with the server it measures. The template's JSON is re-serialized once
by orjson, so the literals found in the parsed document are exactly those in
the text.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

ID_KEYS = frozenset({"event_id", "trace_id", "span_id", "parent_span_id", "replay_id"})
TIME_KEYS = frozenset(
    {"timestamp", "start_timestamp", "end_timestamp", "sent_at", "replay_start_timestamp"}
)
_HEX_ID = re.compile(r"[0-9a-f]{32}|[0-9a-f]{16}")
# Anything that may be an id or a timestamp; only the literals found under an id
# or timestamp key become slots, everything else stays as it was.
_TOKEN = re.compile(
    rb"(?<![0-9a-f])(?:[0-9a-f]{32}|[0-9a-f]{16})(?![0-9a-f])"
    rb"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?"
    rb"|(?<![\d.])\d{10}(?:\.\d+)?(?![\d.])"
)

Item = tuple[dict[str, Any], bytes]
Split = tuple[tuple[bytes, ...], tuple[bytes, ...]]


class EnvelopeFormatError(ValueError):
    """The bytes are not a Sentry envelope this module can read."""


def parse_envelope(body: bytes) -> tuple[dict[str, Any], list[Item]]:
    """Split an envelope into its header and ``(item header, payload)`` pairs.

    Follows what real SDKs send: a payload is ``length`` bytes when the item
    header has one, else it runs to the next newline or the end of the body.
    """
    header_line, _, rest = body.partition(b"\n")
    header = _json_object(header_line, "envelope header")
    items: list[Item] = []
    pos = 0
    while pos < len(rest):
        line, pos = _line(rest, pos)
        if not line.strip():
            continue
        item_header = _json_object(line, f"header of item {len(items) + 1}")
        if "length" in item_header:
            end = pos + int(item_header["length"])
            if end > len(rest):
                raise EnvelopeFormatError(f"item {len(items) + 1} is shorter than its length")
            payload, pos = rest[pos:end], end + (rest[end : end + 1] == b"\n")
        else:
            payload, pos = _line(rest, pos)
        items.append((item_header, payload))
    return header, items


def serialize_envelope(header: dict[str, Any], items: list[Item]) -> bytes:
    """Join header and items as the Python SDK does (every part ends in ``\\n``).

    ``length`` is set to the payload's byte count when the item header has one.
    """
    return _join(orjson.dumps(header), items)


@dataclass(frozen=True)
class EnvelopeTemplate:
    """A recorded envelope, analysed once so that each rewrite is cheap.

    Each JSON part is kept as its text cut around the literals to replace:
    ``(chunks, slots)`` with ``len(chunks) == len(slots) + 1``.
    """

    header: Split
    items: tuple[tuple[dict[str, Any], Split | bytes], ...]  # bytes: copied as is
    ids: tuple[bytes, ...]
    iso_times: dict[bytes, datetime] = field(repr=False)
    float_times: dict[bytes, float] = field(repr=False)
    latest: float  # the latest timestamp in the recording, epoch seconds
    item_types: tuple[str, ...]
    span_count: int  # spans in it: a transaction's root and children, or a span batch

    @classmethod
    def from_bytes(cls, body: bytes) -> EnvelopeTemplate:
        header, items = parse_envelope(body)
        docs: list[tuple[dict[str, Any] | None, Any]] = [(None, header)]
        docs += [(h, doc) for h, p in items if (doc := _maybe_json(p)) is not None]
        ids: set[str] = set()
        times: list[tuple[str, Any]] = []
        for _, doc in docs:
            _collect(doc, ids, times)
        parsed = ((v, _parse_iso(v)) for v, kind in times if kind == "string")
        iso = {v.encode(): moment for v, moment in parsed if moment}
        floats = {orjson.dumps(v): float(v) for v, kind in times if kind == "number"}
        if not iso and not floats:
            raise EnvelopeFormatError("the envelope has no timestamp to shift")
        literals = {i.encode() for i in ids} | iso.keys() | floats.keys()

        def split(payload: bytes) -> Split | bytes:
            doc = _maybe_json(payload)
            return payload if doc is None else _split(orjson.dumps(doc), literals)

        return cls(
            header=_split(orjson.dumps(header), literals),
            items=tuple((h, split(p)) for h, p in items),
            ids=tuple(sorted(i.encode() for i in ids)),
            iso_times=iso,
            float_times=floats,
            latest=max([d.timestamp() for d in iso.values()] + list(floats.values())),
            item_types=tuple(str(h.get("type")) for h, _ in items),
            span_count=sum(_span_count(h.get("type"), doc) for h, doc in docs if h),
        )


def rewrite(
    template: EnvelopeTemplate, now: float, rng: random.Random
) -> tuple[bytes, dict[str, str]]:
    """A new envelope from ``template`` with new ids and its latest timestamp at ``now``.

    Returns the envelope and the old → new id map that was applied.
    """
    ids = {old: _random_hex(len(old), rng) for old in template.ids}
    replace = dict(ids)
    step = timedelta(microseconds=round((now - template.latest) * 1e6))
    for literal, moment in template.iso_times.items():
        replace[literal] = (moment + step).isoformat(timespec="microseconds")[:-6].encode() + b"Z"
    for literal, seconds in template.float_times.items():
        replace[literal] = orjson.dumps(seconds + step.total_seconds())

    def fill(split: Split | bytes) -> bytes:
        if isinstance(split, bytes):
            return split
        chunks, slots = split
        out = [chunks[0]]
        for slot, chunk in zip(slots, chunks[1:], strict=True):
            out += [replace[slot], chunk]
        return b"".join(out)

    items = [(h, fill(p)) for h, p in template.items]
    body = _join(fill(template.header), items)
    return body, {old.decode(): new.decode() for old, new in ids.items()}


def _split(text: bytes, literals: set[bytes]) -> Split:
    """Cut ``text`` around every occurrence of one of ``literals``."""
    chunks, slots, start = [], [], 0
    for match in _TOKEN.finditer(text):
        if match.group() in literals:
            chunks.append(text[start : match.start()])
            slots.append(match.group())
            start = match.end()
    chunks.append(text[start:])
    return tuple(chunks), tuple(slots)


def _random_hex(digits: int, rng: random.Random) -> bytes:
    return f"{rng.getrandbits(digits * 4):0{digits}x}".encode()


def _join(header: bytes, items: list[Item]) -> bytes:
    parts = [header, b"\n"]
    for item_header, payload in items:
        if "length" in item_header:
            item_header = {**item_header, "length": len(payload)}
        parts += [orjson.dumps(item_header), b"\n", payload, b"\n"]
    return b"".join(parts)


def _collect(doc: Any, ids: set[str], times: list[tuple[str, Any]]) -> None:
    """Add the ids and the ``(value, kind)`` of the timestamps found in ``doc``."""
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            if key in ID_KEYS and isinstance(value, str) and _HEX_ID.fullmatch(value):
                ids.add(value)
            elif key in TIME_KEYS and isinstance(value, str):
                times.append((value, "string"))
            elif key in TIME_KEYS and _is_epoch_seconds(value):
                times.append((value, "number"))
            else:
                stack.append(value)


def _is_epoch_seconds(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 1e9


def _parse_iso(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _span_count(item_type: Any, doc: Any) -> int:
    if not isinstance(doc, dict):
        return 0
    if item_type == "transaction":
        return 1 + len(doc.get("spans") or [])
    return len(doc.get("items") or []) if item_type == "span" else 0


def _line(data: bytes, pos: int) -> tuple[bytes, int]:
    """The bytes from ``pos`` to the next newline (or the end), and where to go on."""
    end = data.find(b"\n", pos)
    return (data[pos:], len(data)) if end < 0 else (data[pos:end], end + 1)


def _maybe_json(payload: bytes) -> Any:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None


def _json_object(line: bytes, what: str) -> dict[str, Any]:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise EnvelopeFormatError(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise EnvelopeFormatError(f"{what} is not a JSON object")
    return value
