"""Domain types: what glasspane knows about, independent of wire and storage.

Wire payloads are turned into these by ``glasspane.normalize``; each store
backend turns them into its own private rows. Times are epoch seconds (float).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Span statuses that do not count as a failure (Sentry's definition).
NON_FAILING_STATUSES = frozenset({"ok", "cancelled", "unknown"})


@dataclass(slots=True)
class User:
    id: str | None = None
    email: str | None = None
    username: str | None = None
    ip_address: str | None = None

    def is_empty(self) -> bool:
        return not (self.id or self.email or self.username or self.ip_address)

    def display(self) -> str | None:
        """Email, else username, else id, else IP: how a person is shown."""
        return self.email or self.username or self.id or self.ip_address


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """The user's browser and OS (ua-parser families) and ISO country code."""

    browser: str | None = None
    os: str | None = None
    country: str | None = None


NO_CLIENT = ClientInfo()


@dataclass(slots=True)
class Project:
    id: int
    name: str
    public_key: str
    created_at: float
    apdex_threshold_ms: float = 300.0


@dataclass(slots=True)
class Span:
    """One span; a segment (``is_segment``) is a service's transaction."""

    project_id: int
    trace_id: str
    span_id: str
    parent_span_id: str | None
    segment_id: str
    is_segment: bool
    transaction: str | None
    op: str | None
    description: str | None
    status: str
    start_timestamp: float
    timestamp: float
    service: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    environment: str | None = None
    release: str | None = None
    user: User = field(default_factory=User)
    client: ClientInfo = NO_CLIENT
    sample_rate: float = 1.0
    # Segment-only details (empty on child spans).
    event_id: str | None = None
    measurements: dict[str, Any] = field(default_factory=dict)
    contexts: dict[str, Any] = field(default_factory=dict)
    request: dict[str, Any] = field(default_factory=dict)
    sdk: dict[str, Any] = field(default_factory=dict)
    platform: str | None = None

    @property
    def duration_ms(self) -> float:
        return max(0.0, (self.timestamp - self.start_timestamp) * 1000.0)


@dataclass(slots=True)
class Frame:
    filename: str | None = None
    abs_path: str | None = None
    function: str | None = None
    module: str | None = None
    lineno: int | None = None
    colno: int | None = None
    in_app: bool | None = None
    context_line: str | None = None
    pre_context: list[str] = field(default_factory=list)
    post_context: list[str] = field(default_factory=list)
    vars: dict[str, Any] = field(default_factory=dict)
    #: The debug id of the bundle the frame's file came from (``debug_meta``), for source maps.
    debug_id: str | None = None


@dataclass(slots=True)
class ExceptionInfo:
    type: str | None
    value: str | None
    module: str | None = None
    mechanism: dict[str, Any] = field(default_factory=dict)
    frames: list[Frame] = field(default_factory=list)


@dataclass(slots=True)
class Location:
    file: str | None
    line: int | None
    function: str | None


@dataclass(slots=True)
class ErrorEvent:
    """An error or message event, with what groups it into an issue."""

    project_id: int
    event_id: str
    timestamp: float
    received_at: float
    level: str
    platform: str | None
    trace_id: str | None
    span_id: str | None
    transaction: str | None
    message: str | None
    #: Chained exceptions, oldest (the cause) first as the SDKs send them.
    exceptions: list[ExceptionInfo]
    fingerprint: str
    title: str
    culprit: str | None
    location: Location | None
    service: str = ""
    breadcrumbs: list[dict[str, Any]] = field(default_factory=list)
    contexts: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    user: User = field(default_factory=User)
    client: ClientInfo = NO_CLIENT
    release: str | None = None
    environment: str | None = None
    request: dict[str, Any] = field(default_factory=dict)
    sdk: dict[str, Any] = field(default_factory=dict)
    #: ``error``, or ``performance`` for what a detector found in a transaction
    #: (``glasspane.detectors``): then ``issue_type`` names the detector and
    #: ``evidence`` holds ``span_ids``, ``statement``, ``repeated``, ``duration_ms``.
    category: str = "error"
    issue_type: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def type(self) -> str | None:
        if self.issue_type is not None:
            return self.issue_type
        return self.exceptions[-1].type if self.exceptions else None

    @property
    def value(self) -> str | None:
        return self.exceptions[-1].value if self.exceptions else self.message


@dataclass(slots=True)
class Outcome:
    """Items dropped as malformed or unsupported, counted like Sentry's outcomes."""

    project_id: int
    category: str
    reason: str
    quantity: int = 1
    timestamp: float = 0.0


#: Sentry's log levels, by the first OpenTelemetry severity number of each range.
LOG_LEVELS = {"trace": 1, "debug": 5, "info": 9, "warn": 13, "error": 17, "fatal": 21}


@dataclass(slots=True)
class LogRecord:
    """One log line (a Sentry ``log`` item entry or an OTLP log record)."""

    project_id: int
    timestamp: float
    level: str  # trace, debug, info, warn, error or fatal
    body: str
    service: str = ""
    trace_id: str | None = None
    span_id: str | None = None
    severity_number: int | None = None  # OpenTelemetry's 1-24
    attributes: dict[str, Any] = field(default_factory=dict)
    environment: str | None = None
    release: str | None = None


#: What a metric measures: counters add up, gauges are levels, distributions spread.
METRIC_TYPES = ("counter", "gauge", "distribution")


@dataclass(slots=True)
class Histogram:
    """Explicit buckets: ``counts[i]`` values fell in (bounds[i-1], bounds[i]]."""

    bounds: list[float]
    counts: list[int]


@dataclass(slots=True)
class MetricPoint:
    """One metric value (Sentry ``trace_metric``, an OTLP sum or gauge point), or
    one OTLP histogram point (``histogram`` set, ``value`` ``None``).

    ``count``/``total``/``min``/``max`` summarise what the point holds: for a
    single value they are 1/value/value/value. A ``cumulative`` point (OTLP)
    holds everything since ``start_timestamp``; readers turn it into increments.
    """

    project_id: int
    timestamp: float
    name: str
    type: str  # one of METRIC_TYPES
    value: float | None
    count: int
    total: float
    min: float | None
    max: float | None
    unit: str | None = None
    service: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    trace_id: str | None = None
    span_id: str | None = None
    environment: str | None = None
    release: str | None = None
    histogram: Histogram | None = None
    start_timestamp: float | None = None
    cumulative: bool = False

    @classmethod
    def single(
        cls, project_id: int, timestamp: float, name: str, type: str, value: float, **details: Any
    ) -> MetricPoint:
        return cls(project_id, timestamp, name, type, value, 1, value, value, value, **details)


@dataclass(slots=True)
class ReplayEvent:
    """One segment's ``replay_event``: who, where, and what it links to."""

    project_id: int
    replay_id: str
    segment_id: int
    timestamp: float
    replay_start_timestamp: float | None
    replay_type: str | None = None
    trace_ids: list[str] = field(default_factory=list)
    error_ids: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    environment: str | None = None
    release: str | None = None
    platform: str | None = None
    user: User = field(default_factory=User)
    client: ClientInfo = NO_CLIENT
    tags: dict[str, str] = field(default_factory=dict)
    sdk: dict[str, Any] = field(default_factory=dict)
    received_at: float = 0.0


@dataclass(slots=True)
class ReplayRecording:
    """One segment's rrweb events, kept as the SDK sent them (zlib or plain JSON)."""

    project_id: int
    replay_id: str
    segment_id: int
    payload: bytes
    events: int  # how many rrweb events the payload holds
    received_at: float = 0.0


#: Session statuses from best to worst; a session's outcome is its worst update.
SESSION_STATUSES = ("ok", "exited", "errored", "abnormal", "unhandled", "crashed")


@dataclass(slots=True)
class SessionUpdate:
    """One ``session`` item: an update of one user session (release health)."""

    project_id: int
    session_id: str
    distinct_id: str | None
    release: str
    environment: str | None
    status: str  # one of SESSION_STATUSES
    errors: int
    started: float
    timestamp: float
    init: bool = False
    duration: float | None = None
    received_at: float = 0.0


@dataclass(slots=True)
class SessionAggregate:
    """One bucket of a ``sessions`` item: sessions started in one minute, by outcome."""

    project_id: int
    release: str
    environment: str | None
    started: float
    distinct_id: str | None = None
    exited: int = 0
    errored: int = 0
    abnormal: int = 0
    unhandled: int = 0
    crashed: int = 0
    received_at: float = 0.0


@dataclass(slots=True)
class CheckIn:
    """One ``check_in`` message of a cron monitor run (``in_progress``, ``ok``, ``error``)."""

    project_id: int
    check_in_id: str
    monitor_slug: str
    status: str
    timestamp: float
    duration: float | None = None  # seconds, on the closing message
    environment: str | None = None
    release: str | None = None
    trace_id: str | None = None
    monitor_config: dict[str, Any] = field(default_factory=dict)
    received_at: float = 0.0


@dataclass(slots=True)
class Feedback:
    """What a user wrote (browser ``captureFeedback``, or a legacy ``user_report``)."""

    project_id: int
    event_id: str
    timestamp: float
    message: str
    name: str | None = None
    contact_email: str | None = None
    url: str | None = None
    replay_id: str | None = None
    associated_event_id: str | None = None
    trace_id: str | None = None
    environment: str | None = None
    release: str | None = None
    user: User = field(default_factory=User)
    tags: dict[str, str] = field(default_factory=dict)
    received_at: float = 0.0


@dataclass(slots=True)
class Profile:
    """A sampled profile: transaction-bound (format v1) or a continuous chunk (v2).

    ``payload`` is the SDK's JSON as received; the columns beside it say what
    it belongs to: the transaction event (v1) or the profiler session (v2).
    """

    project_id: int
    profile_id: str
    kind: str  # "transaction" or "chunk"
    timestamp: float
    platform: str | None
    payload: bytes
    transaction_id: str | None = None
    transaction: str | None = None
    trace_id: str | None = None
    profiler_id: str | None = None
    duration_ms: float | None = None
    samples: int = 0
    environment: str | None = None
    release: str | None = None
    received_at: float = 0.0


#: The Batch lists of replays, release health, crons, feedback and profiles.
SDK_ITEM_LISTS = (
    "replay_events",
    "replay_recordings",
    "sessions",
    "session_aggregates",
    "check_ins",
    "feedback",
    "profiles",
)


@dataclass(slots=True)
class Batch:
    """Everything one request produced; written and committed together."""

    spans: list[Span] = field(default_factory=list)
    errors: list[ErrorEvent] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    logs: list[LogRecord] = field(default_factory=list)
    metrics: list[MetricPoint] = field(default_factory=list)
    replay_events: list[ReplayEvent] = field(default_factory=list)
    replay_recordings: list[ReplayRecording] = field(default_factory=list)
    sessions: list[SessionUpdate] = field(default_factory=list)
    session_aggregates: list[SessionAggregate] = field(default_factory=list)
    check_ins: list[CheckIn] = field(default_factory=list)
    feedback: list[Feedback] = field(default_factory=list)
    profiles: list[Profile] = field(default_factory=list)
    #: Ingest journal positions (segment file name → offset, or -1 to forget the
    #: segment) that this batch brings the store to; committed with its rows.
    checkpoint: dict[str, int] = field(default_factory=dict)
    #: Spans already in the stores' shared row layout (``store/rows.py``), as the
    #: ingest workers journal them: stored as they are, beside ``spans``.
    span_rows: list[tuple[Any, ...]] = field(default_factory=list)

    def extend(self, other: Batch) -> None:
        self.spans.extend(other.spans)
        self.errors.extend(other.errors)
        self.outcomes.extend(other.outcomes)
        self.logs.extend(other.logs)
        self.metrics.extend(other.metrics)
        for name in SDK_ITEM_LISTS:
            getattr(self, name).extend(getattr(other, name))
        self.checkpoint.update(other.checkpoint)
        self.span_rows.extend(other.span_rows)

    def __len__(self) -> int:
        return (
            len(self.spans)
            + len(self.span_rows)
            + len(self.errors)
            + len(self.outcomes)
            + len(self.logs)
            + len(self.metrics)
            + sum(len(getattr(self, name)) for name in SDK_ITEM_LISTS)
        )
