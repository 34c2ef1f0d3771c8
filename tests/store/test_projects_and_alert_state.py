"""Project settings, saved alert state, the alert lease and journal positions, on every backend."""

from __future__ import annotations

import time
from pathlib import Path

from glasspane.domain import Batch
from glasspane.store.api import Store
from store.backends import open_backend


def test_the_apdex_threshold_changes_and_unknown_projects_answer_none(store: Store) -> None:
    project = store.create_project("checkout", "a" * 32, 300.0)
    changed = store.set_apdex_threshold(project.id, 1200.0)
    assert changed is not None
    assert (changed.id, changed.name, changed.apdex_threshold_ms) == (project.id, "checkout", 1200)
    [listed] = store.list_projects()
    assert listed.apdex_threshold_ms == 1200 and listed.public_key == "a" * 32
    assert store.set_apdex_threshold(project.id + 1, 500.0) is None


def test_a_new_public_key_replaces_the_old_one(store: Store) -> None:
    project = store.create_project("checkout", "a" * 32, 300.0)
    other = store.create_project("payments", "b" * 32, 300.0)
    changed = store.set_public_key(project.id, "c" * 32)
    assert changed is not None and changed.public_key == "c" * 32
    keys = {p.name: p.public_key for p in store.list_projects()}
    assert keys == {"checkout": "c" * 32, "payments": "b" * 32}
    assert store.set_public_key(other.id + 1, "d" * 32) is None


def test_alert_states_are_saved_replaced_and_read_back_by_rule(store: Store) -> None:
    assert store.alert_states() == {}
    firing = {"state": "firing", "since": 1.5, "history": [{"state": "firing", "at": 1.5}]}
    store.save_alert_state("indexer degraded", firing)
    store.save_alert_state("slow checkout", {"state": "ok", "values": {"p95": 812.25}})
    store.save_alert_state("indexer degraded", {**firing, "state": "ok", "since": 9.0})
    assert store.alert_states() == {
        "indexer degraded": {**firing, "state": "ok", "since": 9.0},
        "slow checkout": {"state": "ok", "values": {"p95": 812.25}},
    }


def test_saved_alert_state_survives_reopening(
    store: Store, backend: str, url: str, tmp_path: Path
) -> None:
    store.save_alert_state("indexer degraded", {"state": "firing", "since": 1.5})
    store.close()
    reopened = open_backend(backend, tmp_path, url)
    try:
        assert reopened.alert_states() == {"indexer degraded": {"state": "firing", "since": 1.5}}
    finally:
        reopened.close()


def test_the_lease_has_one_holder_at_a_time_until_it_expires(store: Store, backend: str) -> None:
    if backend == "duckdb":
        # Single-process: the caller is the only process, so every call is granted
        # and nothing is recorded (AlertStateStore.take_lease).
        assert not store.shared_between_processes
        assert store.take_lease("alerts", "a", 60) and store.take_lease("alerts", "b", 60)
        assert store.lease_holder("alerts") is None
        return
    assert store.lease_holder("alerts") is None
    assert store.take_lease("alerts", "a", 0.5)
    assert not store.take_lease("alerts", "b", 0.5)
    assert store.lease_holder("alerts") == "a"
    assert store.take_lease("alerts", "a", 0.5)  # renewing keeps it
    assert store.lease_holder("other") is None  # leases are by name
    time.sleep(0.6)
    assert store.lease_holder("alerts") is None  # expired
    assert store.take_lease("alerts", "b", 60)
    assert store.lease_holder("alerts") == "b"
    assert not store.take_lease("alerts", "a", 60)


def test_journal_positions_are_committed_with_the_rows_and_forgotten_at_minus_one(
    store: Store, backend: str, url: str, tmp_path: Path
) -> None:
    assert store.journal_positions() == {}
    store.write(Batch(checkpoint={"worker-1.0001": 100})).result(timeout=10)
    store.write(Batch(checkpoint={"worker-1.0001": 250, "worker-2.0001": 10})).result(timeout=10)
    assert store.journal_positions() == {"worker-1.0001": 250, "worker-2.0001": 10}
    store.write(Batch(checkpoint={"worker-1.0001": -1})).result(timeout=10)  # fed, deleted
    assert store.journal_positions() == {"worker-2.0001": 10}
    store.close()
    reopened = open_backend(backend, tmp_path, url)
    try:
        assert reopened.journal_positions() == {"worker-2.0001": 10}
    finally:
        reopened.close()
