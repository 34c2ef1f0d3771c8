"""Performance issues: the detectors run over each finished transaction of a write group.

The writer thread calls :func:`performance_events` with the group's span rows
(``rows.SPAN_COLUMNS``, whichever way the spans arrived: transaction items,
span v2 batches, OTLP, the ingest journal). A transaction is looked at when its
segment row is in the group, with the child spans that came with it and those
that came before it (:class:`WaitingChildren`: span-streaming SDKs and OTLP
exporters send a transaction's spans in several requests, the segment last). Each
finding becomes an event of category ``performance`` stored beside the error
events, so counts, users, first and last seen, resolve and regress work alike
([decision 013](../../../docs/decisions/013-performance-issues.md)).
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any, Generic, TypeVar

import orjson

from glasspane.detectors import Finding, ProjectThresholds, SpanFacts, Transaction, detect
from glasspane.domain import ClientInfo, ErrorEvent, User
from glasspane.store.rows import SPAN_COLUMNS

_COL = {name: index for index, name in enumerate(SPAN_COLUMNS)}
_PROJECT, _TRACE, _SEGMENT = _COL["project_id"], _COL["trace_id"], _COL["segment_id"]
_IS_SEGMENT, _START, _END = _COL["is_segment"], _COL["start_ts"], _COL["end_ts"]
_DATA, _MEASUREMENTS = _COL["data"], _COL["measurements"]
_SPAN_ID = _COL["span_id"]
_FACTS = itemgetter(
    *(_COL[name] for name in ("span_id", "parent_span_id", "op", "description", "duration_ms"))
)

Row = tuple[Any, ...]
Conn = TypeVar("Conn")

#: How long the writer keeps the projects' thresholds before reading them again
#: (a change made in this process applies at once; in another one sharing the
#: ClickHouse server, within this many seconds).
THRESHOLDS_TTL_S = 5.0


class ThresholdsCache(Generic[Conn]):
    """Each project's own detector thresholds, for the writer thread: read with
    ``load`` at most every :data:`THRESHOLDS_TTL_S` seconds, and again after
    :meth:`forget` (the writer calls it when it saves a change)."""

    def __init__(self, load: Callable[[Conn], dict[int, ProjectThresholds]]) -> None:
        self._load = load
        self._value: dict[int, ProjectThresholds] = {}
        self._read_at = float("-inf")

    def get(self, conn: Conn) -> dict[int, ProjectThresholds]:
        now = time.monotonic()
        if now - self._read_at >= THRESHOLDS_TTL_S:
            self._value, self._read_at = self._load(conn), now
        return self._value

    def forget(self) -> None:
        self._read_at = float("-inf")


def thresholds_from_rows(rows: Sequence[tuple[int, str]]) -> dict[int, ProjectThresholds]:
    """``(project id, thresholds JSON)`` rows as a mapping, empty ones left out."""
    found: dict[int, ProjectThresholds] = {}
    for project_id, text in rows:
        value = orjson.loads(text) if text else None
        if value:
            found[int(project_id)] = value
    return found


#: Findings about a URL (an outgoing call, an asset) name it ``url`` in the evidence.
_URL_TYPES = frozenset(
    {"n_plus_one_api_calls", "large_http_payload", "uncompressed_asset", "render_blocking_asset"}
)


Key = tuple[int, str, str]  # project id, trace id, segment id

#: Child spans held for a segment that has not come yet: at most this many rows ...
MAX_WAITING_ROWS = 20_000
#: ... for at most this long (a transaction's spans come within seconds of each other).
MAX_WAITING_SECONDS = 300.0


class WaitingChildren:
    """Child spans whose segment has not come yet, in memory, oldest first.

    Span-streaming SDKs (@sentry/node and @sentry/browser 10+) and OpenTelemetry's
    batch exporters send a transaction's spans in several requests, the segment
    (which ends last) usually in the last one, so each lands in another write group.
    The writer holds the children here and joins them to their segment when it comes.
    Bounded by rows and age, oldest dropped first; lost on restart, and each writer
    process has its own (docs/performance-issues.md says what that misses).
    """

    def __init__(
        self, max_rows: int = MAX_WAITING_ROWS, max_seconds: float = MAX_WAITING_SECONDS
    ) -> None:
        self.max_rows = max_rows
        self.max_seconds = max_seconds
        self._held: OrderedDict[Key, tuple[float, list[Row]]] = OrderedDict()
        self._rows = 0

    def __len__(self) -> int:
        """Rows held."""
        return self._rows

    def hold(self, key: Key, rows: Sequence[Row], now: float) -> None:
        held = self._held.get(key)
        if held is None:
            self._held[key] = (now, list(rows))
        else:
            held[1].extend(rows)
        self._rows += len(rows)
        self._drop_old(now)

    def take(self, key: Key) -> list[Row]:
        """The rows held for ``key`` (none: ``[]``), no longer held."""
        held = self._held.pop(key, None)
        if held is None:
            return []
        self._rows -= len(held[1])
        return held[1]

    def _drop_old(self, now: float) -> None:
        while self._held:
            key, (since, rows) = next(iter(self._held.items()))
            if self._rows <= self.max_rows and now - since <= self.max_seconds:
                return
            del self._held[key]
            self._rows -= len(rows)


def _unique(rows: list[Row]) -> list[Row]:
    """One row per span id (a write group retried after a failure holds its rows twice)."""
    return list({row[_SPAN_ID]: row for row in rows}.values())


def performance_events(
    span_rows: Sequence[Row],
    now: float,
    thresholds: Mapping[int, ProjectThresholds] | None = None,
    waiting: WaitingChildren | None = None,
) -> list[ErrorEvent]:
    """The detectors' findings in every transaction whose segment is among ``span_rows``,
    with each project's own ``thresholds`` (by project id) over the defaults. With
    ``waiting``, children without their segment are held there, and a segment is
    examined with the children held for it."""
    transactions: dict[Key, list[Row]] = {}
    for row in span_rows:
        transactions.setdefault((row[_PROJECT], row[_TRACE], row[_SEGMENT]), []).append(row)
    events: list[ErrorEvent] = []
    for key, spans in transactions.items():
        segment = next((row for row in spans if row[_IS_SEGMENT]), None)
        if segment is None:
            if waiting is not None:
                waiting.hold(key, spans, now)
            continue
        if waiting is not None and (earlier := waiting.take(key)):
            spans = _unique(earlier + spans)
        if len(spans) < 2:
            continue
        facts = [_facts(row) for row in spans if not row[_IS_SEGMENT]]
        own = (thresholds or {}).get(segment[_PROJECT])
        found = detect(facts, _transaction(segment), own)
        events += [_event(segment, finding, now) for finding in found]
    return events


def _facts(row: Row) -> SpanFacts:
    span_id, parent_span_id, op, description, duration_ms = _FACTS(row)
    if not (op and (op.startswith("resource.") or op == "http.client") and row[_DATA]):
        return SpanFacts(
            span_id, parent_span_id, op, description, duration_ms, row[_START], row[_END]
        )
    data = _object(row[_DATA])
    blocking = data.get("resource.render_blocking_status")
    return SpanFacts(
        span_id,
        parent_span_id,
        op,
        _described(op, description, data),
        duration_ms,
        row[_START],
        row[_END],
        _first_size(data, _ENCODED),
        _first_size(data, _DECODED),
        blocking if isinstance(blocking, str) else None,
    )


def _object(text: str) -> dict[str, Any]:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _described(op: str, description: str | None, data: dict[str, Any]) -> str | None:
    """The span's URL (``GET https://host/path`` for a call): span-streaming SDKs
    (@sentry/browser 10 and later) name these spans by domain only (``GET host``)
    and keep the URL in ``url.full``."""
    url = data.get("url.full") or data.get("http.url")
    if not isinstance(url, str) or not url:
        return description
    if op != "http.client":
        return url
    method = data.get("http.request.method") or data.get("http.method")
    if not isinstance(method, str):
        method = (description or "GET").partition(" ")[0]
    return f"{method} {url}"


#: The body size as sent, and decoded, under the names the SDKs have used: the
#: OpenTelemetry-style names of @sentry/browser 10 and later first, then the older
#: ones; the whole transfer's size when the body's is missing.
_ENCODED = (
    "http.response.body.size",
    "http.response_content_length",
    "http.response.size",
    "http.response_transfer_size",
)
_DECODED = ("http.response.body.decoded_size", "http.decoded_response_content_length")


def _first_size(data: dict[str, Any], names: tuple[str, ...]) -> int | None:
    for name in names:
        size = _size(data.get(name))
        if size is not None:
            return size
    return None


def _size(value: Any) -> int | None:
    """A byte count as the SDKs send it: a number, or a string of digits (a header)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and value >= 0:
        return int(value)
    if isinstance(value, str) and value.isdigit() and len(value) < 19:
        return int(value)
    return None


def _transaction(segment: Row) -> Transaction:
    """The segment's start, duration and first contentful paint: a ``fcp``
    measurement (transactions) or the ``browser.web_vital.fcp.value`` attribute
    (span-streaming SDKs)."""
    fcp: Any = None
    if segment[_MEASUREMENTS]:
        entry = _object(segment[_MEASUREMENTS]).get("fcp")
        fcp = entry.get("value") if isinstance(entry, dict) else entry
    if fcp is None and segment[_DATA]:
        fcp = _object(segment[_DATA]).get("browser.web_vital.fcp.value")
    if not isinstance(fcp, int | float) or isinstance(fcp, bool):
        fcp = None
    return Transaction(segment[_START], segment[_COL["duration_ms"]], fcp)


def http_call(description: str | None, data_json: str | None) -> str | None:
    """``METHOD URL`` of an outgoing request, as the detectors compare calls."""
    return _described("http.client", description, _object(data_json) if data_json else {})


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
    evidence: dict[str, Any] = {
        "span_ids": list(finding.span_ids),
        ("url" if finding.type in _URL_TYPES else "statement"): finding.statement,
        "repeated": finding.repeated,
        "duration_ms": round(finding.duration_ms, 3),
    }
    if finding.size_bytes is not None:
        evidence["size_bytes"] = finding.size_bytes
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
