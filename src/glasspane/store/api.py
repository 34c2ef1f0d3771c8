"""The store contracts, one per role, and :class:`Store`, their sum.

Each caller depends on the role it uses: ingest (and the journal feeder) on
:class:`BatchWriter`, the project cache on :class:`ProjectStore`, the alert
engine on :class:`AlertStateStore`, each ``query`` module on its reader, the
accounts (``access/``) on :class:`~glasspane.store.accounts.AccountStore`. Every
backend implements all of them as one :class:`Store`; ``tests/store`` holds
both to the same suite. What they return are the read models of
:mod:`glasspane.store.models`.

What holds for every role:

- Durability: the future returned by :meth:`BatchWriter.write` resolves only
  after everything in the batch is committed; an acknowledged write survives
  the process being killed. A failed write resolves with :class:`StoreError`
  (:class:`DiskFull` when the disk refuses writes). The other writes return
  once durable.
- Concurrency: any method may be called from any thread; reads run
  concurrently with writes and see only committed data.
- Ownership: returned objects belong to the caller.
- Unknown ids: reads return empty results or ``None``, never raise; the query
  layer decides what is a 404.
- Filters: a window's filter with a key that is neither a search key nor a
  tag (or attribute) seen in the data is a :class:`QueryError` naming it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from typing import Any, Protocol

from glasspane.domain import (
    Batch,
    CheckIn,
    Feedback,
    LogRecord,
    Profile,
    Project,
    ReplayEvent,
    ReplayRecording,
    Span,
)
from glasspane.filters import Filter
from glasspane.store.accounts import AccountStore
from glasspane.store.models import (
    DurationSample,
    ImpactStats,
    IssueEvent,
    IssueSummary,
    MetricBucket,
    MetricInfo,
    MetricQuery,
    OutcomeCount,
    RelatedIssue,
    ReleaseHealth,
    ReplaySummary,
    SeriesPoint,
    ServiceStats,
    SpanGroup,
    SpanGroupPoint,
    SuspectSpan,
    TagBreakdown,
    TraceError,
    TraceSummary,
    TransactionStats,
    WebVitalStats,
    Window,
    WindowTotals,
)


class BatchWriter(Protocol):
    """The write path: ingest, the journal feeder, the demo's own receiver."""

    def write(self, batch: Batch) -> Future[None]:
        """Queue the batch; the future resolves once it is durably committed.

        ``batch.checkpoint`` (ingest journal positions) is committed with its rows.
        """
        ...

    def journal_positions(self) -> dict[str, int]:
        """The committed journal positions: segment file name → offset fed up to."""
        ...


class ProjectStore(Protocol):
    """Projects and their DSN keys (``instance.py`` keeps a cache of them)."""

    def list_projects(self) -> list[Project]:
        """Every project, by id."""
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

    def detector_thresholds(self) -> dict[int, dict[str, dict[str, float | bool]]]:
        """Each project's own performance detector thresholds (validated by
        ``detectors.thresholds.validate``), by project id; projects that kept the
        defaults are left out."""
        ...

    def set_detector_thresholds(
        self, project_id: int, thresholds: dict[str, dict[str, float | bool]]
    ) -> None:
        """Replace a project's own thresholds (``{}``: back to the defaults). The
        detectors use them for transactions written after this returns (in other
        processes sharing a ClickHouse server, within
        ``findings.THRESHOLDS_TTL_S`` seconds)."""
        ...


class AlertStateStore(Protocol):
    """What the alert engine saves, and the lease naming the process that evaluates."""

    def alert_states(self) -> dict[str, dict[str, Any]]:
        """Each rule's saved state (JSON objects), by rule name."""
        ...

    def save_alert_state(self, rule: str, state: dict[str, Any]) -> None:
        """Durably replace one rule's state."""
        ...

    def take_lease(self, name: str, holder: str, seconds: float) -> bool:
        """Hold the named lease for ``seconds`` if it is free, expired or already
        ``holder``'s; whether ``holder`` holds it now. Several processes sharing
        one store use it to agree on who runs a singleton job (alert evaluation).
        A store not :attr:`~StoreLifecycle.shared_between_processes` may grant
        every call: the one process that opened it has no one to agree with."""
        ...

    def lease_holder(self, name: str) -> str | None:
        """Who holds the named lease now (``None``: nobody, or a single-process store)."""
        ...


class TraceReader(Protocol):
    """Spans and error events by trace (the trace view) and by event id."""

    def trace_spans(self, trace_id: str) -> list[Span]:
        """Every span of the trace across projects, by start time; [] if unknown."""
        ...

    def trace_errors(self, trace_id: str) -> list[TraceError]:
        """Every error event of the trace, by time; [] if unknown."""
        ...

    def errors_by_id(self, event_ids: list[str]) -> list[TraceError]:
        """The error events with these ids (unknown ids are left out), by time."""
        ...


class AnalyticsReader(Protocol):
    """Performance analytics; transactions are segments that started in the window."""

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

    def validate_filter(self, tree: Filter | None) -> None:
        """:class:`QueryError` naming a key that is neither a search key nor a tag seen
        in the data."""
        ...

    def web_vitals(
        self, window: Window, bands: Mapping[str, tuple[float, float]]
    ) -> list[WebVitalStats]:
        """Per (page, service) and vital of ``bands`` (name → (good up to, poor above)),
        the p75 and the band counts over the page loads (``PAGE_OPS``) that measured
        it: the transaction's measurement ``<vital>``, or the attribute
        ``browser.web_vital.<vital>.value`` of the page load's span or of a ``ui.*``
        span of its segment (span streaming sends LCP, CLS and INP so). Order
        unspecified."""
        ...

    def list_spans(self, window: Window, sort: str, limit: int) -> list[Span]:
        """Every span (not only transactions) that started in the window and meets its
        filter itself; ``sort`` is ``-timestamp``, ``timestamp``, ``-duration`` or
        ``duration`` (:class:`ProtocolError` for others); :class:`QueryError` for an
        unknown key."""
        ...

    def span_groups(self, window: Window, group_by: tuple[str, ...]) -> list[SpanGroup]:
        """The window's matching spans grouped by ``group_by`` (span keys or tag names),
        the largest weighted counts first, at most ``MAX_SPAN_GROUPS``;
        :class:`QueryError` for a key that cannot group spans or is unknown."""
        ...

    def transaction_tags(self, window: Window, top: int = 5) -> list[TagBreakdown]:
        """Each tag of the window's matching transactions (environment, release,
        browser, os, their tags, custom contexts' scalar fields) with its ``top``
        values, most common first; counts weighted by 1 / sample rate."""
        ...

    def suspect_spans(self, window: Window, limit: int) -> list[SuspectSpan]:
        """The span kinds (op, description) of the window's matching transactions whose
        time per transaction grew most against the equal-length period before the
        window, at most ``limit``, the largest growth first; kinds that did not grow
        are left out."""

    def span_group_series(
        self,
        window: Window,
        group_by: tuple[str, ...],
        groups: Sequence[tuple[str | None, ...]],
        interval: float,
    ) -> list[SpanGroupPoint]:
        """Buckets of ``interval`` seconds from the window's start for the spans of
        ``groups`` (values of the ``group_by`` keys, as :meth:`span_groups` gives
        them), oldest first within a group; empty buckets and groups without spans
        omitted. Errors as :meth:`span_groups`."""
        ...

    def matching_span_ids(self, trace_id: str, tree: Filter | None) -> set[str]:
        """The trace's spans that meet the span-level terms of ``tree``
        (``where.span_terms``); empty when it has none. :class:`QueryError` for an
        unknown key."""
        ...


class IssueStore(Protocol):
    """Issues: aggregates computed from the error rows, and their status."""

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

    def issue_tags(self, issue_id: int, window: Window, top: int = 5) -> list[TagBreakdown]:
        """Each tag of the issue's events matching the window (environment, release,
        browser, os, the event's tags, custom contexts' scalar fields) with its ``top``
        values, most common first."""
        ...

    def set_issue_status(self, issue_id: int, status: str) -> bool:
        """``unresolved``, ``resolved`` or ``ignored``, durably; False if the issue is
        unknown. A later event on a resolved issue reopens it as regressed."""
        ...


class LogMetricReader(Protocol):
    """Logs and metrics; their times are when the SDK recorded them."""

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


class SdkItemReader(Protocol):
    """Replays, release health, crons, feedback, profiles, and what was dropped."""

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

    def release_health(self, window: Window) -> list[ReleaseHealth]:
        """Per project and release, sessions started in the window by outcome."""
        ...

    def check_ins(self, window: Window) -> list[CheckIn]:
        """Check-ins in the window, and each monitor's last one before it, by time."""
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

    def outcomes(self) -> list[OutcomeCount]:
        """Items glasspane dropped, summed per project, category and reason."""
        ...

    def client_reports(self, window: Window) -> list[OutcomeCount]:
        """What the SDKs reported dropping (reasons ``client:*``) in the window."""
        ...


class StoreLifecycle(Protocol):
    """What the process that opens the store asks of it and does with it."""

    @property
    def shared_between_processes(self) -> bool:
        """Whether several processes may open this store at once (``--workers``, several
        machines). Declared by each backend; ``glasspane.store`` answers it for a URL
        before anything is opened."""
        ...

    def enforce_retention(self) -> None:
        """Drop data older than the retention now (the store also does it by itself)."""
        ...

    def close(self) -> None:
        """Commit what is queued, then release the database."""
        ...


class Store(
    BatchWriter,
    ProjectStore,
    AlertStateStore,
    TraceReader,
    AnalyticsReader,
    IssueStore,
    LogMetricReader,
    SdkItemReader,
    StoreLifecycle,
    AccountStore,
    Protocol,
):
    """Every role: what a backend implements and what ``open_store`` returns."""
