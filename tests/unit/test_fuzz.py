"""Hostile input, generated: the parsers give clear errors, never crashes.

Hypothesis drives the envelope parser and normaliser, the OTLP decoder and
normalisers, and the scrubbing/limits pass with random bytes and random JSON.
The only exceptions allowed are glasspane's own (which become 400/413 answers).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glasspane.errors import GlasspaneError
from glasspane.ingest.otlp import NORMALIZERS
from glasspane.normalize.context import IngestContext
from glasspane.normalize.envelope import normalize_envelope
from glasspane.normalize.sanitize import Policy, sanitize_batch
from glasspane.normalize.scrub import Scrubber
from glasspane.protocol import otlp
from glasspane.protocol.envelope import parse_envelope

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CTX = IngestContext(1, "fuzz", 1_700_000_000.0, client_ip="127.0.0.1", max_spans=50)
POLICY = Policy(200, 8, Scrubber())

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=25,
)
ITEM_TYPES = [
    "event",
    "transaction",
    "span",
    "log",
    "trace_metric",
    "session",
    "sessions",
    "check_in",
    "profile",
    "profile_chunk",
    "replay_event",
    "replay_recording",
    "feedback",
    "user_report",
    "client_report",
    "attachment",
    "nonsense",
]
# Payloads shaped a little like the real ones, so the normalisers get past their first check.
shaped = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["transaction", "error", "default"]),
        "event_id": st.text(max_size=40),
        "timestamp": json_values,
        "start_timestamp": json_values,
        "contexts": st.dictionaries(st.sampled_from(["trace", "os", "x"]), json_values, max_size=3),
        "spans": st.lists(json_values, max_size=4),
        "exception": json_values,
        "items": st.lists(json_values, max_size=4),
        "request": json_values,
        "user": json_values,
        "breadcrumbs": json_values,
    },
)


def _envelope(header: Any, items: list[tuple[str, Any, bool]]) -> bytes:
    lines = [json.dumps(header).encode()]
    for item_type, payload, with_length in items:
        body = json.dumps(payload).encode()
        item_header: dict[str, Any] = {"type": item_type}
        if with_length:
            item_header["length"] = len(body)
        lines += [json.dumps(item_header).encode(), body]
    return b"\n".join(lines)


def _parse_and_normalize(body: bytes) -> None:
    try:
        envelope = parse_envelope(body, 1024 * 1024, 100)
    except GlasspaneError:
        return
    batch, problems = normalize_envelope(envelope, CTX)  # never raises: items are counted
    sanitize_batch(batch, POLICY)
    assert all(isinstance(p, str) and p for p in problems)


@FUZZ
@given(st.binary(max_size=400))
def test_envelope_parser_on_random_bytes(body: bytes) -> None:
    _parse_and_normalize(body)


@FUZZ
@given(
    st.dictionaries(st.sampled_from(["event_id", "dsn", "trace", "sent_at"]), json_values),
    st.lists(
        st.tuples(st.sampled_from(ITEM_TYPES), json_values | shaped, st.booleans()), max_size=4
    ),
)
def test_envelope_normaliser_on_random_items(header: dict[str, Any], items: list) -> None:
    _parse_and_normalize(_envelope(header, items))


@FUZZ
@given(
    st.binary(max_size=300),
    st.sampled_from(["traces", "logs", "metrics"]),
)
def test_otlp_decoder_on_random_protobuf(body: bytes, signal: str) -> None:
    _decode_and_normalize(signal, body, "application/x-protobuf")


otlp_json = st.fixed_dictionaries(
    {},
    optional={
        "resourceSpans": json_values,
        "resourceLogs": json_values,
        "resourceMetrics": json_values,
    },
)


@FUZZ
@given(otlp_json | json_values, st.sampled_from(["traces", "logs", "metrics"]))
def test_otlp_decoder_on_random_json(document: Any, signal: str) -> None:
    body = json.dumps(document).encode()
    _decode_and_normalize(signal, body, "application/json")


def _decode_and_normalize(signal: str, body: bytes, content_type: str) -> None:
    try:
        message = otlp.decode(signal, body, content_type)
    except GlasspaneError:
        return
    sanitize_batch(NORMALIZERS[signal](message, CTX), POLICY)


@pytest.mark.parametrize("signal", ["traces", "logs", "metrics"])
def test_otlp_json_with_bad_ids_is_a_clear_error(signal: str) -> None:
    key = {"traces": "resourceSpans", "logs": "resourceLogs", "metrics": "resourceMetrics"}[signal]
    body = orjson.dumps({key: [{"scopeSpans": 5, "traceId": base64.b64encode(b"x").decode()}]})
    try:
        otlp.decode(signal, body, "application/json")
    except GlasspaneError as exc:
        assert str(exc).startswith(f"OTLP {signal}")
