"""Profiles: ``profile`` (format v1, bound to one transaction) and
``profile_chunk`` (format v2, continuous, bound to a profiler session).

The profile itself is kept as the SDK sent it; what links it is pulled out:
v1 names its transaction (``transactions[0].id`` is the transaction's event
id, with its name and trace id), v2 its ``profiler_id``, which the spans it
covers carry in ``contexts.profile`` / ``data.profiler_id``.
"""

from __future__ import annotations

from typing import Any

import orjson

from glasspane.domain import Batch, Profile
from glasspane.errors import ItemError
from glasspane.normalize.context import IngestContext
from glasspane.normalize.values import hex_id, mapping, optional_hex_id, text, timestamp


def _nanoseconds(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _stored(payload: dict[str, Any], what: str) -> bytes:
    """The profile as JSON again; orjson writes at most 254 levels, the parser reads 1024."""
    try:
        return orjson.dumps(payload)
    except orjson.JSONEncodeError as exc:
        raise ItemError(f"{what} cannot be stored: {exc}") from None


def _samples(payload: dict[str, Any], what: str) -> int:
    samples = mapping(payload.get("profile")).get("samples")
    if not isinstance(samples, list):
        raise ItemError(f"{what} has no profile.samples list")
    return len(samples)


def normalize_profile(payload: Any, ctx: IngestContext, what: str, batch: Batch) -> None:
    if not isinstance(payload, dict):
        raise ItemError(f"{what} must be a JSON object")
    samples = _samples(payload, what)
    transactions = payload.get("transactions")
    txn = mapping(transactions[0]) if isinstance(transactions, list) and transactions else {}
    txn = txn or mapping(payload.get("transaction"))  # the newer single-transaction shape
    start, end = (
        _nanoseconds(txn.get("relative_start_ns")),
        _nanoseconds(txn.get("relative_end_ns")),
    )
    raw_ts = payload.get("timestamp")
    batch.profiles.append(
        Profile(
            project_id=ctx.project_id,
            profile_id=hex_id(
                payload.get("event_id") or payload.get("profile_id"), 32, f"{what} event_id"
            ),
            kind="transaction",
            timestamp=ctx.received_at if raw_ts is None else timestamp(raw_ts, f"{what} timestamp"),
            platform=text(payload.get("platform")),
            payload=_stored(payload, what),
            transaction_id=optional_hex_id(txn.get("id"), 32, f"{what} transactions[0].id"),
            transaction=text(txn.get("name")),
            trace_id=optional_hex_id(txn.get("trace_id"), 32, f"{what} transactions[0].trace_id"),
            duration_ms=(end - start) / 1e6 if start is not None and end is not None else None,
            samples=samples,
            environment=text(payload.get("environment")),
            release=text(payload.get("release")),
            received_at=ctx.received_at,
        )
    )


def normalize_profile_chunk(payload: Any, ctx: IngestContext, what: str, batch: Batch) -> None:
    if not isinstance(payload, dict):
        raise ItemError(f"{what} must be a JSON object")
    samples = mapping(payload.get("profile")).get("samples")
    if not isinstance(samples, list):
        raise ItemError(f"{what} has no profile.samples list")
    times = [
        s["timestamp"]
        for s in samples
        if isinstance(s, dict) and isinstance(s.get("timestamp"), (int, float))
    ]
    batch.profiles.append(
        Profile(
            project_id=ctx.project_id,
            profile_id=hex_id(payload.get("chunk_id"), 32, f"{what} chunk_id"),
            kind="chunk",
            timestamp=float(min(times)) if times else ctx.received_at,
            platform=text(payload.get("platform")),
            payload=_stored(payload, what),
            profiler_id=hex_id(payload.get("profiler_id"), 32, f"{what} profiler_id"),
            duration_ms=(max(times) - min(times)) * 1000.0 if times else None,
            samples=len(samples),
            environment=text(payload.get("environment")),
            release=text(payload.get("release")),
            received_at=ctx.received_at,
        )
    )
