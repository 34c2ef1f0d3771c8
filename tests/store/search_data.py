"""A small generated data set covering every search key family, for SQL tests.

Spans ``s1``..``s5`` and error events ``e1``..``e4`` get readable names; their ids
are derived from the names so tests can map rows back. Times are relative to
``NOW``; issue ``D`` (event ``e4``) is resolved by :func:`load`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from glasspane.domain import Batch, ClientInfo, ErrorEvent, ExceptionInfo, Span, User
from glasspane.store.api import Store
from glasspane.store.models import Window

NOW = time.time()
TRACES = {name: f"{i:032x}" for i, name in enumerate(["T1", "T2", "T3", "T4"], start=1)}


def span_id(name: str) -> str:
    return name.encode().hex().rjust(16, "0")


def event_id(name: str) -> str:
    return name.encode().hex().rjust(32, "0")


@dataclass
class S:
    """A span described by what the search cares about."""

    name: str
    trace: str
    transaction: str
    service: str
    ago: float
    duration_ms: float
    parent: str | None = None
    op: str = "http.server"
    description: str | None = None
    status: str = "ok"
    environment: str | None = "prod"
    release: str | None = None
    user: User = field(default_factory=User)
    tags: dict[str, str] = field(default_factory=dict)
    method: str | None = None
    client: ClientInfo = field(default_factory=ClientInfo)

    def span(self) -> Span:
        start = NOW - self.ago
        return Span(
            project_id=1,
            trace_id=TRACES[self.trace],
            span_id=span_id(self.name),
            parent_span_id=span_id(self.parent) if self.parent else None,
            segment_id=span_id(self.parent or self.name),
            is_segment=self.parent is None,
            transaction=self.transaction,
            op=self.op,
            description=self.description or self.transaction,
            status=self.status,
            start_timestamp=start,
            timestamp=start + self.duration_ms / 1000.0,
            service=self.service,
            tags=self.tags,
            environment=self.environment,
            release=self.release,
            user=self.user,
            client=self.client,
            request={"method": self.method} if self.method else {},
        )


SPANS = [
    S(
        "s1", "T1", "uploadDocument", "frontend", 600, 120, release="1.0",
        user=User(id="u1", email="demo@test.com"), tags={"region": "eu", "http.status_code": "200"},
        method="GET", client=ClientInfo("Chrome", "Mac OS X", "DE"),
    ),
    S(
        "s2", "T1", "uploadDocument", "frontend", 590, 30, parent="s1", op="db.query",
        description="SELECT * FROM docs", release="1.0", user=User(id="u1", email="demo@test.com"),
    ),
    S(
        "s3", "T2", "registerOnBlockchain", "blockchain", 3600, 12000, status="deadline_exceeded",
        user=User(email="other@test.com", username="bob"),
        tags={"region": "us", "http.status_code": "504", "load": "0.75"}, method="POST",
        client=ClientInfo("Firefox", "Windows", "US"),
    ),
    S(
        "s4", "T3", "UploadDocument", "frontend", 2 * 86400, 2500, environment="staging",
        user=User(ip_address="10.0.0.1"),
    ),
    S(
        "s5", "T4", "login", "auth", 120, 800, status="internal_error", user=User(id="u2"),
        tags={"region": "eu-west"},
    ),
]  # fmt: skip


@dataclass
class E:
    """An error event described by what the search cares about."""

    name: str
    fingerprint: str
    ago: float
    type: str | None
    value: str
    level: str = "error"
    trace: str | None = None
    span: str | None = None
    transaction: str | None = None
    user: User = field(default_factory=User)
    tags: dict[str, str] = field(default_factory=dict)

    def event(self) -> ErrorEvent:
        exceptions = [ExceptionInfo(self.type, self.value)] if self.type else []
        return ErrorEvent(
            project_id=1,
            event_id=event_id(self.name),
            timestamp=NOW - self.ago,
            received_at=NOW,
            level=self.level,
            platform="python",
            trace_id=TRACES[self.trace] if self.trace else None,
            span_id=span_id(self.span) if self.span else None,
            transaction=self.transaction,
            message=None if self.type else self.value,
            exceptions=exceptions,
            fingerprint=self.fingerprint,
            title=f"{self.type}: {self.value}" if self.type else self.value,
            culprit=f"app.py in {self.name}",
            location=None,
            service="backend",
            tags=self.tags,
            user=self.user,
        )


ERRORS = [
    E(
        "e1", "A", 3600, "TransactionTimeoutError", "Transaction 0x7a not confirmed",
        trace="T2", span="s3", transaction="registerOnBlockchain",
        user=User(email="other@test.com"), tags={"region": "us"},
    ),
    E("e2", "B", 120, "KeyError", "'user'", level="fatal", trace="T4", transaction="login",
      user=User(id="u2")),
    E("e3", "C", 30, None, "disk almost full", level="warning"),
    E("e4", "D", 3000, "ValueError", "bad value", trace="T2", transaction="registerOnBlockchain"),
]  # fmt: skip


def load(store: Store) -> dict[str, int]:
    """Write the data set and resolve issue D; issue ids by fingerprint letter."""
    store.create_project("shop", "0" * 32, 300.0)  # project 1: every row's
    store.write(Batch(spans=[s.span() for s in SPANS])).result(timeout=10)
    store.write(Batch(errors=[e.event() for e in ERRORS])).result(timeout=10)
    everything = Window(float("-inf"), float("inf"))
    by_title = {i.title: i.id for i in store.list_issues(everything, "-last_seen", 100, 0)}
    ids = {e.fingerprint: by_title[e.event().title] for e in ERRORS}
    assert store.set_issue_status(ids["D"], "resolved")
    return ids
