"""Envelope framing, from bytes: what the Python and JavaScript SDKs send, and worse."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from glasspane.errors import EnvelopeError, ItemError, LimitExceeded
from glasspane.protocol.envelope import Envelope, Item, parse_envelope

FIXTURES = Path(__file__).parent.parent / "fixtures" / "envelopes"
BIG = 10 * 1024 * 1024

HEADER = b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}'
EVENT = b'{"message":"hello"}'
BINARY = bytes(range(256)) + b"\n\n\x00\xff\n"  # newlines inside: only `length` frames it


def parse(body: bytes, max_item_size: int = BIG) -> Envelope:
    return parse_envelope(body, max_item_size)


def shape(envelope: Envelope) -> list[tuple[str, bytes]]:
    return [(item.type, item.payload) for item in envelope.items]


# -- framing that works ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            HEADER + b'\n{"type":"event","length":19}\n' + EVENT + b"\n",
            [("event", EVENT)],
            id="python-with-length-and-final-newline",
        ),
        pytest.param(
            HEADER + b'\n{"type":"event"}\n' + EVENT,
            [("event", EVENT)],
            id="js-without-length-or-final-newline",
        ),
        pytest.param(
            HEADER + b'\n{"type":"event"}\n' + EVENT + b"\n",
            [("event", EVENT)],
            id="without-length-with-final-newline",
        ),
        pytest.param(
            HEADER + b'\n{"type":"event","length":19}\n' + EVENT,
            [("event", EVENT)],
            id="with-length-without-final-newline",
        ),
        pytest.param(
            HEADER + b'\n{"type":"event"}\n' + EVENT + b'\n\n\n{"type":"session"}\n{"s":1}\n',
            [("event", EVENT), ("session", b'{"s":1}')],
            id="blank-lines-between-items",
        ),
        pytest.param(
            HEADER + b'\n{"type":"event","length":19}\n' + EVENT + b'\n\n{"type":"session"}\n{}',
            [("event", EVENT), ("session", b"{}")],
            id="blank-line-after-a-length-item",
        ),
        pytest.param(
            HEADER + b'\n{"type":"replay_event"}\n{"r":1}\n'
            b'{"type":"replay_recording","length":' + str(len(BINARY)).encode() + b"}\n" + BINARY,
            [("replay_event", b'{"r":1}'), ("replay_recording", BINARY)],
            id="binary-payload-with-length-at-eof",
        ),
        pytest.param(
            HEADER + b'\n{"type":"attachment","length":' + str(len(BINARY)).encode() + b"}\n"
            b"" + BINARY + b'\n{"type":"event"}\n' + EVENT,
            [("attachment", BINARY), ("event", EVENT)],
            id="binary-payload-with-length-then-another-item",
        ),
        pytest.param(
            HEADER + b'\n{"type":"attachment","length":0}\n\n{"type":"event"}\n' + EVENT,
            [("attachment", b""), ("event", EVENT)],
            id="zero-length-item",
        ),
        pytest.param(
            HEADER + b'\n{"type":"event"}',
            [("event", b"")],
            id="item-header-at-eof-has-empty-payload",
        ),
        pytest.param(HEADER, [], id="header-only-no-newline"),
        pytest.param(HEADER + b"\n", [], id="header-only"),
        pytest.param(HEADER + b"\n\n\n", [], id="header-then-blank-lines"),
        pytest.param(
            b'{}\n{"length":2}\nab\n',
            [("", b"ab")],
            id="item-without-type",
        ),
    ],
)
def test_framing(body: bytes, expected: list[tuple[str, bytes]]) -> None:
    envelope = parse(body)
    assert shape(envelope) == expected
    assert envelope.errors == []


def test_envelope_header_is_kept() -> None:
    envelope = parse(HEADER + b'\n{"type":"event"}\n' + EVENT)
    assert envelope.headers == {"event_id": "9ec79c33ec9942ab8353589fcb2e04dc"}


def test_items_are_numbered_from_one_skipping_blank_lines() -> None:
    envelope = parse(b'{}\n\n{"type":"a"}\n1\n\n{"type":"b"}\n2\n')
    assert [(item.index, item.type) for item in envelope.items] == [(1, "a"), (2, "b")]
    assert envelope.items[1].describe() == 'Envelope item 2 ("b")'


def test_item_headers_are_kept_whole() -> None:
    body = (
        b'{}\n{"type":"attachment","length":3,"filename":"a.txt","content_type":"text/plain"}\nabc'
    )
    (item,) = parse(body).items
    assert item.headers == {
        "type": "attachment",
        "length": 3,
        "filename": "a.txt",
        "content_type": "text/plain",
    }


def test_lines_are_split_on_lf_only() -> None:
    """No SDK sends CR. A stray CR stays in a payload, where JSON treats it as whitespace."""
    envelope = parse(b'{}\r\n{"type":"event"}\r\n{"a":1}\r\n')
    (item,) = envelope.items
    assert item.payload == b'{"a":1}\r'
    assert item.json() == {"a": 1}


def test_recorded_python_transaction() -> None:
    body = (FIXTURES / "python-transaction.envelope").read_bytes()
    envelope = parse(body)
    assert envelope.headers["trace"]["transaction"] == "uploadDocument"
    (item,) = envelope.items
    assert item.type == "transaction"
    assert len(item.payload) == item.headers["length"]
    assert item.json()["transaction"] == "uploadDocument"
    assert envelope.errors == []


# -- items as JSON -----------------------------------------------------------------------


def test_item_json() -> None:
    (item,) = parse(b'{}\n{"type":"event"}\n{"a":[1,2]}').items
    assert item.json() == {"a": [1, 2]}


def test_item_json_error_names_the_item_and_reason() -> None:
    item = Item(3, "transaction", {"type": "transaction"}, b'{"a":1 "b":2}')
    with pytest.raises(ItemError) as caught:
        item.json()
    assert str(caught.value).startswith('Envelope item 3 ("transaction") is not valid JSON')
    assert caught.value.reason == "invalid_json"


# -- broken framing: stop, keep what came before ------------------------------------------


@pytest.mark.parametrize(
    ("body", "kept", "message"),
    [
        pytest.param(
            b'{}\n{"type":"event"}\n{"a":1}\n{"type":"attachment","length":100}\nshort',
            [("event", b'{"a":1}')],
            'Envelope item 2 ("attachment") declares 100 bytes but only 5 follow',
            id="length-past-the-end",
        ),
        pytest.param(
            b'{}\n{"type":"event"}\n{"a":1}\n{"type":"event"\n{"b":2}\n{"type":"event"}\n{}',
            [("event", b'{"a":1}')],
            "Envelope item 2 header is not valid JSON",
            id="invalid-item-header",
        ),
        pytest.param(
            b'{}\n{"type":"event"}\n{"a":1}\n["type","event"]\n{}',
            [("event", b'{"a":1}')],
            "Envelope item 2 header must be a JSON object, got list",
            id="item-header-not-an-object",
        ),
        pytest.param(
            b'{}\n{"type":"attachment","length":-1}\nabc',
            [],
            "Envelope item 1 header has an invalid length: -1",
            id="negative-length",
        ),
        pytest.param(
            b'{}\n{"type":"attachment","length":"3"}\nabc',
            [],
            "Envelope item 1 header has an invalid length: '3'",
            id="string-length",
        ),
        pytest.param(
            b'{}\n{"type":"attachment","length":2.5}\nabc',
            [],
            "Envelope item 1 header has an invalid length: 2.5",
            id="fractional-length",
        ),
        pytest.param(
            b'{}\n{"type":"attachment","length":true}\nabc',
            [],
            "Envelope item 1 header has an invalid length: True",
            id="boolean-length",
        ),
    ],
)
def test_broken_item_framing_stops_and_keeps_earlier_items(
    body: bytes, kept: list[tuple[str, bytes]], message: str
) -> None:
    envelope = parse(body)
    assert shape(envelope) == kept
    (error,) = envelope.errors
    assert str(error).startswith(message)
    assert error.reason == "invalid_envelope"


# -- limits ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{}\n{"type":"attachment","length":11}\n' + b"x" * 11, id="with-length"),
        pytest.param(b'{}\n{"type":"event"}\n"' + b"x" * 9 + b'"', id="without-length"),
    ],
)
def test_item_over_max_item_size(body: bytes) -> None:
    with pytest.raises(LimitExceeded) as caught:
        parse(body, max_item_size=10)
    message = str(caught.value)
    assert "max_item_size" in message
    assert "GLASSPANE_MAX_ITEM_SIZE" in message
    assert "Envelope item 1" in message
    assert "11 bytes" in message


def test_item_exactly_at_max_item_size_is_accepted() -> None:
    envelope = parse(b'{}\n{"type":"attachment","length":10}\n' + b"x" * 10, max_item_size=10)
    assert shape(envelope) == [("attachment", b"x" * 10)]


def test_limit_applies_to_each_item_not_the_envelope() -> None:
    body = b"{}\n" + b'{"type":"attachment","length":8}\n12345678\n' * 5
    assert len(parse(body, max_item_size=8).items) == 5


# -- a broken envelope header: nothing is usable -----------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"", "Envelope is empty", id="empty"),
        pytest.param(b"\n\n  \n", "Envelope is empty", id="whitespace"),
        pytest.param(b"{not json\n{}\n{}", "Envelope header is not valid JSON", id="not-json"),
        pytest.param(b'"text"\n{}\n{}', "Envelope header must be a JSON object", id="string"),
        pytest.param(b"[1]\n", "Envelope header must be a JSON object, got list", id="list"),
        pytest.param(
            b'\n{"type":"event"}\n{}',
            "Envelope header is not valid JSON",
            id="blank-first-line",
        ),
    ],
)
def test_broken_envelope_header(body: bytes, message: str) -> None:
    with pytest.raises(EnvelopeError) as caught:
        parse(body)
    assert str(caught.value).startswith(message)


def test_envelope_header_tolerates_surrounding_whitespace() -> None:
    envelope = parse(b'  {"a":1} \n{"type":"event"}\n{}')
    assert envelope.headers == {"a": 1}
    assert shape(envelope) == [("event", b"{}")]


def test_payload_is_not_parsed_by_the_framing() -> None:
    """A broken payload is the normaliser's business: the items beside it survive."""
    envelope = parse(b'{}\n{"type":"event"}\n{broken\n{"type":"event"}\n{"ok":1}\n')
    assert shape(envelope) == [("event", b"{broken"), ("event", b'{"ok":1}')]
    assert envelope.errors == []
    assert envelope.items[1].json() == {"ok": 1}


def test_json_with_spaces_in_headers() -> None:
    header = orjson.dumps({"type": "event", "length": 2}).replace(b":", b": ")
    envelope = parse(b'{ "a" : 1 }\n' + header + b"\n{}\n")
    assert shape(envelope) == [("event", b"{}")]
