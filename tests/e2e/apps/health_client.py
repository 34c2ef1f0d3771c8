"""A batch job instrumented with the real sentry-sdk: sessions, cron check-ins,
a profiled transaction and dropped events, then a clean shutdown.

Configured by environment: SENTRY_DSN, and SENTRY_RELEASE (default below).
Prints one JSON line with what it did (the transaction's event id, the
check-in ids) for the test to look up.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time

import sentry_sdk
from sentry_sdk.crons import capture_checkin, monitor

RELEASE = "nightly-jobs@3.1.0"
SCHEDULE = {"type": "crontab", "value": "0 3 * * *"}
transaction_ids: list[str] = []


def before_send(event, hint):
    if event.get("message") == "noisy warning":
        return None  # dropped on purpose: the client report says before_send
    return event


def before_send_transaction(event, hint):
    transaction_ids.append(event["event_id"])
    return event


sentry_sdk.init(
    dsn=os.environ["SENTRY_DSN"],
    release=os.environ.get("SENTRY_RELEASE") or RELEASE,
    environment="e2e",
    traces_sample_rate=1.0,
    profiles_sample_rate=1.0,
    before_send=before_send,
    before_send_transaction=before_send_transaction,
)


def session(user: str, work) -> None:
    """One application session of one user, as a script or a CLI run is."""
    sentry_sdk.set_user({"id": user})
    sentry_sdk.start_session()
    try:
        work()
    finally:
        sentry_sdk.end_session()


def healthy() -> None:
    pass


def handled_error() -> None:
    try:
        {}["missing"]
    except KeyError as exc:
        sentry_sdk.capture_exception(exc)


def crash() -> None:
    # What an uncaught exception does: the excepthook integration reports it as
    # unhandled, and the session becomes crashed. Called by hand so the script
    # goes on to its other work.
    try:
        raise RuntimeError("import crashed")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())


@monitor(
    monitor_slug="nightly-import",
    monitor_config={
        "schedule": SCHEDULE,
        "checkin_margin": 5,
        "max_runtime": 30,
        "timezone": "UTC",
    },
)
def nightly_import(fail: bool) -> None:
    time.sleep(0.05)
    if fail:
        raise ConnectionError("warehouse unreachable")


def busy(seconds: float) -> int:
    """CPU work for the profiler to sample."""
    total, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        total += sum(i * i for i in range(2000))
    return total


def main() -> None:
    session("u-1", healthy)
    session("u-2", handled_error)
    session("u-3", crash)

    nightly_import(False)
    with contextlib.suppress(ConnectionError):
        nightly_import(True)  # the monitor reports the run as failed, then re-raises
    heartbeat = capture_checkin(monitor_slug="cache-warmup", status="ok", duration=1.5)

    with sentry_sdk.start_transaction(op="task", name="build-report"):
        busy(0.4)

    sentry_sdk.capture_message("noisy warning", level="warning")
    with sentry_sdk.start_transaction(op="task", name="unsampled", sampled=False):
        pass

    sentry_sdk.flush(timeout=10)
    print(json.dumps({"transactions": transaction_ids, "heartbeat": heartbeat}), flush=True)
    sentry_sdk.get_client().close(timeout=10)


if __name__ == "__main__":
    main()
