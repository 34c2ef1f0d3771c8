"""Retention: data older than ``--retention`` is dropped, newer data stays."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from envelopes import transaction
from glasspane.domain import Batch
from glasspane.store.api import Store
from store.backends import open_backend
from store.test_conformance import spans_of


def aged(payload: dict[str, Any], seconds: float) -> dict[str, Any]:
    """The transaction as if it had happened ``seconds`` earlier."""
    for item in [payload, *payload.get("spans", [])]:
        item["start_timestamp"] -= seconds
        item["timestamp"] -= seconds
    return payload


def test_old_data_is_dropped(backend: str, url: str, tmp_path: Path) -> None:
    store: Store = open_backend(backend, tmp_path, url, retention_days=2)
    try:
        old, new = aged(transaction(), 5 * 86400), aged(transaction(), 3600)
        store.write(Batch(spans=spans_of(old).spans + spans_of(new).spans)).result(timeout=10)
        store.enforce_retention()
        assert store.trace_spans(old["contexts"]["trace"]["trace_id"]) == []
        assert len(store.trace_spans(new["contexts"]["trace"]["trace_id"])) == 3
    finally:
        store.close()
