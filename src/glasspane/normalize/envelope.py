"""A parsed envelope → one :class:`Batch`, item by item.

An item that cannot be used is dropped and counted as an outcome with its
reason; the items beside it are kept. Item types glasspane does not store yet
are accepted and counted as ``unsupported``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from glasspane.domain import Batch, Outcome
from glasspane.errors import ItemError
from glasspane.normalize.check_ins import normalize_check_in
from glasspane.normalize.context import IngestContext
from glasspane.normalize.event import normalize_event
from glasspane.normalize.feedback import normalize_feedback, normalize_user_report
from glasspane.normalize.logs import handle_log_item
from glasspane.normalize.profiles import normalize_profile, normalize_profile_chunk
from glasspane.normalize.replay import normalize_replay_event, normalize_replay_recording
from glasspane.normalize.sessions import normalize_session, normalize_sessions
from glasspane.normalize.spans_v2 import normalize_span_batch
from glasspane.normalize.statsd import normalize_statsd
from glasspane.normalize.trace_metrics import handle_trace_metric_item
from glasspane.normalize.transaction import normalize_transaction
from glasspane.protocol.envelope import Envelope, Item

#: Item type → data category, as Sentry names them for outcomes and rate limits.
CATEGORIES = {
    "event": "error",
    "transaction": "transaction",
    "span": "span",
    "log": "log_item",
    "trace_metric": "trace_metric",
    "statsd": "statsd",
    "session": "session",
    "sessions": "session",
    "check_in": "monitor",
    "profile": "profile",
    "profile_chunk": "profile_chunk",
    "attachment": "attachment",
    "replay_event": "replay",
    "replay_recording": "replay",
    "replay_video": "replay",
    "feedback": "feedback",
    "user_report": "user_report_v2",
    "client_report": "internal",
}


def _event(payload: Any, ctx: IngestContext, what: str, batch: Batch) -> None:
    if isinstance(payload, dict) and payload.get("type") == "transaction":
        _transaction(payload, ctx, what, batch)
    else:
        batch.errors.append(normalize_event(payload, ctx, what))


def _transaction(payload: Any, ctx: IngestContext, what: str, batch: Batch) -> None:
    if not isinstance(payload, dict):
        raise ItemError(f"{what} must be a JSON object")
    spans = normalize_transaction(payload, ctx, what)
    if ctx.max_spans and len(spans) > ctx.max_spans + 1:
        # keep the segment and the first children; count the rest (setting
        # max_spans_per_transaction) rather than refusing the transaction
        dropped = len(spans) - ctx.max_spans - 1
        segments = [s for s in spans if s.is_segment]
        children = [s for s in spans if not s.is_segment][: ctx.max_spans]
        spans = segments + children
        batch.outcomes.append(
            Outcome(ctx.project_id, "span", "too_many_spans", dropped, ctx.received_at)
        )
    batch.spans.extend(spans)


def _span(payload: Any, ctx: IngestContext, what: str, batch: Batch) -> None:
    batch.spans.extend(normalize_span_batch(payload, ctx, what))


def _client_report(payload: Any, ctx: IngestContext, what: str, batch: Batch) -> None:
    """What the SDK itself dropped, kept beside our own outcomes."""
    entries = payload.get("discarded_events") if isinstance(payload, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        quantity = entry.get("quantity") if isinstance(entry, dict) else None
        if isinstance(quantity, int) and not isinstance(quantity, bool):
            batch.outcomes.append(
                Outcome(
                    project_id=ctx.project_id,
                    category=str(entry.get("category")),
                    reason=f"client:{entry.get('reason')}",
                    quantity=quantity,
                    timestamp=ctx.received_at,
                )
            )


HANDLERS: dict[str, Callable[[Any, IngestContext, str, Batch], None]] = {
    "event": _event,
    "transaction": _transaction,
    "span": _span,
    "client_report": _client_report,
    "log": handle_log_item,
    "trace_metric": handle_trace_metric_item,
    "replay_event": normalize_replay_event,
    "session": normalize_session,
    "sessions": normalize_sessions,
    "check_in": normalize_check_in,
    "feedback": normalize_feedback,
    "user_report": normalize_user_report,
    "profile": normalize_profile,
    "profile_chunk": normalize_profile_chunk,
}

#: Item types whose payload is not JSON: their handlers get the bytes.
BINARY_HANDLERS: dict[str, Callable[[bytes, IngestContext, str, Batch], None]] = {
    "replay_recording": normalize_replay_recording,
    "statsd": normalize_statsd,
}


def normalize_item(item: Item, ctx: IngestContext) -> Batch:
    """The domain objects of one item; :class:`ItemError` if it is unusable."""
    batch = Batch()
    binary = BINARY_HANDLERS.get(item.type)
    if binary is not None:
        binary(item.payload, ctx, item.describe(), batch)
        return batch
    handler = HANDLERS.get(item.type)
    if handler is None:
        raise ItemError(f"{item.describe()} is not a type glasspane stores", "unsupported")
    handler(item.json(), ctx, item.describe(), batch)
    return batch


def normalize_envelope(envelope: Envelope, ctx: IngestContext) -> tuple[Batch, list[str]]:
    """Everything usable in the envelope, and a message per dropped item."""
    batch = Batch()
    problems: list[str] = []
    for item in envelope.items:
        try:
            batch.extend(normalize_item(item, ctx))
        except ItemError as exc:
            if exc.reason != "unsupported":
                problems.append(str(exc))
            batch.outcomes.append(
                Outcome(
                    project_id=ctx.project_id,
                    category=CATEGORIES.get(item.type, item.type or "unknown"),
                    reason=exc.reason,
                    timestamp=ctx.received_at,
                )
            )
    for error in envelope.errors:
        problems.append(str(error))
        batch.outcomes.append(Outcome(ctx.project_id, "unknown", error.reason, 1, ctx.received_at))
    return batch, problems
