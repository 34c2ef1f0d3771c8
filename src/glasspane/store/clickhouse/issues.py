"""Issues: lists, one issue, its events, related issues, status changes, in ClickHouse SQL.

A mixin of :class:`~glasspane.store.clickhouse.store.ClickHouseStore`. The
same contract and query shapes as the DuckDB store's ``issues.py`` (the
aggregates come from the event rows), with what ClickHouse needs otherwise:

- ``errors`` may hold an event twice (a group retried after a partial
  failure), so events are counted as distinct event ids and listed
  ``LIMIT 1 BY event_id``.
- ``issues`` keeps one row per status change (``ReplacingMergeTree``): it is
  read ``FINAL`` (the latest row of each issue), and a status change is a new
  row, written on the writer thread so it is ordered with the batches.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import orjson

from glasspane.store.clickhouse.connection import Connection
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
from glasspane.store.search_keys import CLICKHOUSE
from glasspane.store.where import check_keys, compile_errors

# The aggregates are aliased apart from the column names (``last_title``, not
# ``title``): ClickHouse lets an alias shadow a column anywhere in its query.
_SUMMARY = """
    WITH m AS (
        SELECT issue_id, count(DISTINCT event_id) AS n, count(DISTINCT {identity}) AS users
        FROM errors WHERE "timestamp" >= ? AND "timestamp" < ? AND {where} {only}
        GROUP BY issue_id),
    w AS (
        SELECT issue_id, min("timestamp") AS first_seen, max("timestamp") AS last_seen,
               count(DISTINCT event_id) AS total, argMax(title, "timestamp") AS last_title,
               argMax(type, "timestamp") AS last_type, argMax(value, "timestamp") AS last_value,
               argMax(culprit, "timestamp") AS last_culprit,
               argMax(level, "timestamp") AS last_level,
               argMax(category, "timestamp") AS last_category
        FROM errors WHERE issue_id IN (SELECT issue_id FROM m) GROUP BY issue_id)
    SELECT i.id, i.project_id, w.last_title, w.last_type, w.last_value, w.last_culprit,
           w.last_level, i.status, m.n, m.users, w.first_seen, w.last_seen, w.total,
           i.regressed_at, w.last_category
    FROM m JOIN w USING (issue_id) JOIN issues AS i FINAL ON i.id = m.issue_id
"""


class IssueReads:
    _conn: Connection
    _run: Callable[..., Any]
    _issue_row: Callable[..., None]

    def list_issues(
        self, window: Window, sort: str, limit: int, buckets: int = 24
    ) -> list[IssueSummary]:
        """Issues with at least one matching event in the window, sorted, with a count series."""
        order = sort_clause(sort)
        check_keys(self._conn, window.filter, CLICKHOUSE)
        where, params = compile_errors(window.filter, CLICKHOUSE)
        sql = _SUMMARY.format(identity=IDENTITY, where=where, only="")
        rows = self._conn.execute(
            f"{sql} ORDER BY {order} LIMIT ?", [window.start, window.end, *params, limit]
        ).fetchall()
        issues = [summary(row) for row in rows]
        self._add_series(issues, window, buckets)
        return issues

    def get_issue(self, issue_id: int, window: Window, buckets: int = 24) -> IssueSummary | None:
        """One issue; its counts are over the window (zero when it had no event there)."""
        check_keys(self._conn, window.filter, CLICKHOUSE)
        where, params = compile_errors(window.filter, CLICKHOUSE)
        sql = _SUMMARY.format(identity=IDENTITY, where=where, only="AND issue_id = ?")
        row = self._conn.execute(sql, [window.start, window.end, *params, issue_id]).fetchone()
        if row is None:
            row = self._idle_issue(issue_id)
            if row is None:
                return None
        issue = summary(row)
        self._add_series([issue], window, buckets)
        return issue

    def _idle_issue(self, issue_id: int) -> tuple[Any, ...] | None:
        """An issue without events in the window: all-time facts, zero counts."""
        sql = _SUMMARY.format(identity=IDENTITY, where="TRUE", only="AND issue_id = ?")
        row = self._conn.execute(sql, [-math.inf, math.inf, issue_id]).fetchone()
        return None if row is None else idle(row)

    def _add_series(self, issues: list[IssueSummary], window: Window, buckets: int) -> None:
        """Matching events per equal slice of the window, oldest slice first."""
        if not issues or buckets <= 0:
            return
        # An endless window makes the slice index nan: least() puts those events in the
        # last slice, as DuckDB does.
        width = (window.end - window.start) / buckets
        where, params = compile_errors(window.filter, CLICKHOUSE)
        rows = self._conn.execute(
            f"""SELECT issue_id,
                       toUInt32(least(floor(("timestamp" - ?) / ?), ? - 1)) AS bucket,
                       count(DISTINCT event_id)
                FROM errors WHERE issue_id IN ?
                  AND "timestamp" >= ? AND "timestamp" < ? AND {where}
                GROUP BY issue_id, bucket""",
            [
                window.start,
                width,
                buckets,
                [i.id for i in issues],
                window.start,
                window.end,
                *params,
            ],
        ).fetchall()
        fill_series(issues, rows, buckets)

    def issue_event(self, issue_id: int, event_id: str | None = None) -> dict[str, Any] | None:
        """The full stored event (``event_id``, else the issue's latest); ``None`` if unknown."""
        if event_id is None:
            row = self._conn.execute(
                'SELECT payload FROM errors WHERE issue_id = ? ORDER BY "timestamp" DESC, '
                "received_at DESC, event_id LIMIT 1",
                [issue_id],
            ).fetchone()
        else:
            row = self._conn.execute(
                "SELECT payload FROM errors WHERE issue_id = ? AND event_id = ? LIMIT 1",
                [issue_id, event_id],
            ).fetchone()
        if row is None or not row[0]:
            return None
        payload: dict[str, Any] = orjson.loads(row[0])
        return payload

    def issue_events(self, issue_id: int, limit: int, offset: int = 0) -> list[IssueEvent]:
        """The issue's events, newest first, ``limit`` from ``offset`` (each event once)."""
        rows = self._conn.execute(
            f"""SELECT event_id, "timestamp", trace_id, span_id, "transaction", service,
                       environment, release, level, value, {IDENTITY}, {USER_DISPLAY}
                FROM errors WHERE issue_id = ?
                ORDER BY "timestamp" DESC, received_at DESC, event_id
                LIMIT 1 BY event_id LIMIT ? OFFSET ?""",
            [issue_id, limit, offset],
        ).fetchall()
        return [IssueEvent(*row) for row in rows]

    def related_issues(self, issue_id: int, limit: int = 20) -> list[RelatedIssue]:
        """Other issues with events in the traces of this one, most shared traces first."""
        rows = self._conn.execute(
            """SELECT e.issue_id, i.project_id, argMax(e.title, e."timestamp"),
                      argMax(e.culprit, e."timestamp"), i.status,
                      count(DISTINCT e.trace_id) AS shared
               FROM errors AS e JOIN issues AS i FINAL ON i.id = e.issue_id
               WHERE e.trace_id IN (SELECT trace_id FROM errors
                                    WHERE issue_id = ? AND trace_id IS NOT NULL)
                 AND e.issue_id != ?
               GROUP BY e.issue_id, i.project_id, i.status
               ORDER BY shared DESC, e.issue_id LIMIT ?""",
            [issue_id, issue_id, limit],
        ).fetchall()
        return [RelatedIssue(*row) for row in rows]

    def issue_tags(self, issue_id: int, window: Window, top: int = 5) -> list[TagBreakdown]:
        """Each tag's ``top`` values over the issue's events matching the window
        (each event once)."""
        check_keys(self._conn, window.filter, CLICKHOUSE)
        where, params = compile_errors(window.filter, CLICKHOUSE)
        rows = self._conn.execute(
            f"""SELECT {TAG_COLUMNS} FROM errors
                WHERE issue_id = ? AND "timestamp" >= ? AND "timestamp" < ? AND {where}
                LIMIT 1 BY event_id""",
            [issue_id, window.start, window.end, *params],
        ).fetchall()
        return tally_tags(rows, top)

    def set_issue_status(self, issue_id: int, status: str) -> bool:
        """A new row for the issue with ``status``, the regressed mark cleared."""
        check_status(status)

        def task(conn: Connection) -> bool:
            row = conn.execute(
                "SELECT project_id, fingerprint, created_at FROM issues FINAL WHERE id = ?",
                [issue_id],
            ).fetchone()
            if row is None:
                return False
            now = time.time()
            self._issue_row(conn, issue_id, *row, status, now, None)
            return True

        changed: bool = self._run(task)
        return changed
