"""The alert engine's state machine (alerts/engine.py), against an in-memory store.

The store fake answers only what the engine reads (window totals, impact,
issues) and keeps what it saves (rule states, the lease); the notifier fake
records each notification and reports it delivered at once. So every
transition is checked without a database, a server or a receiver.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from glasspane.alerts import engine as engine_module
from glasspane.alerts.engine import LEASE, AlertEngine
from glasspane.alerts.notify import Alert, Delivery
from glasspane.alerts.rules import Action
from glasspane.filters import And, Cmp
from glasspane.store.models import ImpactStats, IssueSummary, Window, WindowTotals
from waiting import wait_until

NOW = 1_700_000_000.0
SETTINGS = """
settings:
  slack: {"#alerts": "http://127.0.0.1:9/slack"}
  pagerduty: {url: "http://127.0.0.1:9/pd", keys: {oncall: R0UTING}}
"""
ERROR_RATE_RULE = (
    """
alerts:
  - name: indexer
    conditions:
      - service: blockchain-indexer
      - error_rate: "> 5%"
      - window: 10 minutes
    actions:
      - slack: "#alerts"
      - pagerduty: oncall
"""
    + SETTINGS
)


def totals(samples: int = 100, error_rate: float = 0.0, p95_ms: float = 100.0) -> WindowTotals:
    return WindowTotals(samples, float(samples), 50.0, p95_ms, error_rate / 2, error_rate)


def issue(issue_id: int, count: int, first_seen: float) -> IssueSummary:
    return IssueSummary(
        issue_id, 1, f"KeyError {issue_id}", "KeyError", "x", "f in g", "error", "unresolved",
        count, 1, first_seen, NOW, count, None,
    )  # fmt: skip


class MemoryStore:
    """The store reads and writes the alert engine uses, kept in memory."""

    def __init__(self) -> None:
        self.totals = totals(samples=0)
        self.users = 0
        self.issues: list[IssueSummary] = []
        self.windows: list[Window] = []
        self.states: dict[str, dict[str, Any]] = {}
        self.saves = 0
        self.lease: str | None = None  # granted to the first taker, for good
        self.asked: set[str] = set()

    # -- analytics and issues, read through query/alert_metrics.py -----------
    def window_totals(self, window: Window) -> WindowTotals:
        self.windows.append(window)
        return self.totals

    def impact(self, window: Window) -> ImpactStats:
        return ImpactStats(self.users, 0, {}, {}, {})

    def get_issue(self, issue_id: int, window: Window, buckets: int = 24) -> IssueSummary | None:
        return next((i for i in self.issues if i.id == issue_id), None)

    def list_issues(
        self, window: Window, sort: str, limit: int, buckets: int = 24
    ) -> list[IssueSummary]:
        return sorted(self.issues, key=lambda i: -i.count)[:limit]

    # -- alert state and the lease ------------------------------------------------
    def alert_states(self) -> dict[str, dict[str, Any]]:
        return {name: dict(state) for name, state in self.states.items()}

    def save_alert_state(self, rule: str, state: dict[str, Any]) -> None:
        self.saves += 1
        self.states[rule] = dict(state)

    def take_lease(self, name: str, holder: str, seconds: float) -> bool:
        assert name == LEASE
        self.asked.add(holder)
        self.lease = self.lease or holder
        return self.lease == holder

    def lease_holder(self, name: str) -> str | None:
        return self.lease


class Sent:
    """Every notification the engines sent, as (action, target, state)."""

    def __init__(self) -> None:
        self.alerts: list[tuple[Action, Alert]] = []

    def states(self) -> list[tuple[str, str]]:
        return [(action.kind, alert.state) for action, alert in self.alerts]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Sent:
    record = Sent()

    class RecordingNotifier:
        def __init__(self, settings: dict[str, Any], retry_delay: float = 1.0) -> None:
            pass

        def send(self, action: Action, alert: Alert, done: Callable[[Delivery], None]) -> None:
            record.alerts.append((action, alert))
            done(Delivery(action.kind, action.target, True, 1, NOW))

        def close(self) -> None:
            pass

    monkeypatch.setattr(engine_module, "Notifier", RecordingNotifier)
    return record


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def make_engine(
    tmp_path: Path, store: MemoryStore, sent: Sent
) -> Iterator[Callable[..., AlertEngine]]:
    engines: list[AlertEngine] = []

    def make(rules: str = ERROR_RATE_RULE, interval: float = 30.0) -> AlertEngine:
        path = tmp_path / "alerts.yaml"
        path.write_text(rules)
        engine = AlertEngine(store, path, interval, "http://glasspane.test", retry_delay=0)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.stop()


def rule_state(engine: AlertEngine, name: str = "indexer") -> dict[str, Any]:
    return next(r for r in engine.snapshot()["rules"] if r["name"] == name)


def test_ok_to_firing_when_the_condition_holds_notifying_each_action_once(
    make_engine: Callable[..., AlertEngine], store: MemoryStore, sent: Sent
) -> None:
    engine = make_engine()
    store.totals = totals(error_rate=0.02)
    engine.evaluate(NOW)
    assert rule_state(engine)["state"] == "ok" and sent.alerts == []

    store.totals = totals(error_rate=0.2)
    engine.evaluate(NOW + 30)
    state = rule_state(engine)
    assert (state["state"], state["since"], state["value"]) == ("firing", NOW + 30, 0.2)
    assert sent.states() == [("slack", "firing"), ("pagerduty", "firing")]
    alert = sent.alerts[0][1]
    assert alert.summary.startswith("error_rate 20.0% (threshold > 5.0%) over 10 minutes")
    assert alert.summary.endswith("for service blockchain-indexer")
    assert alert.dedup_key == f"glasspane:indexer:{int(NOW + 30)}"
    assert [h["state"] for h in state["history"] if "state" in h] == ["firing"]
    assert state["last_notification"]["ok"] is True

    engine.evaluate(NOW + 60)  # still holding: no second notification
    assert len(sent.alerts) == 2 and rule_state(engine)["since"] == NOW + 30


def test_the_window_is_the_rules_filters_over_its_last_seconds(
    make_engine: Callable[..., AlertEngine], store: MemoryStore
) -> None:
    engine = make_engine()
    store.totals = totals()
    engine.evaluate(NOW)
    [window] = store.windows
    assert (window.start, window.end) == (NOW - 600, NOW)
    assert window.filter == Cmp("service", "=", "blockchain-indexer")


def test_firing_to_resolved_with_a_resolved_notification_of_the_same_incident(
    make_engine: Callable[..., AlertEngine], store: MemoryStore, sent: Sent
) -> None:
    engine = make_engine()
    store.totals = totals(error_rate=0.2)
    engine.evaluate(NOW)
    store.totals = totals(error_rate=0.01)
    engine.evaluate(NOW + 30)
    state = rule_state(engine)
    assert (state["state"], state["since"]) == ("ok", NOW + 30)
    assert [h["state"] for h in state["history"] if "state" in h] == ["firing", "resolved"]
    assert sent.states()[2:] == [("slack", "resolved"), ("pagerduty", "resolved")]
    assert {alert.dedup_key for _, alert in sent.alerts} == {f"glasspane:indexer:{int(NOW)}"}


def test_no_transaction_in_the_window_keeps_the_state(
    make_engine: Callable[..., AlertEngine], store: MemoryStore, sent: Sent
) -> None:
    engine = make_engine()
    store.totals = totals(error_rate=0.2)
    engine.evaluate(NOW)
    store.totals = totals(samples=0)
    engine.evaluate(NOW + 600)
    state = rule_state(engine)
    assert (state["state"], state["value"]) == ("firing", 0.2)
    assert len(sent.alerts) == 2


def test_every_condition_must_hold(
    make_engine: Callable[..., AlertEngine], store: MemoryStore, sent: Sent
) -> None:
    rules = ERROR_RATE_RULE.replace(
        '- error_rate: "> 5%"', '- error_rate: "> 5%"\n      - p95: "> 2s"'
    )
    engine = make_engine(rules)
    store.totals = totals(error_rate=0.2, p95_ms=900)
    engine.evaluate(NOW)
    assert rule_state(engine)["state"] == "ok"
    store.totals = totals(error_rate=0.2, p95_ms=2500)
    engine.evaluate(NOW + 30)
    assert rule_state(engine)["state"] == "firing"
    assert rule_state(engine)["values"]["p95"] == 2500


def test_resolve_waits_until_the_metric_crosses_back_over_its_own_threshold(
    make_engine: Callable[..., AlertEngine], store: MemoryStore
) -> None:
    engine = make_engine(
        ERROR_RATE_RULE.replace("    actions:", '    resolve: "< 2%"\n    actions:')
    )
    store.totals = totals(error_rate=0.2)
    engine.evaluate(NOW)
    store.totals = totals(error_rate=0.03)  # below 5%, not yet below 2%
    engine.evaluate(NOW + 30)
    assert rule_state(engine)["state"] == "firing"
    store.totals = totals(error_rate=0.01)
    engine.evaluate(NOW + 60)
    assert rule_state(engine)["state"] == "ok"


def test_renotify_reminds_while_firing(
    make_engine: Callable[..., AlertEngine], store: MemoryStore, sent: Sent
) -> None:
    engine = make_engine(
        ERROR_RATE_RULE.replace("    actions:", "    renotify: 5 minutes\n    actions:")
    )
    store.totals = totals(error_rate=0.2)
    engine.evaluate(NOW)
    engine.evaluate(NOW + 200)
    assert len(sent.alerts) == 2
    engine.evaluate(NOW + 300)
    assert sent.states() == [("slack", "firing"), ("pagerduty", "firing")] * 2
    history = rule_state(engine)["history"]
    assert [h["state"] for h in history if "state" in h] == ["firing"]  # a reminder, no transition


def test_a_restart_reads_the_saved_state_and_neither_refires_nor_forgets(
    make_engine: Callable[..., AlertEngine], store: MemoryStore, sent: Sent
) -> None:
    store.totals = totals(error_rate=0.2)
    make_engine().evaluate(NOW)
    assert store.states["indexer"]["state"] == "firing"

    restarted = make_engine()
    restarted.evaluate(NOW + 30)
    assert len(sent.alerts) == 2  # the first engine's notifications only
    state = rule_state(restarted)
    assert (state["state"], state["since"]) == ("firing", NOW)


def test_an_invalid_rule_is_shown_invalid_and_the_others_are_evaluated(
    make_engine: Callable[..., AlertEngine], store: MemoryStore
) -> None:
    broken = '\n  - name: broken\n    conditions:\n      - error_rate: "> ten%"\n'
    engine = make_engine(ERROR_RATE_RULE.replace("\nsettings:", broken + "\nsettings:"))
    store.totals = totals(error_rate=0.2)
    engine.evaluate(NOW)
    assert rule_state(engine, "broken")["state"] == "invalid"
    assert "ten%" in rule_state(engine, "broken")["error"]
    assert rule_state(engine)["state"] == "firing"


def test_issue_events_count_one_issue_or_the_new_ones(
    make_engine: Callable[..., AlertEngine], store: MemoryStore
) -> None:
    rules = (
        """
alerts:
  - name: one issue
    conditions: [{issue: 7}, {issue_events: "> 10"}]
    actions: [{slack: "#alerts"}]
  - name: new issues
    conditions: [{issue_events: "> 10"}, {window: 5 minutes}]
    actions: [{slack: "#alerts"}]
"""
        + SETTINGS
    )
    engine = make_engine(rules)
    store.issues = [issue(7, 12, NOW - 86400), issue(8, 6, NOW - 100), issue(9, 5, NOW - 60)]
    engine.evaluate(NOW)
    one, new = (rule_state(engine, name) for name in ("one issue", "new issues"))
    assert (one["state"], one["value"]) == ("firing", 12)
    assert (new["state"], new["value"]) == ("firing", 11)  # issue 7 is not new


def test_a_notification_carries_affected_users_and_recent_errors(
    make_engine: Callable[..., AlertEngine], store: MemoryStore, sent: Sent
) -> None:
    engine = make_engine()
    store.totals, store.users = totals(error_rate=0.2), 3
    store.issues = [issue(1, 4, NOW - 10), issue(2, 0, NOW - 10)]
    engine.evaluate(NOW)
    details = sent.alerts[0][1].details
    assert details["affected_users"] == 3
    assert details["recent_errors"] == [{"issue_id": 1, "title": "KeyError 1", "count": 4}]
    assert details["value"] == 0.2 and details["threshold"] == 0.05


def test_a_query_filter_joins_the_service_filter(
    make_engine: Callable[..., AlertEngine], store: MemoryStore
) -> None:
    engine = make_engine(
        ERROR_RATE_RULE.replace("      - window:", "      - query: env:prod\n      - window:")
    )
    store.totals = totals()
    engine.evaluate(NOW)
    assert store.windows[0].filter == And(
        (Cmp("service", "=", "blockchain-indexer"), Cmp("env", "=", "prod"))
    )


def test_one_process_evaluates_and_the_others_show_what_it_saved(
    make_engine: Callable[..., AlertEngine], store: MemoryStore
) -> None:
    store.totals = totals(error_rate=0.2)
    first, second = make_engine(interval=0.05), make_engine(interval=0.05)
    first.start()
    wait_until(lambda: store.states.get("indexer"), 10, what="the first engine's evaluation")
    second.start()
    wait_until(lambda: second.holder in store.asked, 10, what="the second engine asking")
    assert first.leading and not second.leading
    shown = second.snapshot()
    assert shown["evaluator"] == {
        "this_process": second.holder,
        "evaluating": False,
        "lease_holder": first.holder,
    }
    assert shown["rules"][0]["state"] == "firing"  # read from the store, not evaluated here
