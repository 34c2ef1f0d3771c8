"""Logs reads, in ClickHouse SQL.

A mixin of :class:`~glasspane.store.clickhouse.store.ClickHouseStore`; the
same queries as :mod:`glasspane.store.duckdb.logs`, with the same filters
(:mod:`glasspane.store.attribute_where`).

Log rows have no identity, so a row written twice (a group retried after a
partial failure, see the store) is read twice: unlike a span, it cannot be
told from a second, identical record.
"""

from __future__ import annotations

from glasspane.domain import LogRecord
from glasspane.store import attribute_where, rows
from glasspane.store.clickhouse.connection import Connection
from glasspane.store.models import Window
from glasspane.store.search_keys import CLICKHOUSE

_LOG_COLUMNS = ", ".join(f'"{c}"' for c in rows.LOG_COLUMNS)


class LogReads:
    _conn: Connection

    def trace_logs(self, trace_id: str, limit: int) -> list[LogRecord]:
        found = self._conn.execute(
            f'SELECT {_LOG_COLUMNS} FROM logs WHERE trace_id = ? ORDER BY "timestamp" LIMIT ?',
            [trace_id, limit],
        ).fetchall()
        return [rows.log_from_row(row) for row in found]

    def list_logs(self, window: Window, limit: int) -> list[LogRecord]:
        condition, params = attribute_where.checked_filter(
            self._conn, attribute_where.CH_LOGS, window.filter, CLICKHOUSE
        )
        found = self._conn.execute(
            f"""SELECT {_LOG_COLUMNS} FROM logs
                WHERE "timestamp" >= ? AND "timestamp" < ? AND {condition}
                ORDER BY "timestamp" DESC LIMIT ?""",
            [window.start, window.end, *params, limit],
        ).fetchall()
        return [rows.log_from_row(row) for row in found]
