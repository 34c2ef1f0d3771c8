"""The store contract (``glasspane.store.api``), checked on every backend."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from envelopes import error_event, transaction
from glasspane.domain import Batch, Outcome
from glasspane.errors import Conflict
from glasspane.normalize.context import IngestContext
from glasspane.normalize.event import normalize_event
from glasspane.normalize.transaction import normalize_transaction
from glasspane.store.api import Store
from store.backends import open_backend


def ctx(project_id: int = 1) -> IngestContext:
    return IngestContext(project_id, f"svc-{project_id}", time.time())


def spans_of(payload: dict, project_id: int = 1) -> Batch:
    return Batch(spans=normalize_transaction(payload, ctx(project_id), "test"))


def test_written_spans_come_back_by_start_time(store: Store) -> None:
    payload = transaction(children=3)
    trace_id = payload["contexts"]["trace"]["trace_id"]
    store.write(spans_of(payload)).result(timeout=10)
    spans = store.trace_spans(trace_id)
    assert len(spans) == 4
    assert [s.start_timestamp for s in spans] == sorted(s.start_timestamp for s in spans)
    segment = next(s for s in spans if s.is_segment)
    assert segment.transaction == "checkout" and segment.service == "svc-1"
    assert all(s.trace_id == trace_id for s in spans)


def test_a_trace_spans_projects(store: Store) -> None:
    first = transaction()
    trace_id = first["contexts"]["trace"]["trace_id"]
    second = transaction(trace_id=trace_id, name="process")
    store.write(spans_of(first, 1)).result(timeout=10)
    store.write(spans_of(second, 2)).result(timeout=10)
    assert {s.project_id for s in store.trace_spans(trace_id)} == {1, 2}


def test_unknown_ids_read_as_empty(store: Store) -> None:
    assert store.trace_spans("0" * 32) == []
    assert store.trace_errors("0" * 32) == []


def test_errors_get_one_issue_per_fingerprint(store: Store) -> None:
    trace_id = transaction()["contexts"]["trace"]["trace_id"]
    events = [normalize_event(error_event(trace_id), ctx(), "e") for _ in range(2)]
    other = error_event(trace_id)
    other["exception"]["values"][0]["type"] = "KeyError"
    events.append(normalize_event(other, ctx(), "e"))
    futures = [store.write(Batch(errors=[e])) for e in events]
    for future in futures:
        future.result(timeout=10)
    errors = store.trace_errors(trace_id)
    assert len(errors) == 3
    by_type = {e.type: e.issue_id for e in errors}
    assert len({e.issue_id for e in errors if e.type == "ValueError"}) == 1
    assert by_type["ValueError"] != by_type["KeyError"]


def test_projects_are_unique_by_name(store: Store) -> None:
    created = store.create_project("svc", "a" * 32, 300.0)
    assert [p.name for p in store.list_projects()] == ["svc"]
    with pytest.raises(Conflict):
        store.create_project("svc", "b" * 32, 300.0)
    assert store.create_project("other", "c" * 32, 300.0).id == created.id + 1


def test_outcomes_are_summed(store: Store) -> None:
    store.write(
        Batch(
            outcomes=[
                Outcome(1, "error", "invalid_json", 2, 1.0),
                Outcome(1, "error", "invalid_json", 3, 2.0),
            ]
        )
    ).result(10)
    [row] = store.outcomes()
    assert (row.category, row.reason, row.quantity, row.last_seen) == (
        "error",
        "invalid_json",
        5,
        2.0,
    )


def test_committed_writes_survive_reopening(
    store: Store, backend: str, url: str, tmp_path: Path
) -> None:
    payload = transaction()
    store.write(spans_of(payload)).result(timeout=10)
    store.close()
    reopened = open_backend(backend, tmp_path, url)
    try:
        assert len(reopened.trace_spans(payload["contexts"]["trace"]["trace_id"])) == 3
    finally:
        reopened.close()
