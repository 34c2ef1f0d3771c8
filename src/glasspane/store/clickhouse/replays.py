"""Replay reads (segments, recordings, lists and links), in ClickHouse SQL.

A mixin of :class:`~glasspane.store.clickhouse.store.ClickHouseStore`. The
queries follow the DuckDB store's (``duckdb/replays.py``); where ClickHouse
differs:

- "the latest copy of a resent item" is ``ORDER BY received_at DESC LIMIT 1 BY
  key`` (there is no ``QUALIFY``);
- recording payloads are stored base64-encoded (the read path hands every
  String column back as text) and decoded here.

Rows become domain objects through the shared ``store/sdk_rows.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from glasspane.domain import ReplayEvent, ReplayRecording
from glasspane.store import rows
from glasspane.store.clickhouse.schema import decoded
from glasspane.store.models import ReplaySummary, TraceError, Window
from glasspane.store.sdk_rows import (
    REPLAY_RECORDINGS,
    REPLAY_SEGMENTS,
    columns,
    replay_event_from_row,
    replay_recording_from_row,
    replay_summary_from_row,
)

#: A replay's segments merged: URLs in segment order, the rest from its first segment.
_REPLAY_SUMMARY = """
    SELECT replay_id, any(project_id), min(coalesce(replay_start_ts, "timestamp")),
        max("timestamp") AS finished_at, uniqExact(segment_id),
        groupUniqArrayArray(trace_ids), groupUniqArrayArray(error_ids),
        arrayDistinct(arrayFlatten(arrayMap(p -> p.2,
            arraySort(p -> p.1, groupArray((segment_id, urls)))))),
        argMin(user_id, segment_id), argMin(user_email, segment_id),
        argMin(user_username, segment_id), argMin(user_ip, segment_id),
        argMin(browser_name, segment_id), argMin(os_name, segment_id),
        argMin(country_code, segment_id), argMin(environment, segment_id),
        argMin(release, segment_id), argMin(replay_type, segment_id)
    FROM replay_segments WHERE replay_id IN ({matching})
    GROUP BY replay_id ORDER BY finished_at DESC LIMIT ?"""

#: An issue's replays: those that saw one of its events or traces. The issue's
#: ids are scalar subqueries (run once), since ClickHouse has no correlated ones.
_ISSUE_LINK = """(
    hasAny(error_ids, (SELECT groupUniqArray(event_id) FROM errors WHERE issue_id = ?))
    OR hasAny(trace_ids, (SELECT groupUniqArray(assumeNotNull(trace_id)) FROM errors
        WHERE issue_id = ? AND trace_id IS NOT NULL)))"""


class ReplayReads:
    _read: Callable[..., list[tuple[Any, ...]]]

    def replay_segments(self, replay_id: str) -> list[ReplayEvent]:
        # A segment the SDK resent (after a network error) is kept once: its latest copy.
        sql = (
            f"SELECT {columns(REPLAY_SEGMENTS)} FROM replay_segments WHERE replay_id = ? "
            "ORDER BY segment_id, received_at DESC LIMIT 1 BY segment_id"
        )
        return [replay_event_from_row(r) for r in self._read(sql, [replay_id])]

    def replay_recordings(self, replay_id: str) -> list[ReplayRecording]:
        sql = (
            f"SELECT {columns(REPLAY_RECORDINGS)} FROM replay_recordings WHERE replay_id = ? "
            "ORDER BY segment_id, received_at DESC LIMIT 1 BY segment_id"
        )
        return [
            replay_recording_from_row(decoded(REPLAY_RECORDINGS, r))
            for r in self._read(sql, [replay_id])
        ]

    def list_replays(
        self, window: Window, trace_id: str | None, issue_id: int | None, limit: int
    ) -> list[ReplaySummary]:
        """Replays touching the window; a link filter looks at all time instead."""
        links: list[str] = []
        params: list[Any] = []
        if trace_id is not None:
            links.append("has(trace_ids, ?)")
            params.append(trace_id)
        if issue_id is not None:
            links.append(_ISSUE_LINK)
            params += [issue_id, issue_id]
        if not links:
            links.append('"timestamp" >= ? AND "timestamp" < ?')
            params = [window.start, window.end]
        matching = f"SELECT replay_id FROM replay_segments WHERE {' AND '.join(links)}"
        sql = _REPLAY_SUMMARY.format(matching=matching)
        return [replay_summary_from_row(r) for r in self._read(sql, [*params, limit])]

    def errors_by_id(self, event_ids: list[str]) -> list[TraceError]:
        if not event_ids:
            return []
        cols = ", ".join(f'"{c}"' for c in rows.TRACE_ERROR_COLUMNS)
        sql = (
            f'SELECT {cols} FROM errors WHERE event_id IN ? ORDER BY "timestamp" '
            "LIMIT 1 BY event_id"
        )
        return [rows.trace_error_from_row(r) for r in self._read(sql, [event_ids])]
