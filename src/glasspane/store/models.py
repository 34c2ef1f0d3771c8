"""The read models: what the store contracts (``store.api``) take and return.

Plain dataclasses, owned by the caller once returned. :class:`Window` and
:class:`MetricQuery` say what to read; the rest are answers. Times are epoch
seconds, durations milliseconds; counts named ``count`` are weighted by
1 / sample rate and ``samples`` are raw (see docs/semantics.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from glasspane.domain import ClientInfo, Location, User
from glasspane.filters import Filter


# -- traces and outcomes -----------------------------------------------------
@dataclass(slots=True)
class TraceError:
    """An error event as a trace shows it."""

    event_id: str
    issue_id: int
    project_id: int
    trace_id: str | None
    span_id: str | None
    timestamp: float
    level: str
    type: str | None
    value: str | None
    title: str
    culprit: str | None
    location: Location | None
    contexts: dict[str, Any] = field(default_factory=dict)
    transaction: str | None = None


@dataclass(slots=True)
class OutcomeCount:
    """Items dropped, summed per project, category and reason: by glasspane
    (malformed, unsupported, over a quota) or, reasons ``client:*``, by the SDK."""

    project_id: int
    category: str
    reason: str
    quantity: int
    last_seen: float


# -- analytics read models ---------------------------------------------------
@dataclass(frozen=True, slots=True)
class Window:
    """Transactions that started in [start, end) and match ``filter``."""

    start: float
    end: float
    filter: Filter | None = None


@dataclass(slots=True)
class TransactionStats:
    transaction: str
    service: str
    project_id: int
    samples: int  # transactions received
    count: float  # weighted by 1 / sample rate
    p50_ms: float
    p95_ms: float
    failure_rate: float
    apdex: float


@dataclass(slots=True)
class ServiceStats:
    service: str
    samples: int
    count: float
    apdex: float
    error_rate: float
    p95_ms: float


@dataclass(slots=True)
class TraceSummary:
    trace_id: str
    transaction: str | None
    service: str
    duration_ms: float
    status: str
    user: str | None
    timestamp: float


@dataclass(slots=True)
class SeriesPoint:
    timestamp: float  # bucket start
    samples: int
    count: float
    p50_ms: float | None
    p95_ms: float | None
    failure_rate: float | None


@dataclass(frozen=True, slots=True)
class DurationSample:
    transaction: str
    service: str
    timestamp: float
    duration_ms: float
    failed: bool


@dataclass(slots=True)
class WindowTotals:
    samples: int
    count: float
    p50_ms: float | None
    p95_ms: float | None
    failure_rate: float | None
    error_rate: float | None


@dataclass(slots=True)
class WebVitalStats:
    """One web vital of one page (browser transaction): its p75 over the page's
    loads and navigations that measured it, and how many fell in each band.

    ``page`` is the transaction's name, or its ``url.path`` attribute when the
    name is the SDK's placeholder (:data:`PLACEHOLDER_PAGE_NAMES`)."""

    page: str
    transaction: str
    service: str
    project_id: int
    vital: str  # lcp, fcp, cls, inp, ttfb
    samples: int
    p75: float
    good: int
    needs_improvement: int
    poor: int


#: Page loads (browser transactions) by their op.
PAGE_OPS = ("pageload", "navigation")
#: What @sentry/browser names a page load when it streams spans: the page is
#: then told by the span's ``url.path``.
PLACEHOLDER_PAGE_NAMES = ("Pageload", "Navigation")


@dataclass(slots=True)
class SpanGroup:
    """Spans that share the values of the ``group_by`` keys (the span explorer)."""

    values: tuple[str | None, ...]  # one per group_by key, in its order
    samples: int  # spans received
    count: float  # weighted by 1 / sample rate
    p50_ms: float
    p95_ms: float
    avg_ms: float  # per span received, like the percentiles
    sum_ms: float  # weighted by 1 / sample rate
    failure_rate: float


@dataclass(frozen=True, slots=True)
class SpanGroupPoint:
    """One group's spans in one time bucket (the span explorer's chart)."""

    timestamp: float  # bucket start
    group: SpanGroup


@dataclass(slots=True)
class SuspectSpan:
    """One span kind (op and description) of a transaction, in the window and in the
    equal-length period before it: time and count per transaction, each span and each
    transaction weighted by 1 / sample rate."""

    op: str | None
    description: str | None
    ms_per_tx: float  # time in these spans per transaction, in the window
    before_ms_per_tx: float  # the same in the period before (0 when none ran)
    per_tx: float  # spans per transaction, in the window
    before_per_tx: float
    samples: int  # spans received in the window


@dataclass(slots=True)
class ImpactStats:
    users: int
    transactions: float  # failing transactions, weighted by 1 / sample rate
    by_country: dict[str, int]
    by_browser: dict[str, int]
    by_os: dict[str, int]


# -- issue read models -------------------------------------------------------
@dataclass(slots=True)
class IssueSummary:
    """An issue as listed: what it is (from its latest event) and how often it happens."""

    id: int
    project_id: int
    title: str
    type: str | None
    value: str | None
    culprit: str | None
    level: str
    status: str  # unresolved, resolved or ignored
    count: int  # matching events in the window
    users: int  # distinct identities among them
    first_seen: float  # over all time
    last_seen: float
    total: int  # events over all time
    regressed_at: float | None  # set when a resolved issue got a new event
    category: str = "error"  # or "performance": found by a detector in a transaction
    series: list[int] = field(default_factory=list)  # matching events per slice of the window


@dataclass(slots=True)
class IssueEvent:
    """One event of an issue, as the issue's event list shows it."""

    event_id: str
    timestamp: float
    trace_id: str | None
    span_id: str | None
    transaction: str | None
    service: str
    environment: str | None
    release: str | None
    level: str
    value: str | None
    identity: str | None  # user id, else email, else IP, else username
    user: str | None  # display: email, else username, else id, else IP


@dataclass(slots=True)
class RelatedIssue:
    id: int
    project_id: int
    title: str
    culprit: str | None
    status: str
    shared_traces: int


@dataclass(slots=True)
class TagBreakdown:
    """One tag over an issue's events: how many events carry it (``total``), its
    most common values with their counts, and the events with any other value."""

    key: str
    total: int
    values: list[tuple[str, int]]
    other: int


# -- metric read models ------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MetricQuery:
    """One metric's points in ``window``, bucketed by ``interval`` seconds and,
    with ``group_by`` (a column such as ``service`` or an attribute), grouped."""

    name: str
    window: Window
    interval: float
    group_by: str | None = None


@dataclass(slots=True)
class MetricBucket:
    """What one bucket (and group) of a metric holds.

    A Sentry ``trace_metric`` or OTLP sum/gauge point is one value; an OTLP
    histogram point brings its count and sum. Cumulative OTLP points count by
    their increase since the series' previous point (a repeated total is not
    counted). Percentiles are exact
    (interpolated between values) for single values and interpolated within
    buckets for histograms; ``None`` when a bucket mixes both kinds.
    """

    timestamp: float  # bucket start
    group: str | None  # the group_by value (None without group_by, or when absent)
    count: int
    sum: float
    min: float | None
    max: float | None
    p50: float | None
    p95: float | None


@dataclass(slots=True)
class MetricInfo:
    name: str
    type: str  # counter, gauge or distribution
    unit: str | None
    points: int
    last_seen: float


# -- replay and release health read models ----------------------------------
@dataclass(slots=True)
class ReplaySummary:
    """A replay as listed: its segments' metadata merged."""

    replay_id: str
    project_id: int
    started_at: float
    finished_at: float
    segments: int
    trace_ids: list[str]
    error_ids: list[str]
    urls: list[str]
    user: User
    client: ClientInfo
    environment: str | None
    release: str | None
    replay_type: str | None


@dataclass(slots=True)
class ReleaseHealth:
    """Sessions of one release by outcome (each session counted once, by its worst
    update) and the distinct users (``did``) among them."""

    project_id: int
    release: str
    environments: list[str]
    sessions: int
    healthy: int
    errored: int
    abnormal: int
    unhandled: int
    crashed: int
    users: int
    crashed_users: int  # users with a crashed or unhandled session
    first_seen: float
    last_seen: float
