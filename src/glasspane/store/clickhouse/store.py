"""The ClickHouse store: the same contract as the DuckDB store, for a
ClickHouse server shared by several glasspane processes, or chDB in-process.

Writing: one group-commit thread per process, one INSERT per table per group
(ClickHouse wants few large inserts). An insert is acknowledged once its part
is on disk, so an acknowledged envelope survives this process being killed.
There are no multi-table transactions: if a group fails half-way, it is
retried entry by entry and the tables written before the failure may hold a
row twice. Reads tolerate that (trace spans are de-duplicated by span id).

Several processes: nothing here is kept only in memory. Issue ids are derived
from the fingerprint (the same in every process), updates are new rows of
``ReplacingMergeTree`` tables, and the alert lease says which process
evaluates alert rules.

The class holds the writes, projects, alert state and the store's lifecycle;
the reads of each role are a mixin at the foot of the module holding their
SQL (``analytics``, ``issues``, ``logs``, ``metrics``, ``replays``,
``sdk_items``), on the store's one connection. The DuckDB store has the same map.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

import orjson
import pyarrow as pa

from glasspane.detectors import ProjectThresholds
from glasspane.domain import Batch, Project, Span
from glasspane.errors import Conflict
from glasspane.store import rows, sdk_rows
from glasspane.store.api import Store
from glasspane.store.clickhouse.accounts import AccountsMixin
from glasspane.store.clickhouse.analytics import AnalyticsReads
from glasspane.store.clickhouse.connection import Connection
from glasspane.store.clickhouse.issues import IssueReads
from glasspane.store.clickhouse.logs import LogReads
from glasspane.store.clickhouse.metrics import MetricReads
from glasspane.store.clickhouse.replays import ReplayReads
from glasspane.store.clickhouse.schema import migrate, text_payloads
from glasspane.store.clickhouse.sdk_items import SdkItemReads
from glasspane.store.findings import ThresholdsCache, WaitingChildren, thresholds_from_rows
from glasspane.store.group_rows import group_rows
from glasspane.store.models import OutcomeCount, TraceError
from glasspane.store.retention import DEFAULT_RETENTION_DAYS, TTL_COLUMNS
from glasspane.store.writer import GroupCommitWriter

T = TypeVar("T")

#: Issue ids stay below 2**53 so JavaScript reads them exactly.
_ISSUE_ID_MASK = (1 << 53) - 1


def issue_id(project_id: int, fingerprint: str) -> int:
    """The issue's id, the same in every process: a hash of project and fingerprint."""
    digest = hashlib.blake2b(f"{project_id}\0{fingerprint}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & _ISSUE_ID_MASK or 1


def _nothing(_: Connection) -> None:
    return None


class ClickHouseStore(
    AnalyticsReads,
    IssueReads,
    LogReads,
    MetricReads,
    ReplayReads,
    SdkItemReads,
    AccountsMixin,
    Store,
):
    def __init__(
        self,
        conn: Connection,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        max_group: int = 2000,
    ) -> None:
        self._conn = conn
        migrate(conn, retention_days)
        self._known_issues: set[int] = set()
        self._thresholds: ThresholdsCache[Connection] = ThresholdsCache(self._load_thresholds)
        #: Child spans whose segment comes in a later write group (the writer's only).
        self._waiting = WaitingChildren()
        self._closed = False
        self._writer: GroupCommitWriter[Connection] = GroupCommitWriter(
            conn, self._write_batches, (_nothing, _nothing, _nothing), max_group=max_group
        )

    @property
    def shared_between_processes(self) -> bool:
        """A ClickHouse server is; chDB in this process is not (see the connection)."""
        return self._conn.shared_between_processes

    # -- writing ---------------------------------------------------------
    def write(self, batch: Batch) -> Future[None]:
        return self._writer.submit(batch)

    def _write_batches(self, conn: Connection, batches: list[Batch]) -> None:
        now = time.time()
        group = group_rows(batches, now, issue_id, self._thresholds.get(conn), self._waiting)
        new = {ident: key for ident, key in group.issues.items() if ident not in self._known_issues}
        # Issues first: an error row never points at an issue that is not there.
        if new:
            conn.insert(
                "issues",
                pa.table(
                    {
                        "id": pa.array(list(new), pa.uint64()),
                        "project_id": pa.array([p for p, _ in new.values()], pa.uint32()),
                        "fingerprint": [f for _, f in new.values()],
                        "status": ["unresolved"] * len(new),
                        "created_at": [now] * len(new),
                        "version": [0.0] * len(new),
                    }
                ),
            )
        self._reopen_resolved(conn, set(group.issues), now)
        for table, columns, data in group.tables():
            self._insert(conn, table, columns, data)
        for table, arrow in sdk_rows.tables(batches):
            conn.insert(table, text_payloads(arrow))
        self._save_checkpoint(conn, group.checkpoint, now)
        self._known_issues.update(new)
        if len(self._known_issues) > 100_000:  # a cache, not a registry
            self._known_issues.clear()

    @staticmethod
    def _insert(
        conn: Connection, table: str, columns: tuple[str, ...], data: list[tuple[Any, ...]]
    ) -> None:
        if data:
            conn.insert(table, rows.arrow_table(columns, data))

    def _reopen_resolved(self, conn: Connection, ids: set[int], now: float) -> None:
        """A new event on a resolved issue reopens it, marked regressed."""
        if not ids:
            return
        resolved = conn.execute(
            "SELECT id, project_id, fingerprint, created_at FROM issues FINAL "
            "WHERE id IN ? AND status = 'resolved'",
            [sorted(ids)],
        ).fetchall()
        for ident, project_id, fingerprint, created_at in resolved:
            self._issue_row(
                conn, ident, project_id, fingerprint, created_at, "unresolved", now, now
            )

    @staticmethod
    def _issue_row(
        conn: Connection,
        ident: int,
        project_id: int,
        fingerprint: str,
        created_at: float,
        status: str,
        changed_at: float,
        regressed_at: float | None,
    ) -> None:
        conn.execute(
            "INSERT INTO issues (id, project_id, fingerprint, status, created_at, regressed_at, "
            "status_changed_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                ident,
                project_id,
                fingerprint,
                status,
                created_at,
                regressed_at,
                changed_at,
                changed_at,
            ],
        )

    def _run(self, task: Callable[[Connection], T]) -> T:
        """Run a small write on the writer thread (ordered with the batches)."""
        result: T = self._writer.submit(task).result()
        return result

    def create_project(self, name: str, public_key: str, apdex_threshold_ms: float) -> Project:
        def task(conn: Connection) -> Project:
            if conn.execute("SELECT 1 FROM projects FINAL WHERE name = ?", [name]).fetchone():
                raise Conflict(f"A project named {name!r} already exists; choose another name")
            row = conn.execute("SELECT max(id) FROM projects FINAL").fetchone()
            next_id = int(row[0]) + 1 if row and row[0] else 1
            project = Project(next_id, name, public_key, time.time(), apdex_threshold_ms)
            self._save_project(conn, project)
            return project

        return self._run(task)

    @staticmethod
    def _save_project(conn: Connection, project: Project) -> None:
        conn.execute(
            "INSERT INTO projects VALUES (?, ?, ?, ?, ?, ?)",
            [
                project.id,
                project.name,
                project.public_key,
                project.created_at,
                project.apdex_threshold_ms,
                time.time(),
            ],
        )

    def _change_project(self, project_id: int, **changes: Any) -> Project | None:
        def task(conn: Connection) -> Project | None:
            found = self._project(conn, project_id)
            if found is None:
                return None
            for name, value in changes.items():
                setattr(found, name, value)
            self._save_project(conn, found)
            return found

        return self._run(task)

    def set_apdex_threshold(self, project_id: int, threshold_ms: float) -> Project | None:
        return self._change_project(project_id, apdex_threshold_ms=threshold_ms)

    def set_public_key(self, project_id: int, public_key: str) -> Project | None:
        return self._change_project(project_id, public_key=public_key)

    _THRESHOLDS = "SELECT project_id, thresholds FROM detector_thresholds FINAL"

    @classmethod
    def _load_thresholds(cls, conn: Connection) -> dict[int, ProjectThresholds]:
        return thresholds_from_rows(conn.execute(cls._THRESHOLDS).fetchall())

    def detector_thresholds(self) -> dict[int, dict[str, dict[str, float | bool]]]:
        return thresholds_from_rows(self._read(self._THRESHOLDS))  # type: ignore[return-value]

    def set_detector_thresholds(
        self, project_id: int, thresholds: dict[str, dict[str, float | bool]]
    ) -> None:
        def task(conn: Connection) -> None:
            conn.execute(
                "INSERT INTO detector_thresholds VALUES (?, ?, ?)",
                [project_id, orjson.dumps(thresholds).decode(), time.time()],
            )
            self._thresholds.forget()

        self._run(task)

    # -- reading ---------------------------------------------------------
    def _read(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return self._conn.execute(sql, params or []).fetchall()

    _PROJECT = "SELECT id, name, public_key, created_at, apdex_threshold_ms FROM projects FINAL"

    @classmethod
    def _project(cls, conn: Connection, project_id: int) -> Project | None:
        row = conn.execute(f"{cls._PROJECT} WHERE id = ?", [project_id]).fetchone()
        return Project(*row) if row else None

    def list_projects(self) -> list[Project]:
        return [Project(*row) for row in self._read(f"{self._PROJECT} ORDER BY id")]

    def trace_spans(self, trace_id: str) -> list[Span]:
        columns = ", ".join(f'"{c}"' for c in rows.SPAN_COLUMNS)
        return [
            rows.span_from_row(row)
            for row in self._read(
                f"SELECT {columns} FROM spans WHERE trace_id = ? "
                "ORDER BY start_ts, span_id LIMIT 1 BY span_id",
                [trace_id],
            )
        ]

    def trace_errors(self, trace_id: str) -> list[TraceError]:
        columns = ", ".join(f'"{c}"' for c in rows.TRACE_ERROR_COLUMNS)
        return [
            rows.trace_error_from_row(row)
            for row in self._read(
                f"SELECT {columns} FROM errors WHERE trace_id = ? AND category = 'error' "
                'ORDER BY "timestamp" '
                "LIMIT 1 BY event_id",
                [trace_id],
            )
        ]

    def outcomes(self) -> list[OutcomeCount]:
        return [OutcomeCount(*row) for row in self._read(rows.OUTCOME_TOTALS)]

    # -- alert state and the alert lease ----------------------------------
    @staticmethod
    def _save_checkpoint(conn: Connection, checkpoint: dict[str, int], now: float) -> None:
        """Journal positions, after the rows they cover (a forgotten segment is -1)."""
        if checkpoint:
            conn.insert(
                "journal_positions",
                pa.table(
                    {
                        "segment": list(checkpoint),
                        "position": pa.array(list(checkpoint.values()), pa.int64()),
                        "updated_at": [now] * len(checkpoint),
                    }
                ),
            )

    def journal_positions(self) -> dict[str, int]:
        """How far each ingest journal segment was fed (segment file name → offset)."""
        return {
            str(name): int(pos)
            for name, pos in self._read(
                "SELECT segment, position FROM journal_positions FINAL WHERE position >= 0"
            )
        }

    def alert_states(self) -> dict[str, dict[str, Any]]:
        return {
            rule: orjson.loads(state)
            for rule, state in self._read("SELECT rule, state FROM alert_states FINAL")
        }

    def save_alert_state(self, rule: str, state: dict[str, Any]) -> None:
        self._run(
            lambda conn: conn.execute(
                "INSERT INTO alert_states VALUES (?, ?, ?)",
                [rule, orjson.dumps(state).decode(), time.time()],
            )
        )

    def take_lease(self, name: str, holder: str, seconds: float) -> bool:
        """Hold ``name`` for ``seconds`` if it is free, expired or already ours.

        Two processes can both see it free and both write; the later row wins
        in every reader's eyes (``ReplacingMergeTree`` keeps the highest
        ``taken_at``), so each re-reads after writing and only the one it names
        goes on. Renewing ahead of expiry keeps the holder stable.
        """
        now = time.time()
        current = self._lease(name)
        if current is not None and current[0] != holder and current[1] > now:
            return False
        self._run(
            lambda conn: conn.execute(
                "INSERT INTO leases VALUES (?, ?, ?, ?)", [name, holder, now + seconds, now]
            )
        )
        after = self._lease(name)
        return after is not None and after[0] == holder

    def enforce_retention(self) -> None:
        """Apply the TTLs now instead of at the next merge (rewrites expired parts)."""
        for table in TTL_COLUMNS:
            self._conn.execute(f"ALTER TABLE {table} MATERIALIZE TTL SETTINGS mutations_sync = 1")

    def lease_holder(self, name: str) -> str | None:
        current = self._lease(name)
        return current[0] if current and current[1] > time.time() else None

    def _lease(self, name: str) -> tuple[str, float] | None:
        row = self._conn.execute(
            "SELECT holder, expires_at FROM leases FINAL WHERE name = ?", [name]
        ).fetchone()
        return (str(row[0]), float(row[1])) if row else None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._writer.close()
        self._conn.close()
