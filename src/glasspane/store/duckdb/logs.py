"""Reading the ``logs`` table: a trace's logs, and logs by search."""

from __future__ import annotations

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
