"""What the issue queries of every backend share: the statuses, the sort keys,
how an event's user is identified, and result rows → read models.

Each backend's ``issues.py`` writes its own SQL around these; the summary
query of both names its parts ``m`` (matching events), ``w`` (all events)
and ``i`` (the issue row), which :func:`sort_clause` refers to.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from glasspane.errors import ProtocolError
from glasspane.store.models import IssueSummary, TagBreakdown

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


#: The columns the tag breakdown reads from each event row, in this order.
TAG_COLUMNS = "environment, release, browser_name, os_name, tags, contexts"
#: Tags every event may carry, named as on the issue page, shown first.
_BUILTIN_TAGS = ("environment", "release", "browser", "os")
#: Contexts that the SDKs fill in themselves; their fields are not tags.
_SDK_CONTEXTS = frozenset(
    {"trace", "runtime", "os", "device", "browser", "app", "culture", "cloud_resource"}
)
#: A value is shown (and counted) by at most this many characters.
MAX_TAG_VALUE = 200


def _event_tags(row: tuple[Any, ...]) -> dict[str, str]:
    """One event's tags: the built-in ones, its ``tags``, and the scalar fields of its
    custom contexts as ``context.field`` (``blockchain.network``); keys and values cut
    to :data:`MAX_TAG_VALUE` characters."""
    found = {k: _cut(v) for k, v in zip(_BUILTIN_TAGS, row[:4], strict=True) if v}
    tags = orjson.loads(row[4]) if row[4] else {}
    for key, value in tags.items() if isinstance(tags, dict) else ():
        if value not in (None, ""):
            found.setdefault(_cut(key), _cut(value))
    contexts = orjson.loads(row[5]) if row[5] else {}
    for name, fields in contexts.items() if isinstance(contexts, dict) else ():
        if name in _SDK_CONTEXTS or not isinstance(fields, dict):
            continue
        for field, value in fields.items():
            if field != "type" and isinstance(value, str | int | float | bool):
                found.setdefault(_cut(f"{_cut(name)}.{_cut(field)}"), _cut(value))
    return found


def _cut(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    return text[:MAX_TAG_VALUE]


def tally_tags(rows: Iterable[tuple[Any, ...]], top: int) -> list[TagBreakdown]:
    """Rows of :data:`TAG_COLUMNS`, one per event, as each tag's ``top`` values with
    their counts (most common first, ties by value) and the count of all others.
    Built-in tags come first, then the rest by how many events carry them.

    A row with a seventh column (a transaction's sample rate) counts as
    1 / that rate, and the counts are rounded to whole events at the end."""
    counts: dict[str, dict[str, float]] = {}
    for row in rows:
        weight = 1.0 / row[6] if len(row) > 6 and row[6] else 1.0
        for key, value in _event_tags(row).items():
            values = counts.setdefault(key, {})
            values[value] = values.get(value, 0.0) + weight
    breakdowns = []
    for key, values in counts.items():
        ranked = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
        total = round(sum(values.values()))
        shown = [(value, round(n)) for value, n in ranked[:top]]
        breakdowns.append(TagBreakdown(key, total, shown, total - sum(n for _, n in shown)))
    order = {k: i for i, k in enumerate(_BUILTIN_TAGS)}
    breakdowns.sort(key=lambda b: (order.get(b.key, len(order)), -b.total, b.key))
    return breakdowns
