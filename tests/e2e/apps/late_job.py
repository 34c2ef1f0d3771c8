"""A job due every 10 minutes whose last run, by its clock, started 35 minutes ago.

sentry-sdk's ``capture_checkin`` stamps the check-in with the time it is sent;
to have a run in the past, this sends the same check-in event through
``sentry_sdk.capture_event`` with its ``timestamp`` set 35 minutes back (as a
job that buffered its check-in would). The server then owes three missed runs.

Configured by environment: SENTRY_DSN. Prints the check-in id.
"""

from __future__ import annotations

import os
import time
import uuid

import sentry_sdk

sentry_sdk.init(dsn=os.environ["SENTRY_DSN"], release="late-job@1.0.0", environment="e2e")

check_in_id = uuid.uuid4().hex
sentry_sdk.capture_event(
    {
        "type": "check_in",
        "monitor_slug": "ledger-sync",
        "check_in_id": check_in_id,
        "status": "ok",
        "duration": 4.2,
        "timestamp": time.time() - 35 * 60,
        "monitor_config": {
            "schedule": {"type": "interval", "value": 10, "unit": "minute"},
            "checkin_margin": 1,
        },
    }
)
sentry_sdk.flush(timeout=10)
print(check_in_id, flush=True)
