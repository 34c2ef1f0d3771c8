"""The Sentry envelope format, parsed from bytes; nothing about HTTP or storage.

    <envelope header JSON>\\n
    <item header JSON>\\n<payload>\\n
    ...

An item with a ``length`` header has exactly that many payload bytes; without
one (the JavaScript SDKs' JSON items) the payload runs to the next newline or
to the end. The final newline is optional and blank lines between items are
skipped.

A broken envelope header makes the whole envelope unusable
(:class:`EnvelopeError`). A broken item header loses the framing of what
follows, so parsing stops there and the items before it are kept; a broken
item *payload* is the normaliser's business, so the items beside it survive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from glasspane.errors import EnvelopeError, ItemError, LimitExceeded


@dataclass(slots=True)
class Item:
    index: int  # 1-based position, as messages name it
    type: str
    headers: dict[str, Any]
    payload: bytes

    def describe(self) -> str:
        return f'Envelope item {self.index} ("{self.type}")'

    def json(self) -> Any:
        """The payload as JSON; :class:`ItemError` names the item when it is not."""
        try:
            return orjson.loads(self.payload)
        except orjson.JSONDecodeError as exc:
            raise ItemError(f"{self.describe()} is not valid JSON: {exc}", "invalid_json") from None


@dataclass(slots=True)
class Envelope:
    headers: dict[str, Any]
    items: list[Item] = field(default_factory=list)
    #: Framing problems after which the rest of the body could not be read.
    errors: list[ItemError] = field(default_factory=list)


def _json_object(line: bytes, what: str, error: type[Exception]) -> dict[str, Any]:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise error(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise error(f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def _next_line(body: bytes, pos: int) -> tuple[bytes, int]:
    end = body.find(b"\n", pos)
    if end < 0:
        return body[pos:], len(body)
    return body[pos:end], end + 1


def parse_envelope(body: bytes, max_item_size: int, max_items: int = 0) -> Envelope:
    """Split an envelope into its header and items.

    Raises :class:`EnvelopeError` for a missing or malformed envelope header
    and :class:`LimitExceeded` for an item larger than ``max_item_size`` or
    for more than ``max_items`` items (0: no limit).
    """
    if not body.strip():
        raise EnvelopeError("Envelope is empty: expected a JSON header line and items")
    line, pos = _next_line(body, 0)
    headers = _json_object(line.strip(), "Envelope header", EnvelopeError)
    envelope = Envelope(headers)
    index = 0
    while pos < len(body):
        line, pos = _next_line(body, pos)
        if not line.strip():
            continue
        index += 1
        if max_items and index > max_items:
            raise LimitExceeded(
                f"Envelope has more than {max_items} items (setting max_envelope_items, "
                "GLASSPANE_MAX_ENVELOPE_ITEMS)"
            )
        try:
            item_headers = _json_object(line, f"Envelope item {index} header", ItemError)
            item, pos = _read_item(body, pos, index, item_headers, max_item_size)
        except ItemError as exc:
            exc.reason = "invalid_envelope"
            envelope.errors.append(exc)
            break
        envelope.items.append(item)
    return envelope


def _read_item(
    body: bytes, pos: int, index: int, headers: dict[str, Any], max_item_size: int
) -> tuple[Item, int]:
    item_type = str(headers.get("type") or "")
    length = headers.get("length")
    if length is None:
        payload, pos = _next_line(body, pos)
    else:
        if not isinstance(length, int) or isinstance(length, bool) or length < 0:
            raise ItemError(f"Envelope item {index} header has an invalid length: {length!r}")
        if pos + length > len(body):
            raise ItemError(
                f'Envelope item {index} ("{item_type}") declares {length} bytes '
                f"but only {len(body) - pos} follow"
            )
        payload = body[pos : pos + length]
        pos += length
        if body[pos : pos + 1] == b"\n":
            pos += 1
    if len(payload) > max_item_size:
        raise LimitExceeded(
            f'Envelope item {index} ("{item_type}") is {len(payload)} bytes, over the '
            f"{max_item_size}-byte limit (setting max_item_size, GLASSPANE_MAX_ITEM_SIZE)"
        )
    return Item(index, item_type, headers, payload), pos
