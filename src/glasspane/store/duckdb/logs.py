"""Reading the ``logs`` table: a trace's logs, and logs by search."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import duckdb

from glasspane.domain import LogRecord
from glasspane.store import attribute_where, rows
from glasspane.store.models import Window

Cursor = duckdb.DuckDBPyConnection
_COLUMNS = ", ".join(f'"{c}"' for c in rows.LOG_COLUMNS)


def trace_logs(cur: Cursor, trace_id: str, limit: int) -> list[LogRecord]:
    found = cur.execute(
        f'SELECT {_COLUMNS} FROM logs WHERE trace_id = ? ORDER BY "timestamp" LIMIT ?',
        [trace_id, limit],
    ).fetchall()
    return [rows.log_from_row(row) for row in found]


def list_logs(cur: Cursor, window: Window, limit: int) -> list[LogRecord]:
    condition, params = attribute_where.checked_filter(cur, attribute_where.LOGS, window.filter)
    found = cur.execute(
        f"""SELECT {_COLUMNS} FROM logs
            WHERE "timestamp" >= ? AND "timestamp" < ? AND {condition}
            ORDER BY "timestamp" DESC LIMIT ?""",
        [window.start, window.end, *params, limit],
    ).fetchall()
    return [rows.log_from_row(row) for row in found]


class LogReads:
    """The log reads (of :class:`~glasspane.store.api.LogMetricReader`), each on a
    cursor of its own."""

    _cursor: Callable[[], AbstractContextManager[Cursor]]

    def trace_logs(self, trace_id: str, limit: int) -> list[LogRecord]:
        with self._cursor() as cur:
            return trace_logs(cur, trace_id, limit)

    def list_logs(self, window: Window, limit: int) -> list[LogRecord]:
        with self._cursor() as cur:
            return list_logs(cur, window, limit)
