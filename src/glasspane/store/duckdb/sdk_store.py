"""The DuckDB store's reads of replays, release health, crons, feedback and profiles.

A mixin of :class:`~glasspane.store.duckdb.store.DuckDBStore`: each read runs
on a cursor of its own through the store's ``_analytics``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

import duckdb

from glasspane.domain import CheckIn, Feedback, Profile, ReplayEvent, ReplayRecording
from glasspane.store.duckdb import replays, sdk_items
from glasspane.store.models import OutcomeCount, ReleaseHealth, ReplaySummary, TraceError, Window

P = ParamSpec("P")
T = TypeVar("T")


class SdkItemReads:
    def _analytics(
        self,
        query: Callable[Concatenate[duckdb.DuckDBPyConnection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run ``query`` on a fresh cursor: provided by the store this is mixed into."""
        raise NotImplementedError

    def replay_segments(self, replay_id: str) -> list[ReplayEvent]:
        return self._analytics(replays.segments, replay_id)

    def replay_recordings(self, replay_id: str) -> list[ReplayRecording]:
        return self._analytics(replays.recordings, replay_id)

    def list_replays(
        self, window: Window, trace_id: str | None, issue_id: int | None, limit: int
    ) -> list[ReplaySummary]:
        return self._analytics(replays.list_replays, window, trace_id, issue_id, limit)

    def errors_by_id(self, event_ids: list[str]) -> list[TraceError]:
        return self._analytics(replays.errors_by_id, event_ids)

    def release_health(self, window: Window) -> list[ReleaseHealth]:
        return self._analytics(sdk_items.release_health, window)

    def check_ins(self, window: Window) -> list[CheckIn]:
        return self._analytics(sdk_items.check_ins, window)

    def client_reports(self, window: Window) -> list[OutcomeCount]:
        return self._analytics(sdk_items.client_reports, window)

    def list_feedback(self, window: Window, replay_id: str | None, limit: int) -> list[Feedback]:
        return self._analytics(sdk_items.list_feedback, window, replay_id, limit)

    def get_profile(self, profile_id: str) -> Profile | None:
        return self._analytics(sdk_items.get_profile, profile_id)

    def list_profiles(
        self, window: Window, transaction_id: str | None, trace_id: str | None, limit: int
    ) -> list[Profile]:
        return self._analytics(sdk_items.list_profiles, window, transaction_id, trace_id, limit)
