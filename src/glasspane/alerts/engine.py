"""The alert engine: evaluate every rule on an interval, move its state, notify.

State machine per rule: ``ok`` → ``firing`` when all its conditions hold over
its window; ``firing`` → ``ok`` (a "resolved" notification) when they no longer
do (or, with ``resolve:``, when the first metric crosses back over it). One
notification per transition and action; with ``renotify:``, a reminder while it
stays firing. With no transactions in the window a rule keeps its state. State
is saved in the store, so a restart neither re-fires nor forgets. Metrics come
from the same query layer as the API.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

from glasspane.alerts.notify import Alert, Delivery, Notifier
from glasspane.alerts.rules import Condition, Rule, RulesFile, load_rules
from glasspane.errors import ConfigError, GlasspaneError, NotFound
from glasspane.query import alert_metrics
from glasspane.store.api import AlertStateStore
from glasspane.store.models import Window

log = logging.getLogger(__name__)
HISTORY = 50
#: A rule's page charts its metric over this many seconds (or since it fired) …
CHART_SPAN = 3 * 3600.0
#: … in this many slices.
CHART_BUCKETS = 24
#: The longest period a page takes (400 days): the data links ask no more.
MAX_PERIOD_MINUTES = 400 * 1440


@dataclass(slots=True)
class RuleState:
    state: str = "ok"
    since: float | None = None
    value: float | None = None
    values: dict[str, float] = field(default_factory=dict)
    incident: str | None = None
    notified_at: float | None = None
    last_notification: dict[str, Any] | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "since": self.since,
            "value": self.value,
            "values": self.values,
            "incident": self.incident,
            "notified_at": self.notified_at,
            "last_notification": self.last_notification,
            "history": self.history[-HISTORY:],
        }


class AlertEngineStore(alert_metrics.AlertReads, AlertStateStore, Protocol):
    """What the engine needs of the store: the metrics' reads, its saved state, the lease."""


#: The store lease naming the one process that evaluates alert rules.
LEASE = "alerts"


class AlertEngine:
    def __init__(
        self,
        store: AlertEngineStore,
        path: Path,
        interval: float,
        base_url: str,
        retry_delay: float = 1.0,
    ) -> None:
        self.store = store
        self.path = path
        self.interval = interval
        self.base_url = base_url
        self.retry_delay = retry_delay
        self.rules = RulesFile()
        self.file_error: str | None = None
        self._mtime: float | None = None
        self._lock = threading.RLock()
        self._states = {name: _restore(raw) for name, raw in store.alert_states().items()}
        self._notifier = Notifier({}, retry_delay)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Who this process is to the alert lease, and whether it holds it.
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.leading = False
        self.reload()

    # -- rules -------------------------------------------------------------
    def reload(self) -> str | None:
        """Re-read the rules file; on a file-level error the previous rules stay."""
        with self._lock:
            try:
                self._mtime = self.path.stat().st_mtime if self.path.exists() else None
                text = self.path.read_text() if self.path.exists() else ""
                rules = load_rules(text, str(self.path))
            except (ConfigError, OSError) as exc:
                self.file_error = str(exc)
                log.error("alert rules not reloaded: %s", exc)
                return self.file_error
            self.rules, self.file_error = rules, None
            self._notifier = Notifier(rules.settings, self.retry_delay)
            for rule in rules.rules:
                if rule.error:
                    log.error("%s", rule.error)
                for warning in rule.warnings:
                    log.warning('alert rule "%s": %s', rule.name, warning)
            return None

    def _changed(self) -> bool:
        mtime = self.path.stat().st_mtime if self.path.exists() else None
        return mtime != self._mtime

    # -- running -------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="glasspane-alerts", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=30)
        self._notifier.close()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if self._changed():
                    self.reload()
                if self._hold_lease():
                    self.evaluate()
            except Exception:  # the engine must outlive any one bad evaluation
                log.exception("alert evaluation failed")

    def _hold_lease(self) -> bool:
        """Whether this process evaluates the rules now (one process at a time does).

        The lease outlives three intervals, so a holder that dies is replaced
        within about three intervals. A process that takes the lease over
        first reads the rule states its predecessor saved.
        """
        held = self.store.take_lease(LEASE, self.holder, self.interval * 3)
        if held and not self.leading:
            with self._lock:
                self._states = {n: _restore(raw) for n, raw in self.store.alert_states().items()}
            log.info("alert evaluation: this process (%s) took the lease", self.holder)
        self.leading = held
        return held

    def evaluate(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._lock:
            rules = list(self.rules.rules)
        for rule in rules:
            if rule.error:
                continue
            try:
                self._evaluate(rule, now)
            except GlasspaneError as exc:
                log.error('alert rule "%s" could not be evaluated: %s', rule.name, exc)

    def _evaluate(self, rule: Rule, now: float) -> None:
        window = alert_metrics.rule_window(rule.filters, now - rule.window, now)
        metrics = {c.metric for c in rule.conditions}
        values = alert_metrics.rule_values(self.store, window, metrics, rule.issue)
        if values is None:
            return  # no data in the window: keep the state
        state = self._states.setdefault(rule.name, RuleState())
        state.values = values
        state.value = values[rule.conditions[0].metric]
        holding = all(c.holds(values[c.metric]) for c in rule.conditions)
        if state.state != "firing" and holding:
            self._transition(rule, state, "firing", now, window)
        elif state.state == "firing" and _resolved(rule, state.value, holding):
            self._transition(rule, state, "resolved", now, window)
        elif (
            state.state == "firing"
            and rule.renotify
            and state.notified_at
            and (now - state.notified_at >= rule.renotify)
        ):
            self._notify(rule, state, "firing", window, now)
        self.store.save_alert_state(rule.name, state.as_dict())

    # -- transitions and notifications ------------------------------------------
    def _transition(
        self, rule: Rule, state: RuleState, to: str, now: float, window: Window
    ) -> None:
        if to == "firing":
            state.incident = f"glasspane:{rule.name}:{int(now)}"
        state.state = "firing" if to == "firing" else "ok"
        state.since = now
        state.history.append({"state": to, "at": now, "value": state.value})
        del state.history[:-HISTORY]
        log.warning('alert "%s" %s: %s', rule.name, to, _summary(rule, state))
        self._notify(rule, state, to, window, now)

    def _notify(self, rule: Rule, state: RuleState, kind: str, window: Window, now: float) -> None:
        state.notified_at = now
        alert = Alert(
            rule.name,
            kind,
            _summary(rule, state),
            self._details(rule, state, window),
            state.incident or f"glasspane:{rule.name}",
        )
        for action in rule.actions:
            self._notifier.send(action, alert, functools.partial(self._record, rule, state))

    def _record(self, rule: Rule, state: RuleState, delivery: Delivery) -> None:
        with self._lock:
            state.last_notification = delivery.as_dict()
            state.history.append({"notification": delivery.as_dict(), "at": delivery.at})
            del state.history[:-HISTORY]
        try:
            self.store.save_alert_state(rule.name, state.as_dict())
        except GlasspaneError as exc:
            log.error("alert state not saved: %s", exc)

    def _details(self, rule: Rule, state: RuleState, window: Window) -> dict[str, Any]:
        condition = rule.conditions[0]
        details: dict[str, Any] = {
            "metric": condition.metric,
            "value": state.value,
            "threshold": condition.threshold,
            "window_minutes": rule.window / 60,
            "filters": rule.filters,
            "link": f"{self.base_url}/",
        }
        try:
            details["affected_users"] = alert_metrics.affected_users(self.store, window)
            details["recent_errors"] = alert_metrics.recent_errors(self.store, window)
        except GlasspaneError as exc:
            details["recent_errors"] = []
            log.error("alert details incomplete: %s", exc)
        return details

    # -- reading -------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        if not self.leading:  # another process evaluates: show what it saved
            states = {n: _restore(raw) for n, raw in self.store.alert_states().items()}
            with self._lock:
                self._states = states
        with self._lock:
            rules = [
                _entry(rule, self._states.get(rule.name, RuleState())) for rule in self.rules.rules
            ]
            return {
                "rules": rules,
                "error": self.file_error,
                "path": str(self.path),
                # Several processes sharing a ClickHouse store: which one evaluates.
                "evaluator": {
                    "this_process": self.holder,
                    "evaluating": self.leading,
                    "lease_holder": self.store.lease_holder(LEASE)
                    or (self.holder if self.leading else None),
                },
            }

    def detail(self, name: str, now: float | None = None, chart: bool = True) -> dict[str, Any]:
        """One rule with what is behind it: the affected users, the errors, its metric
        over the last hours and where the data is. :class:`NotFound` for an unknown name.

        The users and errors are read over the rule's window, or for a firing rule
        from one window before it fired until now. Without ``chart`` the series is
        left empty (its 24 reads are for the rule's own page).
        """
        now = time.time() if now is None else now
        self.snapshot()  # refresh the states another process saved
        with self._lock:
            rule = next((r for r in self.rules.rules if r.name == name), None)
            if rule is None:
                raise NotFound(f"no alert rule named {name!r}")
            state = self._states.get(rule.name, RuleState())
            entry = _entry(rule, state)
        firing = state.state == "firing" and state.since is not None
        start = (state.since or now) - rule.window if firing else now - rule.window
        window = alert_metrics.rule_window(rule.filters, start, now)
        span = (min(now - CHART_SPAN, start), now)
        first = rule.conditions[0] if rule.conditions else None
        series = (
            alert_metrics.metric_series(
                self.store, rule.filters, first.metric, rule.issue, span, CHART_BUCKETS
            )
            if first and chart and not rule.error
            else []
        )
        search = alert_metrics.search_text(rule.filters)
        period = f"{min(MAX_PERIOD_MINUTES, max(1, math.ceil((now - start) / 60)))}m"
        return {
            **entry,
            "window": {"start": start, "end": now},
            "period": period,
            "affected_users": {
                "count": alert_metrics.affected_users(self.store, window),
                "top": alert_metrics.top_users(self.store, window),
            },
            "recent_errors": alert_metrics.recent_errors(self.store, window),
            "series": {
                "start": span[0],
                "end": span[1],
                "points": series,
                "firing": _firing_periods(state.history, span),
            },
            "links": {
                "transactions": "/?" + urlencode({"query": search, "period": period}),
                "issues": "/issues?" + urlencode({"query": search, "period": period}),
            },
        }


def _entry(rule: Rule, state: RuleState) -> dict[str, Any]:
    """One rule as ``GET /api/v1/alerts`` lists it."""
    first = rule.conditions[0] if rule.conditions else None
    return {
        "name": rule.name,
        "state": "invalid" if rule.error else state.state,
        "error": rule.error,
        "since": state.since,
        "value": state.value,
        "values": state.values,
        "threshold": first.threshold if first else None,
        "metric": first.metric if first else None,
        # As the rule wrote them: ``error_rate > 5%``, not ``> 0.05``.
        "conditions": [c.text for c in rule.conditions],
        "threshold_text": first.written if first else None,
        "filters": rule.filters,
        "window_minutes": rule.window / 60,
        "actions": [f"{a.kind}: {a.target}" for a in [*rule.actions, *rule.unconfigured]],
        "warnings": rule.warnings,
        "last_notification": state.last_notification,
        "history": state.history,
    }


def _firing_periods(
    history: list[dict[str, Any]], span: tuple[float, float]
) -> list[dict[str, float]]:
    """The stretches of ``span`` the rule was firing, from its state history."""
    periods: list[dict[str, float]] = []
    began: float | None = None
    for item in history:
        if item.get("state") == "firing" and began is None:
            began = float(item["at"])
        elif item.get("state") == "resolved" and began is not None:
            periods.append({"start": began, "end": float(item["at"])})
            began = None
    if began is not None:
        periods.append({"start": began, "end": span[1]})
    return [
        {"start": max(p["start"], span[0]), "end": p["end"]} for p in periods if p["end"] > span[0]
    ]


def _resolved(rule: Rule, value: float | None, holding: bool) -> bool:
    if rule.resolve_threshold is None or value is None:
        return not holding
    first = rule.conditions[0]
    if first.op in (">", ">="):
        return value < rule.resolve_threshold
    return value > rule.resolve_threshold


def _format(condition: Condition, value: float | None) -> str:
    if value is None:
        return "no data"
    if condition.metric in ("error_rate", "failure_rate"):
        return f"{value * 100:.1f}%"
    if condition.metric in ("p50", "p95"):
        return f"{value / 1000:.1f}s" if value >= 1000 else f"{value:.0f}ms"
    return f"{value:g}"


def _summary(rule: Rule, state: RuleState) -> str:
    parts = []
    for c in rule.conditions:
        value = state.values.get(c.metric)
        limit = _format(c, c.threshold)
        parts.append(f"{c.metric} {_format(c, value)} (threshold {c.op} {limit})")
    scope = ", ".join(f"{k} {v}" for k, v in rule.filters.items())
    span = f"{rule.window:g} seconds" if rule.window < 60 else f"{rule.window / 60:g} minutes"
    return "; ".join(parts) + f" over {span}" + (f" for {scope}" if scope else "")


def _restore(raw: dict[str, Any]) -> RuleState:
    state = RuleState()
    for key, value in raw.items():
        if hasattr(state, key):
            setattr(state, key, value)
    return state
