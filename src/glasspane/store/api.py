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

from glasspane.domain import Batch, Location, Project, Span


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


class Store(Protocol):
    # -- writing ---------------------------------------------------------
    def write(self, batch: Batch) -> Future[None]:
        """Queue the batch; the future resolves once it is durably committed."""
        ...

    def create_project(self, name: str, public_key: str, apdex_threshold_ms: float) -> Project:
        """A new project with the next id; :class:`Conflict` if the name is taken."""
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

    # -- lifecycle -------------------------------------------------------
    def close(self) -> None:
        """Commit what is queued, then release the database."""
        ...
