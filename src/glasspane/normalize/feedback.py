"""User feedback: the browser's ``feedback`` item and the legacy ``user_report``.

``feedback`` is event-shaped with the words in ``contexts.feedback``; it names
the replay it was given during and, optionally, the error it is about
(``associated_event_id``). ``user_report`` is ``{event_id, name, email,
comments}`` about one error event.
"""

from __future__ import annotations

import uuid
from typing import Any

from glasspane.domain import Batch, Feedback, User
from glasspane.errors import ItemError
from glasspane.normalize.context import IngestContext
from glasspane.normalize.values import (
    mapping,
    optional_hex_id,
    string_tags,
    text,
    timestamp,
)

MAX_MESSAGE = 10_000


def _message(value: Any, what: str) -> str:
    message = text(value)
    if not message or not message.strip():
        raise ItemError(f"{what} has no message: feedback without words is not kept")
    return message[:MAX_MESSAGE]


def normalize_feedback(payload: Any, ctx: IngestContext, what: str, batch: Batch) -> None:
    if not isinstance(payload, dict):
        raise ItemError(f"{what} must be a JSON object")
    contexts = mapping(payload.get("contexts"))
    words = mapping(contexts.get("feedback"))
    trace = mapping(contexts.get("trace"))
    raw_ts = payload.get("timestamp")
    event_id = optional_hex_id(
        payload.get("event_id") or ctx.envelope_event_id, 32, f"{what} event_id"
    )
    batch.feedback.append(
        Feedback(
            project_id=ctx.project_id,
            event_id=event_id or uuid.uuid4().hex,
            timestamp=ctx.received_at if raw_ts is None else timestamp(raw_ts, f"{what} timestamp"),
            message=_message(words.get("message"), what),
            name=text(words.get("name")),
            contact_email=text(words.get("contact_email")),
            url=text(words.get("url")) or text(mapping(payload.get("request")).get("url")),
            replay_id=optional_hex_id(words.get("replay_id"), 32, f"{what} replay_id"),
            associated_event_id=optional_hex_id(
                words.get("associated_event_id"), 32, f"{what} associated_event_id"
            ),
            trace_id=optional_hex_id(trace.get("trace_id"), 32, f"{what} trace_id"),
            environment=text(payload.get("environment")),
            release=text(payload.get("release")),
            user=ctx.user(payload.get("user")),
            tags=string_tags(payload.get("tags")),
            received_at=ctx.received_at,
        )
    )


def normalize_user_report(payload: Any, ctx: IngestContext, what: str, batch: Batch) -> None:
    if not isinstance(payload, dict):
        raise ItemError(f"{what} must be a JSON object")
    event_id = optional_hex_id(payload.get("event_id"), 32, f"{what} event_id")
    batch.feedback.append(
        Feedback(
            project_id=ctx.project_id,
            event_id=uuid.uuid4().hex,
            timestamp=ctx.received_at,
            message=_message(payload.get("comments"), what),
            name=text(payload.get("name")),
            contact_email=text(payload.get("email")),
            associated_event_id=event_id,
            user=User(email=text(payload.get("email")), username=text(payload.get("name"))),
            received_at=ctx.received_at,
        )
    )
