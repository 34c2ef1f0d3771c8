"""The queries view: the database statements and outgoing HTTP calls services make.

DB spans (op ``db`` or ``db.*``) are grouped by statement, per service and
transaction; outgoing HTTP spans (op ``http.client``) by the domain they call,
per service. The store groups raw descriptions (:meth:`span_groups`); here each
statement is masked (``id = 1`` and ``id = 2`` both read ``id = ?``) and each URL
cut to its domain, and the groups that then coincide are merged. ``calls`` and
``total_ms`` are weighted by 1 / sample rate and add up exactly; a merged row's
p50 and p95 are its parts' percentiles averaged by spans received (exact when
the row had one raw description, an approximation otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from glasspane.detectors.spans import mask_statement
from glasspane.errors import ProtocolError
from glasspane.filters import Cmp, Or, all_of
from glasspane.store.api import AnalyticsReader
from glasspane.store.models import SpanGroup, Window

#: The ops the view reads: DB spans and outgoing HTTP calls.
OPS = Or(
    (Cmp("span.op", "=", "db"), Cmp("span.op", "=", "db.*"), Cmp("span.op", "=", "http.client"))
)
GROUP_BY = ("span.op", "span.description", "service", "transaction")
UNKNOWN_DOMAIN = "(unknown)"
#: The columns both lists can be sorted by.
SORTS = ("total_ms", "calls", "calls_per_min", "p50_ms", "p95_ms")
#: Each statement masked once per process (bounded).
_masked = lru_cache(maxsize=1024)(mask_statement)


def is_db(op: str | None) -> bool:
    return op == "db" or (op or "").startswith("db.")


def domain_of(description: str | None) -> str:
    """``GET https://api.example.com/v1?x=1`` → ``api.example.com``; the host of the
    description's last word that parses as a URL (linear in the description)."""
    words = (description or "").split()
    if not words:
        return UNKNOWN_DOMAIN
    try:
        host = urlsplit(words[-1]).hostname
    except ValueError:
        return UNKNOWN_DOMAIN
    return host or UNKNOWN_DOMAIN


@dataclass(slots=True)
class _Merged:
    calls: float = 0.0
    total_ms: float = 0.0
    samples: int = 0
    p50_sum: float = 0.0  # sum of p50 × samples, averaged at the end
    p95_sum: float = 0.0
    description: str | None = None  # the commonest raw description (to link to)
    seen: float = field(default=-1.0)

    def add(self, group: SpanGroup, description: str | None) -> None:
        self.calls += group.count
        self.total_ms += group.sum_ms
        self.samples += group.samples
        self.p50_sum += group.p50_ms * group.samples
        self.p95_sum += group.p95_ms * group.samples
        if group.count > self.seen:
            self.seen, self.description = group.count, description

    def measures(self, minutes: float) -> dict[str, Any]:
        per = max(self.samples, 1)
        return {
            "calls": round(self.calls, 3),
            "calls_per_min": round(self.calls / minutes, 3) if minutes > 0 else None,
            "total_ms": round(self.total_ms, 3),
            "p50_ms": round(self.p50_sum / per, 3),
            "p95_ms": round(self.p95_sum / per, 3),
        }


def _merge(
    groups: list[SpanGroup], keep: Callable[[str | None], bool], key: Callable[..., tuple]
) -> dict[tuple, _Merged]:
    merged: dict[tuple, _Merged] = {}
    for group in groups:
        op, description, service, transaction = group.values
        if keep(op):
            merged.setdefault(key(description, service, transaction), _Merged()).add(
                group, description
            )
    return merged


def parse_sort(sort: str) -> tuple[str, bool]:
    """``-total_ms`` → ``("total_ms", True)`` (descending); a clear 400 for other columns."""
    column = sort.removeprefix("-")
    if column not in SORTS:
        raise ProtocolError(
            f"sort {sort[:40]!r} is not a column; use one of {', '.join(SORTS)} "
            "(prefix - for descending)"
        )
    return column, sort.startswith("-")


def description_search(description: str | None) -> str:
    """A search for the spans with this description (the language has no escape for
    ``"``, so each becomes the wildcard ``*``)."""
    return 'span.description:"' + (description or "").replace('"', "*") + '"'


def queries(store: AnalyticsReader, w: Window, sort: str = "-total_ms") -> dict[str, Any]:
    """``{queries: [...], http: [...]}``, each ``sort``-ed (largest total time first)."""
    column, descending = parse_sort(sort)
    scoped = Window(w.start, w.end, all_of([*([w.filter] if w.filter else []), OPS]))
    groups = store.span_groups(scoped, GROUP_BY)
    minutes = (w.end - w.start) / 60.0
    statements = _merge(groups, is_db, lambda d, s, t: (_masked(d or ""), s, t))
    domains = _merge(groups, lambda op: op == "http.client", lambda d, s, t: (domain_of(d), s))
    db_rows = [
        {"statement": k[0], "service": k[1], "transaction": k[2],
         "description": m.description, **m.measures(minutes)}
        for k, m in statements.items()
    ]  # fmt: skip
    http_rows = [
        {"domain": k[0], "service": k[1], **m.measures(minutes)} for k, m in domains.items()
    ]
    db_rows.sort(key=lambda r: r[column], reverse=descending)
    http_rows.sort(key=lambda r: r[column], reverse=descending)
    return {"queries": db_rows, "http": http_rows}
