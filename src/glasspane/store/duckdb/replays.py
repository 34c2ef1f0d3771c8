"""Replay reads for the DuckDB store: segments, recordings, lists and links."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import duckdb

from glasspane.domain import ReplayEvent, ReplayRecording
from glasspane.store import rows
from glasspane.store.models import ReplaySummary, TraceError, Window
from glasspane.store.sdk_rows import (
    REPLAY_RECORDINGS,
    REPLAY_SEGMENTS,
    columns,
    replay_event_from_row,
    replay_recording_from_row,
    replay_summary_from_row,
)

Conn = duckdb.DuckDBPyConnection


def segments(conn: Conn, replay_id: str) -> list[ReplayEvent]:
    # A segment the SDK resent (after a network error) is kept once: its latest copy.
    sql = (
        f"SELECT {columns(REPLAY_SEGMENTS)} FROM replay_segments WHERE replay_id = ? "
        "QUALIFY row_number() OVER (PARTITION BY segment_id ORDER BY received_at DESC) = 1 "
        "ORDER BY segment_id"
    )
    return [replay_event_from_row(r) for r in conn.execute(sql, [replay_id]).fetchall()]


def recordings(conn: Conn, replay_id: str) -> list[ReplayRecording]:
    sql = (
        f"SELECT {columns(REPLAY_RECORDINGS)} FROM replay_recordings WHERE replay_id = ? "
        "QUALIFY row_number() OVER (PARTITION BY segment_id ORDER BY received_at DESC) = 1 "
        "ORDER BY segment_id"
    )
    return [replay_recording_from_row(r) for r in conn.execute(sql, [replay_id]).fetchall()]


def _links(trace_id: str | None, issue_id: int | None) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if trace_id is not None:
        clauses.append("list_contains(trace_ids, ?)")
        params.append(trace_id)
    if issue_id is not None:
        clauses.append(
            "(list_has_any(error_ids, (SELECT coalesce(list(event_id), []) FROM errors "
            "WHERE issue_id = ?)) OR list_has_any(trace_ids, (SELECT coalesce(list(DISTINCT "
            "trace_id), []) FROM errors WHERE issue_id = ? AND trace_id IS NOT NULL)))"
        )
        params += [issue_id, issue_id]
    return " AND ".join(clauses), params


def list_replays(
    conn: Conn, window: Window, trace_id: str | None, issue_id: int | None, limit: int
) -> list[ReplaySummary]:
    """Replays touching the window; a link filter looks at all time instead."""
    links, params = _links(trace_id, issue_id)
    if links:
        matching = f"SELECT DISTINCT replay_id FROM replay_segments WHERE {links}"
    else:
        matching = (
            "SELECT DISTINCT replay_id FROM replay_segments "
            'WHERE "timestamp" >= ? AND "timestamp" < ?'
        )
        params = [window.start, window.end]
    sql = f"""
        SELECT replay_id, any_value(project_id),
            min(coalesce(replay_start_ts, "timestamp")), max("timestamp"),
            count(DISTINCT segment_id),
            list_distinct(flatten(list(trace_ids))), list_distinct(flatten(list(error_ids))),
            list_distinct(flatten(list(urls))),
            arg_min(user_id, segment_id), arg_min(user_email, segment_id),
            arg_min(user_username, segment_id), arg_min(user_ip, segment_id),
            arg_min(browser_name, segment_id), arg_min(os_name, segment_id),
            arg_min(country_code, segment_id), arg_min(environment, segment_id),
            arg_min(release, segment_id), arg_min(replay_type, segment_id)
        FROM replay_segments WHERE replay_id IN ({matching})
        GROUP BY replay_id ORDER BY max("timestamp") DESC LIMIT ?"""
    return [replay_summary_from_row(r) for r in conn.execute(sql, [*params, limit]).fetchall()]


def errors_by_id(conn: Conn, event_ids: list[str]) -> list[TraceError]:
    if not event_ids:
        return []
    cols = ", ".join(f'"{c}"' for c in rows.TRACE_ERROR_COLUMNS)
    sql = f'SELECT {cols} FROM errors WHERE list_contains(?, event_id) ORDER BY "timestamp"'
    return [rows.trace_error_from_row(r) for r in conn.execute(sql, [event_ids]).fetchall()]


class ReplayReads:
    """The replay reads (of :class:`~glasspane.store.api.SdkItemReader`) and
    ``errors_by_id``, each on a cursor of its own."""

    _cursor: Callable[[], AbstractContextManager[Conn]]

    def replay_segments(self, replay_id: str) -> list[ReplayEvent]:
        with self._cursor() as cur:
            return segments(cur, replay_id)

    def replay_recordings(self, replay_id: str) -> list[ReplayRecording]:
        with self._cursor() as cur:
            return recordings(cur, replay_id)

    def list_replays(
        self, window: Window, trace_id: str | None, issue_id: int | None, limit: int
    ) -> list[ReplaySummary]:
        with self._cursor() as cur:
            return list_replays(cur, window, trace_id, issue_id, limit)

    def errors_by_id(self, event_ids: list[str]) -> list[TraceError]:
        with self._cursor() as cur:
            return errors_by_id(cur, event_ids)
