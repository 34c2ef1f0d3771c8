"""Notifiers: Slack incoming webhooks, PagerDuty Events API v2, email, webhooks.

Each delivery is retried with exponential backoff (5 attempts) on a worker
thread, so a slow or failing receiver never blocks or crashes the engine; the
outcome is handed back to be recorded and shown in the API.
"""

from __future__ import annotations

import logging
import os
import smtplib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx

from glasspane.alerts.rules import Action

log = logging.getLogger(__name__)
ATTEMPTS = 5
DEFAULT_PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"


@dataclass(frozen=True, slots=True)
class Alert:
    """What a notification says about one transition."""

    rule: str
    state: str  # firing | resolved
    summary: str  # one line: what, value, threshold, window
    details: dict[str, Any]  # value, threshold, affected users, recent errors, link
    dedup_key: str  # one per incident (PagerDuty)


@dataclass(frozen=True, slots=True)
class Delivery:
    action: str
    target: str
    ok: bool
    attempts: int
    at: float
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "target": self.target,
            "ok": self.ok,
            "attempts": self.attempts,
            "at": self.at,
            "error": self.error,
        }


class Notifier:
    def __init__(self, settings: dict[str, Any], retry_delay: float = 1.0) -> None:
        self.settings = settings
        self.retry_delay = retry_delay
        self._pool = ThreadPoolExecutor(4, thread_name_prefix="glasspane-notify")

    def send(self, action: Action, alert: Alert, done: Callable[[Delivery], None]) -> None:
        """Deliver in the background; ``done`` gets the outcome after the last attempt."""
        self._pool.submit(self._deliver, action, alert, done)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)

    def _deliver(self, action: Action, alert: Alert, done: Callable[[Delivery], None]) -> None:
        error = None
        for attempt in range(1, ATTEMPTS + 1):
            try:
                self._once(action, alert)
            except Exception as exc:  # any failure of a receiver is retried, then recorded
                error = f"{type(exc).__name__}: {exc}"
                log.warning(
                    "alert %r: %s %s failed (attempt %d): %s",
                    alert.rule,
                    action.kind,
                    action.target,
                    attempt,
                    error,
                )
                if attempt < ATTEMPTS:
                    time.sleep(self.retry_delay * 2 ** (attempt - 1))
                continue
            done(Delivery(action.kind, action.target, True, attempt, time.time()))
            return
        done(Delivery(action.kind, action.target, False, ATTEMPTS, time.time(), error))

    def _once(self, action: Action, alert: Alert) -> None:
        if action.kind == "email":
            self._email(action.target, alert)
            return
        url, body = {
            "slack": self._slack,
            "pagerduty": self._pagerduty,
            "webhook": self._webhook,
        }[action.kind](action.target, alert)
        response = httpx.post(url, json=body, timeout=10)
        response.raise_for_status()

    def _slack(self, target: str, alert: Alert) -> tuple[str, dict[str, Any]]:
        url = target if target.startswith("http") else self.settings["slack"][target]
        icon = ":rotating_light:" if alert.state == "firing" else ":white_check_mark:"
        lines = [f"{icon} *{alert.rule}* is {alert.state.upper()}", alert.summary]
        users = alert.details.get("affected_users")
        if users is not None:
            lines.append(f"Affected users: {users}")
        for error in alert.details.get("recent_errors", [])[:5]:
            lines.append(f"• {error['title']} ({error['count']} events)")
        text = "\n".join(lines)
        return url, {
            "text": text,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
        }

    def _pagerduty(self, target: str, alert: Alert) -> tuple[str, dict[str, Any]]:
        settings = self.settings.get("pagerduty") or {}
        body: dict[str, Any] = {
            "routing_key": settings["keys"][target],
            "event_action": "trigger" if alert.state == "firing" else "resolve",
            "dedup_key": alert.dedup_key,
        }
        if alert.state == "firing":
            body["payload"] = {
                "summary": f"{alert.rule}: {alert.summary}"[:1024],
                "source": "glasspane",
                "severity": "critical",
                "custom_details": alert.details,
            }
        return str(settings.get("url") or DEFAULT_PAGERDUTY_URL), body

    def _webhook(self, target: str, alert: Alert) -> tuple[str, dict[str, Any]]:
        return target, {
            "rule": alert.rule,
            "state": alert.state,
            "summary": alert.summary,
            "dedup_key": alert.dedup_key,
            **alert.details,
        }

    def _email(self, recipient: str, alert: Alert) -> None:
        settings = self.settings.get("email") or {}
        message = EmailMessage()
        message["Subject"] = f"[glasspane] {alert.rule} is {alert.state}"
        message["From"] = str(settings.get("from") or "glasspane@localhost")
        message["To"] = recipient
        lines = [alert.summary, ""]
        lines += [
            f"{key}: {value}" for key, value in alert.details.items() if key != "recent_errors"
        ]
        for error in alert.details.get("recent_errors", []):
            lines.append(f"- {error['title']} ({error['count']} events)")
        message.set_content("\n".join(lines))
        host, port = str(settings["host"]), int(settings.get("port") or 25)
        smtp_class = smtplib.SMTP_SSL if settings.get("tls") and port == 465 else smtplib.SMTP
        with smtp_class(host, port, timeout=10) as smtp:
            if settings.get("tls") and port != 465:
                smtp.starttls()
            user = os.environ.get(str(settings.get("username_env") or ""), "")
            password = os.environ.get(str(settings.get("password_env") or ""), "")
            if user:
                smtp.login(user, password)
            smtp.send_message(message)
