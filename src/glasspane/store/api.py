"""The store contract every backend fulfils, and the read models it returns.

Durability: the future returned by :meth:`Store.write` resolves only after
everything in the batch is committed; an acknowledged write survives the
process being killed. A failed write resolves with :class:`StoreError`.
Concurrency: ``write`` may be called from any thread or coroutine; reads may
run concurrently with writes and see only committed data.
Ownership: returned objects belong to the caller.
Unknown ids: reads return empty results or ``None``, never raise; the query
layer decides what is a 404.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

from glasspane.domain import (
    Batch,
    CheckIn,
    ClientInfo,
    Feedback,
    Location,
    LogRecord,
    Profile,
    Project,
    ReplayEvent,
    ReplayRecording,
    Span,
    User,
)
from glasspane.filters import Filter
from glasspane.store.accounts import AccountStore


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
    project_id: int
    category: str
    reason: str
    quantity: int
    last_seen: float


class Store(AccountStore, Protocol):
    # -- writing ---------------------------------------------------------
    def write(self, batch: Batch) -> Future[None]:
        """Queue the batch; the future resolves once it is durably committed.

        ``batch.checkpoint`` (ingest journal positions) is committed with its rows.
        """
        ...

    def journal_positions(self) -> dict[str, int]:
        """The committed journal positions: segment file name → offset fed up to."""
        ...

    def create_project(self, name: str, public_key: str, apdex_threshold_ms: float) -> Project:
        """A new project with the next id; :class:`Conflict` if the name is taken."""
        ...

    def set_apdex_threshold(self, project_id: int, threshold_ms: float) -> Project | None:
        """Change a project's Apdex T; ``None`` if there is no such project."""
        ...

    def set_public_key(self, project_id: int, public_key: str) -> Project | None:
        """Replace a project's DSN key (the old one stops working); ``None`` if unknown."""
        ...

    # -- reading ---------------------------------------------------------
    def list_projects(self) -> list[Project]:
        """Every project, by id."""
        ...

    def trace_spans(self, trace_id: str) -> list[Span]:
        """Every span of the trace across projects, by start time; [] if unknown."""
        ...

    def trace_errors(self, trace_id: str) -> list[TraceError]:
        """Every error event of the trace, by time; [] if unknown."""
        ...

    def outcomes(self) -> list[OutcomeCount]:
        """Dropped items summed per project, category and reason."""
        ...

    # -- analytics (transactions are segments that started in the window) ---
    def transaction_stats(self, window: Window) -> list[TransactionStats]:
        """One row per (transaction name, service); order unspecified."""
        ...

    def service_stats(self, window: Window) -> list[ServiceStats]:
        """One row per service; error rate counts failed or error-carrying ones."""
        ...

    def trace_summaries(
        self, window: Window, status: str | None, sort: str, limit: int
    ) -> list[TraceSummary]:
        """Traces with a matching transaction; ``sort`` is ``[-]timestamp|duration``."""
        ...

    def transaction_series(self, window: Window, interval: float) -> list[SeriesPoint]:
        """Buckets of ``interval`` seconds from the window's start, oldest first."""
        ...

    def duration_samples(self, window: Window, per_transaction: int) -> list[DurationSample]:
        """Per transaction, at most ``per_transaction`` samples, by time."""
        ...

    def impact(self, window: Window) -> ImpactStats:
        """Affected users and failing transactions, by country, browser and OS."""
        ...

    def window_totals(self, window: Window) -> WindowTotals:
        """All matching transactions together; percentiles and rates ``None`` when empty."""
        ...

    # -- alert state -------------------------------------------------------
    def alert_states(self) -> dict[str, dict[str, Any]]:
        """Each rule's saved state (JSON objects), by rule name."""
        ...

    def save_alert_state(self, rule: str, state: dict[str, Any]) -> None:
        """Durably replace one rule's state."""
        ...

    # -- issues (aggregates computed from the error rows) -----------------
    def take_lease(self, name: str, holder: str, seconds: float) -> bool:
        """Hold the named lease for ``seconds`` if it is free, expired or already
        ``holder``'s; whether ``holder`` holds it now. Several processes sharing
        one store use it to agree on who runs a singleton job (alert evaluation)."""
        ...

    def enforce_retention(self) -> None:
        """Drop data older than the retention now (the store also does it by itself)."""
        ...

    def lease_holder(self, name: str) -> str | None:
        """Who holds the named lease now (``None``: nobody, or a single-process store)."""
        ...

    def validate_filter(self, tree: Filter | None) -> None:
        """:class:`QueryError` naming a key that is neither a search key nor a tag seen
        in the data."""
        ...

    def list_issues(
        self, window: Window, sort: str, limit: int, buckets: int = 24
    ) -> list[IssueSummary]:
        """Issues with a matching event in the window; ``count``/``users``/``series``
        over those events, the rest over all time. ``sort`` is
        ``[-]last_seen|first_seen|count|users``; :class:`ProtocolError` for others."""
        ...

    def get_issue(self, issue_id: int, window: Window, buckets: int = 24) -> IssueSummary | None:
        """One issue (zero counts when nothing matched in the window); ``None`` if unknown."""
        ...

    def issue_event(self, issue_id: int, event_id: str | None = None) -> dict[str, Any] | None:
        """The full event as stored (the latest when ``event_id`` is ``None``)."""
        ...

    def issue_events(self, issue_id: int, limit: int, offset: int = 0) -> list[IssueEvent]:
        """The issue's events, newest first."""
        ...

    def related_issues(self, issue_id: int, limit: int = 20) -> list[RelatedIssue]:
        """Other issues seen in the same traces, most shared traces first."""
        ...

    def set_issue_status(self, issue_id: int, status: str) -> bool:
        """``unresolved``, ``resolved`` or ``ignored``, durably; False if the issue is
        unknown. A later event on a resolved issue reopens it as regressed."""
        ...

    # -- logs and metrics (times are when the SDK recorded them) ----------
    def trace_logs(self, trace_id: str, limit: int) -> list[LogRecord]:
        """The trace's logs across projects, oldest first, at most ``limit``."""
        ...

    def list_logs(self, window: Window, limit: int) -> list[LogRecord]:
        """Logs in the window matching its filter, newest first, at most ``limit``;
        :class:`QueryError` for a key that is neither known nor an attribute seen."""
        ...

    def describe_metric(self, name: str) -> MetricInfo | None:
        """The metric's latest type and unit over all time; ``None`` if never seen."""
        ...

    def list_metrics(self, window: Window) -> list[MetricInfo]:
        """Every metric with a point in the window matching its filter, by name."""
        ...

    def metric_series(self, query: MetricQuery) -> list[MetricBucket]:
        """Per bucket of ``query.interval`` seconds from the window's start (oldest
        first, empty buckets omitted) and per group: counts, sums, extremes and
        percentiles of the metric's increments (see :class:`MetricBucket`)."""
        ...

    # -- replays, release health, crons, feedback, profiles ----------------
    def replay_segments(self, replay_id: str) -> list[ReplayEvent]:
        """The replay's ``replay_event`` of each segment, by segment id; [] if unknown."""
        ...

    def replay_recordings(self, replay_id: str) -> list[ReplayRecording]:
        """The replay's recordings, by segment id (a resent segment appears once)."""
        ...

    def list_replays(
        self, window: Window, trace_id: str | None, issue_id: int | None, limit: int
    ) -> list[ReplaySummary]:
        """Replays with a segment in the window, newest first; with ``trace_id`` only
        those that saw the trace, with ``issue_id`` those that saw one of its events
        or traces."""
        ...

    def errors_by_id(self, event_ids: list[str]) -> list[TraceError]:
        """The error events with these ids (unknown ids are left out), by time."""
        ...

    def release_health(self, window: Window) -> list[ReleaseHealth]:
        """Per project and release, sessions started in the window by outcome."""
        ...

    def check_ins(self, window: Window) -> list[CheckIn]:
        """Check-ins in the window, and each monitor's last one before it, by time."""
        ...

    def client_reports(self, window: Window) -> list[OutcomeCount]:
        """What the SDKs reported dropping (reasons ``client:*``) in the window."""
        ...

    def list_feedback(self, window: Window, replay_id: str | None, limit: int) -> list[Feedback]:
        """User feedback in the window, newest first."""
        ...

    def get_profile(self, profile_id: str) -> Profile | None:
        """One profile with its payload; ``None`` if unknown."""
        ...

    def list_profiles(
        self, window: Window, transaction_id: str | None, trace_id: str | None, limit: int
    ) -> list[Profile]:
        """Profiles in the window (or of the transaction / trace at any time), newest
        first, without their payloads (``b""``)."""
        ...

    # -- lifecycle -------------------------------------------------------
    def close(self) -> None:
        """Commit what is queued, then release the database."""
        ...


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
class ImpactStats:
    users: int
    transactions: int
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
