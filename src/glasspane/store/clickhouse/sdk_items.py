"""Release health, crons, client reports, feedback and profiles reads, in ClickHouse SQL.

A mixin of :class:`~glasspane.store.clickhouse.store.ClickHouseStore`. The
queries follow the DuckDB store's (``duckdb/sdk_items.py``); where ClickHouse
differs:

- "the latest copy of a resent item" is ``ORDER BY received_at DESC LIMIT 1 BY
  key`` (there is no ``QUALIFY``);
- profile payloads are stored base64-encoded (the read path hands every String
  column back as text) and decoded here;
- session aggregates' counters become rows with ``ARRAY JOIN`` (no ``UNPIVOT``).

Rows become domain objects through the shared ``store/sdk_rows.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from glasspane.domain import CheckIn, Feedback, Profile
from glasspane.store.clickhouse.connection import Connection
from glasspane.store.clickhouse.schema import decoded
from glasspane.store.models import OutcomeCount, ReleaseHealth, Window
from glasspane.store.sdk_rows import (
    CHECK_INS,
    FEEDBACK,
    PROFILES,
    check_in_from_row,
    columns,
    feedback_from_row,
    profile_filter,
    profile_from_row,
    release_health_from_row,
)

#: One row per session (its worst update wins) plus one per aggregate counter;
#: parameters: start, end, start, end.
_OUTCOMES = """
    WITH one AS (
        SELECT project_id, session_id, any(release) AS rel, any(environment) AS env,
            max(distinct_id) AS did,
            max(multiIf(status = 'crashed', 5, status = 'unhandled', 4,
                status = 'abnormal', 3, status = 'errored', 2, 0)) AS worst,
            max(errors) AS error_count, min(started) AS began, max("timestamp") AS ended
        FROM sessions GROUP BY project_id, session_id
        HAVING began >= ? AND began < ?
    ),
    outcomes AS (
        SELECT project_id, rel, env, did, began, ended, toInt64(1) AS n,
            multiIf(worst = 5, 'crashed', worst = 4, 'unhandled', worst = 3, 'abnormal',
                worst = 2 OR error_count > 0, 'errored', 'healthy') AS outcome
        FROM one
        UNION ALL
        SELECT project_id, release, environment, distinct_id, started, started,
            counter.2, counter.1
        FROM session_aggregates
        ARRAY JOIN [('healthy', exited), ('errored', errored), ('abnormal', abnormal),
            ('unhandled', unhandled), ('crashed', crashed)] AS counter
        WHERE started >= ? AND started < ? AND counter.2 > 0
    )"""

_RELEASE_HEALTH = (
    _OUTCOMES
    + """
    SELECT project_id, rel, arraySort(groupUniqArray(env)), sum(n),
        sumIf(n, outcome = 'healthy'), sumIf(n, outcome = 'errored'),
        sumIf(n, outcome = 'abnormal'), sumIf(n, outcome = 'unhandled'),
        sumIf(n, outcome = 'crashed'), uniqExact(did),
        uniqExactIf(did, outcome IN ('crashed', 'unhandled')), min(began),
        max(ended) AS last_seen
    FROM outcomes GROUP BY project_id, rel ORDER BY last_seen DESC"""
)

_CLIENT_REPORTS = """
    SELECT project_id, category, substring(reason, 8) AS dropped_for,
        sum(quantity) AS quantity_sum, max("timestamp")
    FROM outcomes
    WHERE startsWith(reason, 'client:') AND "timestamp" >= ? AND "timestamp" < ?
    GROUP BY project_id, category, dropped_for
    ORDER BY quantity_sum DESC, project_id, category, dropped_for"""


class SdkItemReads:
    _conn: Connection
    _read: Callable[..., list[tuple[Any, ...]]]

    # -- release health, crons, client reports -------------------------------
    def release_health(self, window: Window) -> list[ReleaseHealth]:
        params = [window.start, window.end] * 2
        return [release_health_from_row(r) for r in self._read(_RELEASE_HEALTH, params)]

    def check_ins(self, window: Window) -> list[CheckIn]:
        cols = columns(CHECK_INS)
        sql = f"""
            SELECT * FROM (
                SELECT {cols} FROM check_ins WHERE "timestamp" >= ? AND "timestamp" < ?
                UNION ALL
                SELECT * FROM (
                    SELECT {cols} FROM check_ins WHERE "timestamp" < ?
                    ORDER BY "timestamp" DESC
                    LIMIT 1 BY project_id, monitor_slug, environment
                )
            ) ORDER BY "timestamp", received_at"""
        params = [window.start, window.end, window.start]
        return [check_in_from_row(r) for r in self._read(sql, params)]

    def client_reports(self, window: Window) -> list[OutcomeCount]:
        return [OutcomeCount(*r) for r in self._read(_CLIENT_REPORTS, [window.start, window.end])]

    # -- feedback and profiles ---------------------------------------------------
    def list_feedback(self, window: Window, replay_id: str | None, limit: int) -> list[Feedback]:
        where = '"timestamp" >= ? AND "timestamp" < ?'
        params: list[Any] = [window.start, window.end]
        if replay_id is not None:
            where, params = "replay_id = ?", [replay_id]
        sql = f"""
            SELECT * FROM (
                SELECT {columns(FEEDBACK)} FROM feedback WHERE {where}
                ORDER BY received_at DESC LIMIT 1 BY event_id
            ) ORDER BY "timestamp" DESC LIMIT ?"""
        return [feedback_from_row(r) for r in self._read(sql, [*params, limit])]

    def get_profile(self, profile_id: str) -> Profile | None:
        sql = (
            f"SELECT {columns(PROFILES)} FROM profiles WHERE profile_id = ? "
            "ORDER BY received_at DESC LIMIT 1"
        )
        row = self._conn.execute(sql, [profile_id]).fetchone()
        return profile_from_row(decoded(PROFILES, row)) if row else None

    def list_profiles(
        self, window: Window, transaction_id: str | None, trace_id: str | None, limit: int
    ) -> list[Profile]:
        condition, params = profile_filter(window, transaction_id, trace_id)
        # Listed without payloads: an empty one in its place (decoded to b"").
        cols = ", ".join("'' AS payload" if n == "payload" else f'"{n}"' for n in PROFILES.names)
        sql = f'SELECT {cols} FROM profiles WHERE {condition} ORDER BY "timestamp" DESC LIMIT ?'
        return [profile_from_row(decoded(PROFILES, r)) for r in self._read(sql, [*params, limit])]
