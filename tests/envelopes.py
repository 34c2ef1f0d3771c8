"""Build envelopes in tests with the real SDK's own envelope classes."""

from __future__ import annotations

import time
import uuid
from typing import Any

from sentry_sdk.envelope import Envelope, Item, PayloadRef


def new_trace_id() -> str:
    return uuid.uuid4().hex


def new_span_id() -> str:
    return uuid.uuid4().hex[:16]


def transaction(
    trace_id: str | None = None, children: int = 2, name: str = "checkout", **extra: Any
) -> dict[str, Any]:
    trace_id = trace_id or new_trace_id()
    root = new_span_id()
    now = time.time()
    return {
        "type": "transaction",
        "event_id": uuid.uuid4().hex,
        "transaction": name,
        "start_timestamp": now - 0.5,
        "timestamp": now,
        "contexts": {
            "trace": {"trace_id": trace_id, "span_id": root, "op": "http.server", "status": "ok"}
        },
        "spans": [
            {
                "trace_id": trace_id,
                "span_id": new_span_id(),
                "parent_span_id": root,
                "op": "db.query",
                "description": f"SELECT {i}",
                "start_timestamp": now - 0.4,
                "timestamp": now - 0.3,
            }
            for i in range(children)
        ],
        **extra,
    }


def error_event(
    trace_id: str | None = None, span_id: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4().hex,
        "timestamp": time.time(),
        "level": "error",
        "platform": "python",
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": "bad input 42",
                    "stacktrace": {
                        "frames": [
                            {
                                "filename": "app.py",
                                "function": "handler",
                                "module": "app",
                                "lineno": 10,
                                "in_app": True,
                            },
                        ]
                    },
                }
            ]
        },
        "contexts": {
            "trace": {"trace_id": trace_id or new_trace_id(), "span_id": span_id or new_span_id()}
        },
        **extra,
    }


def envelope_bytes(*payloads: dict[str, Any], headers: dict[str, Any] | None = None) -> bytes:
    """An envelope as the Python SDK frames it (``length`` on every item)."""
    envelope = Envelope(headers=headers or {})
    for payload in payloads:
        kind = "transaction" if payload.get("type") == "transaction" else "event"
        envelope.add_item(Item(payload=PayloadRef(json=payload), type=kind))
    return envelope.serialize()
