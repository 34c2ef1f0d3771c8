"""A parsed envelope → one Batch: usable items kept, dropped ones counted with a reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from glasspane.domain import Outcome
from glasspane.errors import ItemError
from glasspane.normalize.context import IngestContext
from glasspane.normalize.envelope import CATEGORIES, normalize_envelope, normalize_item
from glasspane.protocol.envelope import Envelope, Item, parse_envelope

FIXTURES = Path(__file__).parent.parent / "fixtures" / "envelopes"
NOW = 1795898462.0
TRACE = "3b4213ac6fd49503cb540c7b9b6ad0b8"
ROOT = "a1b2c3d4e5f60718"


def ctx() -> IngestContext:
    return IngestContext(project_id=9, service="web", received_at=NOW, client_ip="192.0.2.1")


def transaction(name: str = "checkout") -> dict[str, Any]:
    return {
        "type": "transaction",
        "transaction": name,
        "start_timestamp": NOW - 1,
        "timestamp": NOW,
        "contexts": {"trace": {"trace_id": TRACE, "span_id": ROOT}},
        "spans": [{"span_id": "0f1e2d3c4b5a6978", "start_timestamp": NOW - 0.5}],
    }


def span_batch() -> dict[str, Any]:
    return {
        "version": 2,
        "items": [
            {"trace_id": TRACE, "span_id": ROOT, "is_segment": True, "start_timestamp": NOW},
            {"trace_id": TRACE, "span_id": "0f1e2d3c4b5a6978", "start_timestamp": NOW},
        ],
    }


def item(index: int, type_: str, payload: Any) -> Item:
    raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return Item(index, type_, {"type": type_}, raw)


def envelope(*items: tuple[str, Any]) -> Envelope:
    return Envelope({}, [item(i, t, p) for i, (t, p) in enumerate(items, start=1)])


def outcomes(batch_outcomes: list[Outcome]) -> list[tuple[str, str, int]]:
    return [(o.category, o.reason, o.quantity) for o in batch_outcomes]


# -- each supported item type ------------------------------------------------------------


def test_event_item() -> None:
    batch, problems = normalize_envelope(envelope(("event", {"message": "hi"})), ctx())
    assert [e.title for e in batch.errors] == ["hi"]
    assert batch.spans == [] and batch.outcomes == [] and problems == []


def test_transaction_item() -> None:
    batch, problems = normalize_envelope(envelope(("transaction", transaction())), ctx())
    assert [s.is_segment for s in batch.spans] == [True, False]
    assert batch.errors == [] and problems == []


def test_transaction_sent_as_an_event_item() -> None:
    batch, _ = normalize_envelope(envelope(("event", transaction())), ctx())
    assert len(batch.spans) == 2
    assert batch.errors == []


def test_span_item() -> None:
    batch, problems = normalize_envelope(envelope(("span", span_batch())), ctx())
    assert [s.span_id for s in batch.spans] == [ROOT, "0f1e2d3c4b5a6978"]
    assert problems == []


def test_client_report_becomes_outcomes() -> None:
    report = {
        "timestamp": NOW - 3,
        "discarded_events": [
            {"reason": "sample_rate", "category": "transaction", "quantity": 3},
            {"reason": "network_error", "category": "error", "quantity": 1},
            {"reason": "queue_overflow", "category": "span", "quantity": "2"},  # not an int
            "junk",
        ],
    }
    batch, problems = normalize_envelope(envelope(("client_report", report)), ctx())
    assert outcomes(batch.outcomes) == [
        ("transaction", "client:sample_rate", 3),
        ("error", "client:network_error", 1),
    ]
    assert all(o.project_id == 9 and o.timestamp == NOW for o in batch.outcomes)
    assert problems == []
    assert batch.spans == [] and batch.errors == []


@pytest.mark.parametrize(
    "report",
    [
        pytest.param({}, id="no-discarded-events"),
        pytest.param({"discarded_events": None}, id="none"),
        pytest.param({"discarded_events": []}, id="empty"),
        pytest.param({"discarded_events": {"reason": "x"}}, id="object"),
        pytest.param({"discarded_events": 5}, id="number"),
        pytest.param({"discarded_events": True}, id="boolean"),
        pytest.param(
            {"discarded_events": [{"reason": "x", "category": "error", "quantity": True}]},
            id="boolean-quantity",
        ),
        pytest.param([], id="list-payload"),
        pytest.param("report", id="string-payload"),
    ],
)
def test_odd_client_reports_never_raise_nor_count_client_outcomes(report: Any) -> None:
    batch, _ = normalize_envelope(envelope(("client_report", report)), ctx())
    assert [o for o in batch.outcomes if o.reason.startswith("client:")] == []


def test_recorded_python_transaction() -> None:
    body = (FIXTURES / "python-transaction.envelope").read_bytes()
    batch, problems = normalize_envelope(parse_envelope(body, 10 * 1024 * 1024), ctx())
    assert len(batch.spans) == 11
    assert problems == [] and batch.outcomes == []


# -- dropped items: kept beside, counted, reported ---------------------------------------


def test_invalid_json_item_is_dropped_and_the_rest_kept() -> None:
    env = envelope(
        ("event", {"message": "before"}),
        ("transaction", b'{"type":"transaction",'),
        ("event", {"message": "after"}),
    )
    batch, problems = normalize_envelope(env, ctx())
    assert [e.title for e in batch.errors] == ["before", "after"]
    assert outcomes(batch.outcomes) == [("transaction", "invalid_json", 1)]
    (problem,) = problems
    assert problem.startswith('Envelope item 2 ("transaction") is not valid JSON')


def test_unusable_item_is_counted_as_invalid() -> None:
    broken = transaction()
    del broken["contexts"]
    env = envelope(("transaction", broken), ("transaction", transaction("ok")))
    batch, problems = normalize_envelope(env, ctx())
    assert {s.transaction for s in batch.spans} == {"ok"}
    assert outcomes(batch.outcomes) == [("transaction", "invalid", 1)]
    assert problems == [
        'Envelope item 1 ("transaction") has no contexts.trace: '
        "a transaction needs trace_id and span_id"
    ]


@pytest.mark.parametrize(
    ("type_", "category"),
    [
        ("attachment", "attachment"),
        ("replay_video", "replay"),
        ("", "unknown"),
    ],
)
def test_unsupported_types_are_counted_quietly(type_: str, category: str) -> None:
    env = envelope(("event", {"message": "kept"}), (type_, b"\x00 not even json"))
    batch, problems = normalize_envelope(env, ctx())
    assert [e.title for e in batch.errors] == ["kept"]
    assert outcomes(batch.outcomes) == [(category, "unsupported", 1)]
    assert problems == []  # not the client's fault: no message


def test_outcomes_carry_project_and_time() -> None:
    batch, _ = normalize_envelope(envelope(("attachment", {})), ctx())
    (outcome,) = batch.outcomes
    assert (outcome.project_id, outcome.timestamp) == (9, NOW)


def test_framing_errors_are_counted_after_the_items() -> None:
    body = b'{}\n{"type":"event"}\n{"message":"kept"}\n{"type":"attachment","length":99}\nab'
    batch, problems = normalize_envelope(parse_envelope(body, 1000), ctx())
    assert [e.title for e in batch.errors] == ["kept"]
    assert outcomes(batch.outcomes) == [("unknown", "invalid_envelope", 1)]
    (problem,) = problems
    assert "declares 99 bytes" in problem


REPORT = {"discarded_events": [{"reason": "x", "category": "span", "quantity": 4}]}


def test_mixed_envelope_counts_each_reason() -> None:
    env = envelope(
        ("transaction", transaction()),
        ("attachment", b"{}"),
        ("event", b"not json"),
        ("span", {"items": "nope"}),
        ("client_report", REPORT),
    )
    batch, problems = normalize_envelope(env, ctx())
    assert len(batch.spans) == 2
    assert outcomes(batch.outcomes) == [
        ("attachment", "unsupported", 1),
        ("error", "invalid_json", 1),
        ("span", "invalid", 1),
        ("span", "client:x", 4),
    ]
    assert len(problems) == 2
    assert problems[0].startswith('Envelope item 3 ("event")')
    assert problems[1].startswith('Envelope item 4 ("span")')


def test_empty_envelope() -> None:
    batch, problems = normalize_envelope(Envelope({}), ctx())
    assert len(batch) == 0
    assert problems == []


# -- one item ----------------------------------------------------------------------------


def test_normalize_item_raises_for_unsupported() -> None:
    with pytest.raises(ItemError) as caught:
        normalize_item(item(2, "attachment", {}), ctx())
    assert caught.value.reason == "unsupported"
    assert str(caught.value) == 'Envelope item 2 ("attachment") is not a type glasspane stores'


@pytest.mark.parametrize("payload", [[], "x", 5, None])
def test_transaction_that_is_not_an_object(payload: Any) -> None:
    with pytest.raises(ItemError, match=r'Envelope item 1 \("transaction"\) must be a JSON object'):
        normalize_item(item(1, "transaction", payload), ctx())


def test_every_handled_type_has_a_category() -> None:
    for type_ in ("event", "transaction", "span", "client_report"):
        assert type_ in CATEGORIES
