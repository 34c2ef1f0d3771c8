"""Release health, cron check-ins, client reports, feedback and profiles: DuckDB reads."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import duckdb

from glasspane.domain import CheckIn, Feedback, Profile
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

Conn = duckdb.DuckDBPyConnection

#: One row per session (its worst update wins) plus one per aggregate counter.
_OUTCOMES = """
    WITH one AS (
        SELECT project_id, session_id, any_value(release) AS release,
            any_value(environment) AS environment, max(distinct_id) AS did,
            max(CASE status WHEN 'crashed' THEN 5 WHEN 'unhandled' THEN 4
                WHEN 'abnormal' THEN 3 WHEN 'errored' THEN 2 ELSE 0 END) AS worst,
            max(errors) AS errors, min(started) AS started, max("timestamp") AS last
        FROM sessions GROUP BY project_id, session_id
        HAVING min(started) >= $start AND min(started) < $end
    ),
    outcomes AS (
        SELECT project_id, release, environment, did, started, last, 1::BIGINT AS n,
            CASE worst WHEN 5 THEN 'crashed' WHEN 4 THEN 'unhandled' WHEN 3 THEN 'abnormal'
                ELSE CASE WHEN worst = 2 OR errors > 0 THEN 'errored' ELSE 'healthy' END
            END AS outcome
        FROM one
        UNION ALL
        SELECT project_id, release, environment, distinct_id, started, started, n, outcome
        FROM session_aggregates
        UNPIVOT (n FOR outcome IN (exited AS 'healthy', errored, abnormal, unhandled, crashed))
        WHERE started >= $start AND started < $end AND n > 0
    )"""


def release_health(conn: Conn, window: Window) -> list[ReleaseHealth]:
    sql = (
        _OUTCOMES
        + """
        SELECT project_id, release, list_sort(list(DISTINCT environment)
                FILTER (WHERE environment IS NOT NULL)),
            sum(n)::BIGINT,
            coalesce(sum(n) FILTER (WHERE outcome = 'healthy'), 0)::BIGINT,
            coalesce(sum(n) FILTER (WHERE outcome = 'errored'), 0)::BIGINT,
            coalesce(sum(n) FILTER (WHERE outcome = 'abnormal'), 0)::BIGINT,
            coalesce(sum(n) FILTER (WHERE outcome = 'unhandled'), 0)::BIGINT,
            coalesce(sum(n) FILTER (WHERE outcome = 'crashed'), 0)::BIGINT,
            count(DISTINCT did),
            count(DISTINCT did) FILTER (WHERE outcome IN ('crashed', 'unhandled')),
            min(started), max(last)
        FROM outcomes GROUP BY project_id, release ORDER BY max(last) DESC"""
    )
    result = conn.execute(sql, {"start": window.start, "end": window.end}).fetchall()
    return [release_health_from_row(r) for r in result]


def check_ins(conn: Conn, window: Window) -> list[CheckIn]:
    cols = columns(CHECK_INS)
    sql = f"""
        SELECT {cols} FROM check_ins WHERE "timestamp" >= $start AND "timestamp" < $end
        UNION ALL
        SELECT {cols} FROM check_ins WHERE "timestamp" < $start
        QUALIFY row_number() OVER (PARTITION BY project_id, monitor_slug, environment
            ORDER BY "timestamp" DESC) = 1
        ORDER BY "timestamp", received_at"""
    result = conn.execute(sql, {"start": window.start, "end": window.end}).fetchall()
    return [check_in_from_row(r) for r in result]


def client_reports(conn: Conn, window: Window) -> list[OutcomeCount]:
    sql = """SELECT project_id, category, substr(reason, 8), sum(quantity)::BIGINT,
            max("timestamp")
        FROM outcomes WHERE reason LIKE 'client:%' AND "timestamp" >= ? AND "timestamp" < ?
        GROUP BY ALL ORDER BY 4 DESC, 1, 2, 3"""
    return [OutcomeCount(*r) for r in conn.execute(sql, [window.start, window.end]).fetchall()]


def list_feedback(conn: Conn, window: Window, replay_id: str | None, limit: int) -> list[Feedback]:
    where = '"timestamp" >= ? AND "timestamp" < ?'
    params: list[Any] = [window.start, window.end]
    if replay_id is not None:
        where, params = "replay_id = ?", [replay_id]
    sql = (
        f"SELECT {columns(FEEDBACK)} FROM feedback WHERE {where} "
        "QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY received_at DESC) = 1 "
        'ORDER BY "timestamp" DESC LIMIT ?'
    )
    return [feedback_from_row(r) for r in conn.execute(sql, [*params, limit]).fetchall()]


def get_profile(conn: Conn, profile_id: str) -> Profile | None:
    sql = (
        f"SELECT {columns(PROFILES)} FROM profiles WHERE profile_id = ? "
        "ORDER BY received_at DESC LIMIT 1"
    )
    row = conn.execute(sql, [profile_id]).fetchone()
    return profile_from_row(row) if row else None


def list_profiles(
    conn: Conn, window: Window, transaction_id: str | None, trace_id: str | None, limit: int
) -> list[Profile]:
    condition, params = profile_filter(window, transaction_id, trace_id)
    names = [n if n != "payload" else "''::BLOB AS payload" for n in PROFILES.names]
    cols = ", ".join(n if n.endswith("payload") else f'"{n}"' for n in names)
    sql = f'SELECT {cols} FROM profiles WHERE {condition} ORDER BY "timestamp" DESC LIMIT ?'
    return [profile_from_row(r) for r in conn.execute(sql, [*params, limit]).fetchall()]


class SdkItemReads:
    """Release health, crons, client reports, feedback and profiles (of
    :class:`~glasspane.store.api.SdkItemReader`), each on a cursor of its own."""

    _cursor: Callable[[], AbstractContextManager[Conn]]

    def release_health(self, window: Window) -> list[ReleaseHealth]:
        with self._cursor() as cur:
            return release_health(cur, window)

    def check_ins(self, window: Window) -> list[CheckIn]:
        with self._cursor() as cur:
            return check_ins(cur, window)

    def client_reports(self, window: Window) -> list[OutcomeCount]:
        with self._cursor() as cur:
            return client_reports(cur, window)

    def list_feedback(self, window: Window, replay_id: str | None, limit: int) -> list[Feedback]:
        with self._cursor() as cur:
            return list_feedback(cur, window, replay_id, limit)

    def get_profile(self, profile_id: str) -> Profile | None:
        with self._cursor() as cur:
            return get_profile(cur, profile_id)

    def list_profiles(
        self, window: Window, transaction_id: str | None, trace_id: str | None, limit: int
    ) -> list[Profile]:
        with self._cursor() as cur:
            return list_profiles(cur, window, transaction_id, trace_id, limit)
