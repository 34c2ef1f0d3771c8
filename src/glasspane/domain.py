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

    @property
    def type(self) -> str | None:
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


@dataclass(slots=True)
class Batch:
    """Everything one request produced; written and committed together."""

    spans: list[Span] = field(default_factory=list)
    errors: list[ErrorEvent] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)

    def extend(self, other: Batch) -> None:
        self.spans.extend(other.spans)
        self.errors.extend(other.errors)
        self.outcomes.extend(other.outcomes)

    def __len__(self) -> int:
        return len(self.spans) + len(self.errors) + len(self.outcomes)
