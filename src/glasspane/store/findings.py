"""Performance issues: the detectors run over each finished transaction of a write group.

The writer thread calls :func:`performance_events` with the group's span rows
(``rows.SPAN_COLUMNS``, whichever way the spans arrived: transaction items,
span v2 batches, OTLP, the ingest journal). A transaction is looked at when its
segment row is in the group, with the child spans that came with it. Each
finding becomes an event of category ``performance`` stored beside the error
events, so counts, users, first and last seen, resolve and regress work alike
([decision 013](../../../docs/decisions/013-performance-issues.md)).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

import orjson

from glasspane.detectors import Finding, SpanFacts, detect
from glasspane.domain import ClientInfo, ErrorEvent, User
from glasspane.store.rows import SPAN_COLUMNS

_COL = {name: index for index, name in enumerate(SPAN_COLUMNS)}
_PROJECT, _TRACE, _SEGMENT = _COL["project_id"], _COL["trace_id"], _COL["segment_id"]
_IS_SEGMENT, _START, _END = _COL["is_segment"], _COL["start_ts"], _COL["end_ts"]
_DATA = _COL["data"]
_FACTS = itemgetter(
    *(_COL[name] for name in ("span_id", "parent_span_id", "op", "description", "duration_ms"))
)

Row = tuple[Any, ...]


def performance_events(span_rows: Sequence[Row], now: float) -> list[ErrorEvent]:
    """The detectors' findings in every transaction whose segment is among ``span_rows``."""
    transactions: dict[tuple[int, str, str], list[Row]] = {}
    for row in span_rows:
        transactions.setdefault((row[_PROJECT], row[_TRACE], row[_SEGMENT]), []).append(row)
    events: list[ErrorEvent] = []
    for spans in transactions.values():
        segment = next((row for row in spans if row[_IS_SEGMENT]), None)
        if segment is None or len(spans) < 2:
            continue
        facts = [_facts(row) for row in spans if not row[_IS_SEGMENT]]
        events += [_event(segment, finding, now) for finding in detect(facts)]
    return events


def _facts(row: Row) -> SpanFacts:
    span_id, parent_span_id, op, description, duration_ms = _FACTS(row)
    if op == "http.client":
        description = http_call(description, row[_DATA])
    return SpanFacts(span_id, parent_span_id, op, description, duration_ms, row[_START], row[_END])


#: Where SDKs put an outgoing request's URL and method (OpenTelemetry's names first).
_URL_KEYS = ("url.full", "http.url", "url")
_METHOD_KEYS = ("http.request.method", "http.method")
#: Longer URLs are cut: the pattern of a call is in its beginning.
MAX_URL_CHARS = 2048


def http_call(description: str | None, data_json: str | None) -> str | None:
    """``METHOD URL`` of an outgoing request. OpenTelemetry-based SDKs (@sentry/node)
    name the span ``GET host`` and keep the URL in its data; the detectors need the
    URL, so calls to two endpoints of one host are not taken for the same call."""
    if not data_json or "url" not in data_json:
        return description
    try:
        data = orjson.loads(data_json)
    except orjson.JSONDecodeError:
        return description
    url = next((data[k] for k in _URL_KEYS if isinstance(data.get(k), str) and data[k]), None)
    if url is None:
        return description
    method = next((data[k] for k in _METHOD_KEYS if isinstance(data.get(k), str)), None)
    if method is None and description:
        first = description.split(" ", 1)[0]
        method = first if first.isupper() else None
    return f"{method} {url[:MAX_URL_CHARS]}" if method else url[:MAX_URL_CHARS]


def fingerprint(finding: Finding, transaction: str) -> str:
    """One issue per detector, transaction and masked statement (in each project)."""
    key = "\n".join(("performance", finding.type, transaction, finding.statement))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _event(segment: Row, finding: Finding, now: float) -> ErrorEvent:
    def col(name: str) -> Any:
        return segment[_COL[name]]

    transaction = col("transaction") or ""
    trace_id = col("trace_id")
    # The same finding in the same transaction is the same event: a batch fed
    # twice (ClickHouse has no transactions) is counted once.
    event_id = hashlib.sha256(
        "\n".join((trace_id, col("span_id"), finding.type, *finding.span_ids)).encode()
    ).hexdigest()[:32]
    evidence = {
        "span_ids": list(finding.span_ids),
        ("url" if finding.type == "n_plus_one_api_calls" else "statement"): finding.statement,
        "repeated": finding.repeated,
        "duration_ms": round(finding.duration_ms, 3),
    }
    return ErrorEvent(
        project_id=col("project_id"),
        event_id=event_id,
        timestamp=col("end_ts"),
        received_at=now,
        level="warning",
        platform=col("platform"),
        trace_id=trace_id,
        span_id=finding.span_ids[0],
        transaction=transaction or None,
        message=finding.statement,
        exceptions=[],
        fingerprint=fingerprint(finding, transaction),
        title=finding.title,
        culprit=transaction or None,
        location=None,
        service=col("service"),
        user=User(
            id=col("user_id"),
            email=col("user_email"),
            username=col("user_username"),
            ip_address=col("user_ip"),
        ),
        client=ClientInfo(col("browser_name"), col("os_name"), col("country_code")),
        release=col("release"),
        environment=col("environment"),
        category="performance",
        issue_type=finding.type,
        evidence=evidence,
    )
