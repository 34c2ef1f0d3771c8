"""Issues over the ``errors`` table: SQL for the DuckDB store.

An issue's aggregates are computed from its event rows, never kept as
counters (docs/semantics.md, "Issues"): ``count`` and ``users`` over the
events that match the window and query, ``first_seen``/``last_seen``/``total``
and the shown title, type, value, culprit and level (the latest event's) over
all its events.
Each function takes a cursor; writes run on the writer's connection.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import duckdb
import orjson

from glasspane.store.issues import (
    IDENTITY,
    TAG_COLUMNS,
    USER_DISPLAY,
    check_status,
    fill_series,
    idle,
    sort_clause,
    summary,
    tally_tags,
)
from glasspane.store.models import IssueEvent, IssueSummary, RelatedIssue, TagBreakdown, Window
from glasspane.store.where import check_keys, compile_errors

Cursor = duckdb.DuckDBPyConnection

_SUMMARY = """
    WITH m AS (
        SELECT issue_id, count(*) AS n, count(DISTINCT {identity}) AS users
        FROM errors WHERE "timestamp" >= ? AND "timestamp" < ? AND {where} {only}
        GROUP BY issue_id),
    w AS (
        SELECT issue_id, min("timestamp") AS first_seen, max("timestamp") AS last_seen,
               count(*) AS total, arg_max(title, "timestamp") AS title,
               arg_max(type, "timestamp") AS type, arg_max(value, "timestamp") AS value,
               arg_max(culprit, "timestamp") AS culprit, arg_max(level, "timestamp") AS level,
               arg_max(category, "timestamp") AS category
        FROM errors WHERE issue_id IN (SELECT issue_id FROM m) GROUP BY issue_id)
    SELECT i.id, i.project_id, w.title, w.type, w.value, w.culprit, w.level, i.status,
           m.n, m.users, w.first_seen, w.last_seen, w.total, i.regressed_at,
           w.category
    FROM m JOIN w USING (issue_id) JOIN issues i ON i.id = m.issue_id
"""


def list_issues(
    cur: Cursor, window: Window, sort: str, limit: int, buckets: int
) -> list[IssueSummary]:
    """Issues with at least one matching event in the window, sorted, with a count series."""
    check_keys(cur, window.filter)
    where, params = compile_errors(window.filter)
    sql = _SUMMARY.format(identity=IDENTITY, where=where, only="")
    rows = cur.execute(
        f"{sql} ORDER BY {sort_clause(sort)} LIMIT ?", [window.start, window.end, *params, limit]
    ).fetchall()
    issues = [summary(row) for row in rows]
    _add_series(cur, issues, window, buckets)
    return issues


def get_issue(cur: Cursor, issue_id: int, window: Window, buckets: int) -> IssueSummary | None:
    """One issue; its counts are over the window (zero when it had no event there)."""
    check_keys(cur, window.filter)
    where, params = compile_errors(window.filter)
    sql = _SUMMARY.format(identity=IDENTITY, where=where, only="AND issue_id = ?")
    row = cur.execute(sql, [window.start, window.end, *params, issue_id]).fetchone()
    if row is None:
        row = _idle_issue(cur, issue_id)
        if row is None:
            return None
    issue = summary(row)
    _add_series(cur, [issue], window, buckets)
    return issue


def _idle_issue(cur: Cursor, issue_id: int) -> tuple[Any, ...] | None:
    """An issue without events in the window: all-time facts, zero counts."""
    sql = _SUMMARY.format(identity=IDENTITY, where="TRUE", only="AND issue_id = ?")
    row = cur.execute(sql, [float("-inf"), float("inf"), issue_id]).fetchone()
    if row is None:
        return None
    return idle(row)


def _add_series(cur: Cursor, issues: list[IssueSummary], window: Window, buckets: int) -> None:
    """Matching events per equal slice of the window, oldest slice first."""
    if not issues or buckets <= 0:
        return
    width = (window.end - window.start) / buckets
    where, params = compile_errors(window.filter)
    rows = cur.execute(
        f"""SELECT issue_id, least(floor(("timestamp" - ?) / ?), ? - 1)::INTEGER, count(*)
            FROM errors WHERE issue_id IN (SELECT unnest(?::BIGINT[]))
              AND "timestamp" >= ? AND "timestamp" < ? AND {where}
            GROUP BY ALL""",
        [window.start, width, buckets, [i.id for i in issues], window.start, window.end, *params],
    ).fetchall()
    fill_series(issues, rows, buckets)


def event_payload(cur: Cursor, issue_id: int, event_id: str | None) -> dict[str, Any] | None:
    """The full stored event (``event_id``, else the issue's latest); ``None`` if unknown."""
    if event_id is None:
        row = cur.execute(
            'SELECT payload FROM errors WHERE issue_id = ? ORDER BY "timestamp" DESC, '
            "received_at DESC, event_id LIMIT 1",
            [issue_id],
        ).fetchone()
    else:
        row = cur.execute(
            "SELECT payload FROM errors WHERE issue_id = ? AND event_id = ? LIMIT 1",
            [issue_id, event_id],
        ).fetchone()
    if row is None or not row[0]:
        return None
    payload: dict[str, Any] = orjson.loads(row[0])
    return payload


def issue_events(cur: Cursor, issue_id: int, limit: int, offset: int) -> list[IssueEvent]:
    """The issue's events, newest first, ``limit`` from ``offset``."""
    rows = cur.execute(
        f"""SELECT event_id, "timestamp", trace_id, span_id, "transaction", service,
                   environment, release, level, value, {IDENTITY}, {USER_DISPLAY}
            FROM errors WHERE issue_id = ?
            ORDER BY "timestamp" DESC, received_at DESC, event_id LIMIT ? OFFSET ?""",
        [issue_id, limit, offset],
    ).fetchall()
    return [IssueEvent(*row) for row in rows]


def issue_tags(cur: Cursor, issue_id: int, window: Window, top: int) -> list[TagBreakdown]:
    """Each tag's ``top`` values over the issue's events matching the window."""
    check_keys(cur, window.filter)
    where, params = compile_errors(window.filter)
    cur.execute(
        f"""SELECT {TAG_COLUMNS} FROM errors
            WHERE issue_id = ? AND "timestamp" >= ? AND "timestamp" < ? AND {where}""",
        [issue_id, window.start, window.end, *params],
    )
    return tally_tags(iter(cur.fetchone, None), top)


def related_issues(cur: Cursor, issue_id: int, limit: int) -> list[RelatedIssue]:
    """Other issues with events in the traces of this one, most shared traces first."""
    rows = cur.execute(
        """WITH traces AS (SELECT DISTINCT trace_id FROM errors
                           WHERE issue_id = ? AND trace_id IS NOT NULL)
           SELECT e.issue_id, i.project_id, arg_max(e.title, e."timestamp"),
                  arg_max(e.culprit, e."timestamp"), i.status, count(DISTINCT e.trace_id)
           FROM errors e JOIN issues i ON i.id = e.issue_id
           WHERE e.trace_id IN (SELECT trace_id FROM traces) AND e.issue_id <> ?
           GROUP BY e.issue_id, i.project_id, i.status
           ORDER BY 6 DESC, 1 LIMIT ?""",
        [issue_id, issue_id, limit],
    ).fetchall()
    return [RelatedIssue(*row) for row in rows]


# -- writes (on the writer's connection, inside its transaction) ----------------------


def set_status(conn: Cursor, issue_id: int, status: str, now: float) -> bool:
    """Set an issue's status; clears the regressed mark. False if the issue is unknown."""
    check_status(status)
    row = conn.execute(
        "UPDATE issues SET status = ?, status_changed_at = ?, regressed_at = NULL "
        "WHERE id = ? RETURNING id",
        [status, now, issue_id],
    ).fetchone()
    return row is not None


def reopen_resolved(conn: Cursor, issue_ids: set[int], now: float) -> None:
    """A new event on a resolved issue reopens it, marked regressed."""
    if issue_ids:
        conn.execute(
            "UPDATE issues SET status = 'unresolved', regressed_at = ?, status_changed_at = ? "
            "WHERE status = 'resolved' AND id IN (SELECT unnest(?::BIGINT[]))",
            [now, now, sorted(issue_ids)],
        )


class IssueReads:
    """The issue reads and status changes (:class:`~glasspane.store.api.IssueStore`):
    reads each on a cursor of its own, status changes on the writer thread."""

    _cursor: Callable[[], AbstractContextManager[Cursor]]
    _run: Callable[..., Any]

    def list_issues(
        self, window: Window, sort: str, limit: int, buckets: int = 24
    ) -> list[IssueSummary]:
        with self._cursor() as cur:
            return list_issues(cur, window, sort, limit, buckets)

    def get_issue(self, issue_id: int, window: Window, buckets: int = 24) -> IssueSummary | None:
        with self._cursor() as cur:
            return get_issue(cur, issue_id, window, buckets)

    def issue_event(self, issue_id: int, event_id: str | None = None) -> dict[str, Any] | None:
        with self._cursor() as cur:
            return event_payload(cur, issue_id, event_id)

    def issue_events(self, issue_id: int, limit: int, offset: int = 0) -> list[IssueEvent]:
        with self._cursor() as cur:
            return issue_events(cur, issue_id, limit, offset)

    def related_issues(self, issue_id: int, limit: int = 20) -> list[RelatedIssue]:
        with self._cursor() as cur:
            return related_issues(cur, issue_id, limit)

    def issue_tags(self, issue_id: int, window: Window, top: int = 5) -> list[TagBreakdown]:
        with self._cursor() as cur:
            return issue_tags(cur, issue_id, window, top)

    def set_issue_status(self, issue_id: int, status: str) -> bool:
        check_status(status)
        changed: bool = self._run(lambda conn: set_status(conn, issue_id, status, time.time()))
        return changed
