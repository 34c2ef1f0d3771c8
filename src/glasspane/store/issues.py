"""What the issue queries of every backend share: the statuses, the sort keys,
how an event's user is identified, and result rows → read models.

Each backend's ``issues.py`` writes its own SQL around these; the summary
query of both names its parts ``m`` (matching events), ``w`` (all events)
and ``i`` (the issue row), which :func:`sort_clause` refers to.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from glasspane.errors import ProtocolError
from glasspane.store.models import IssueSummary

#: One identity per event: user id, else email, else IP, else username.
IDENTITY = "coalesce(user_id, user_email, user_ip, user_username)"
#: How the event's user is shown: email, else username, else id, else IP.
USER_DISPLAY = "coalesce(user_email, user_username, user_id, user_ip)"
STATUSES = ("unresolved", "resolved", "ignored")
SORTS = {
    "last_seen": "w.last_seen",
    "first_seen": "w.first_seen",
    "count": "m.n",
    "users": "m.users",
}
DEFAULT_SORT = "-last_seen"


def sort_clause(sort: str) -> str:
    """``[-]last_seen|first_seen|count|users`` as ``ORDER BY`` terms; 400 for anything else."""
    column = SORTS.get(sort.lstrip("-"))
    if column is None or sort.count("-") > 1:
        choices = ", ".join(SORTS)
        raise ProtocolError(f"sort {sort!r} is not one of {choices} (prefix - for descending)")
    direction = "DESC" if sort.startswith("-") else "ASC"
    return f"{column} {direction}, i.id DESC"


def check_status(status: str) -> None:
    if status not in STATUSES:
        raise ProtocolError(f"status {status!r} is not one of {', '.join(STATUSES)}")


def summary(row: tuple[Any, ...]) -> IssueSummary:
    """A summary query's row: id, project, title, type, value, culprit, level, status,
    count, users, first_seen, last_seen, total, regressed_at, category."""
    return IssueSummary(*row[:15])


def idle(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A summary row over all time, as an issue without events in the window: zero counts."""
    return (*row[:8], 0, 0, *row[10:])


def fill_series(
    issues: list[IssueSummary], counts: Iterable[tuple[Any, ...]], buckets: int
) -> None:
    """Set each issue's ``series`` from ``(issue_id, bucket, count)`` rows (zeros elsewhere)."""
    by_id = {i.id: i for i in issues}
    for issue in issues:
        issue.series = [0] * buckets
    for issue_id, bucket, count in counts:
        by_id[issue_id].series[bucket] = int(count)
