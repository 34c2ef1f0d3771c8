"""The DuckDB store: one file, one writer thread, concurrent readers.

DuckDB allows one process per file; within it, the writer thread holds its own
connection and every read opens a cursor of its own, so reads never wait for
commits (DuckDB's MVCC gives them a consistent snapshot).

A full disk fails writes with :class:`DiskFull` and leaves the committed data
alone; when DuckDB invalidates the instance (see ``faults``), the writer thread
opens the file again before its next transaction, and a failing read asks it
to, so the store heals by itself once space returns.

The class holds the writes, projects, alert state and the store's lifecycle;
the reads of each role are a mixin at the foot of the module holding their
SQL (``analytics``, ``issues``, ``logs``, ``metrics``, ``replays``,
``sdk_items``), each read on a cursor of its own (:meth:`DuckDBStore._cursor`).
The ClickHouse store has the same map.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import orjson

from glasspane.detectors import ProjectThresholds
from glasspane.domain import Batch, Project, Span
from glasspane.errors import ConfigError, Conflict, StoreError
from glasspane.store import rows, sdk_rows
from glasspane.store.api import Store
from glasspane.store.duckdb import faults, issues
from glasspane.store.duckdb.accounts import AccountsMixin
from glasspane.store.duckdb.analytics import AnalyticsReads
from glasspane.store.duckdb.issues import IssueReads
from glasspane.store.duckdb.logs import LogReads
from glasspane.store.duckdb.metrics import MetricReads
from glasspane.store.duckdb.replays import ReplayReads
from glasspane.store.duckdb.retention import RetentionSweep
from glasspane.store.duckdb.schema import migrate
from glasspane.store.duckdb.sdk_items import SdkItemReads
from glasspane.store.findings import ThresholdsCache, WaitingChildren, thresholds_from_rows
from glasspane.store.group_rows import group_rows
from glasspane.store.models import OutcomeCount, TraceError
from glasspane.store.retention import DEFAULT_RETENTION_DAYS
from glasspane.store.writer import GroupCommitWriter

Conn = duckdb.DuckDBPyConnection
T = TypeVar("T")
log = logging.getLogger(__name__)


def _connect(path: Path) -> Conn:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(path))
    except duckdb.Error as exc:
        raise ConfigError(
            f"Cannot open {path} as a glasspane DuckDB database: {exc}. Is another glasspane "
            "using this data directory, or is the file from something else? Use another "
            "--data-dir or stop the other process."
        ) from None


class DuckDBStore(
    AnalyticsReads,
    IssueReads,
    LogReads,
    MetricReads,
    ReplayReads,
    SdkItemReads,
    AccountsMixin,
    Store,
):
    #: DuckDB opens a file in one process only (it locks the file): every reader
    #: and the writer of a DuckDB store live in the process that opened it.
    shared_between_processes = False

    def __init__(
        self, path: Path, max_group: int = 2000, retention_days: int = DEFAULT_RETENTION_DAYS
    ) -> None:
        self.path = path
        self._db = _connect(path)
        try:
            migrate(self._db)
        except duckdb.Error as exc:
            self._db.close()
            raise ConfigError(f"{path} is not a glasspane database: {exc}") from None
        self._issue_ids: dict[tuple[int, str], int] = {}
        self._next_issue_id = 1
        self._uncommitted_issues: list[tuple[int, str]] = []  # keys added by this transaction
        self._invalidated = False  # set on any thread, cleared by the writer's reopen
        self._load_issue_ids(self._db)
        self._thresholds: ThresholdsCache[Conn] = ThresholdsCache(self._load_thresholds)
        #: Child spans whose segment comes in a later write group (the writer's only).
        self._waiting = WaitingChildren()
        self._writer: GroupCommitWriter[Conn] = GroupCommitWriter(
            self._db.cursor(),
            self._write_batches,
            (self._begin, self._commit, self._rollback),
            max_group=max_group,
            prepare=self._reopen_if_invalidated,
            explain=self._explain,
        )
        self._local = threading.local()
        self._retention = RetentionSweep(self._writer, retention_days)

    # -- writing ---------------------------------------------------------
    def write(self, batch: Batch) -> Future[None]:
        return self._writer.submit(batch)

    def _run(self, task: Callable[[Conn], T]) -> T:
        """Run a small write on the writer thread (ordered with the batches)."""
        result: T = self._writer.submit(task).result()
        return result

    def create_project(self, name: str, public_key: str, apdex_threshold_ms: float) -> Project:
        def task(conn: Conn) -> Project:
            if conn.execute("SELECT 1 FROM projects WHERE name = ?", [name]).fetchone():
                raise Conflict(f"A project named {name!r} already exists; choose another name")
            row = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM projects").fetchone()
            project = Project(
                int(row[0]) if row else 1, name, public_key, time.time(), apdex_threshold_ms
            )
            conn.execute(
                "INSERT INTO projects VALUES (?, ?, ?, ?, ?)",
                [
                    project.id,
                    project.name,
                    project.public_key,
                    project.created_at,
                    project.apdex_threshold_ms,
                ],
            )
            return project

        result: Project = self._writer.submit(task).result()
        return result

    def set_apdex_threshold(self, project_id: int, threshold_ms: float) -> Project | None:
        def task(conn: Conn) -> Project | None:
            row = conn.execute(
                "UPDATE projects SET apdex_threshold_ms = ? WHERE id = ? "
                "RETURNING id, name, public_key, created_at, apdex_threshold_ms",
                [threshold_ms, project_id],
            ).fetchone()
            return Project(*row) if row else None

        result: Project | None = self._writer.submit(task).result()
        return result

    def set_public_key(self, project_id: int, public_key: str) -> Project | None:
        def task(conn: Conn) -> Project | None:
            row = conn.execute(
                "UPDATE projects SET public_key = ? WHERE id = ? "
                "RETURNING id, name, public_key, created_at, apdex_threshold_ms",
                [public_key, project_id],
            ).fetchone()
            return Project(*row) if row else None

        result: Project | None = self._writer.submit(task).result()
        return result

    @staticmethod
    def _load_thresholds(conn: Conn) -> dict[int, ProjectThresholds]:
        rows = conn.execute("SELECT project_id, thresholds FROM detector_thresholds").fetchall()
        return thresholds_from_rows(rows)

    def detector_thresholds(self) -> dict[int, dict[str, dict[str, float | bool]]]:
        rows = self._read("SELECT project_id, thresholds FROM detector_thresholds")
        return thresholds_from_rows(rows)  # type: ignore[return-value]

    def set_detector_thresholds(
        self, project_id: int, thresholds: dict[str, dict[str, float | bool]]
    ) -> None:
        def task(conn: Conn) -> None:
            conn.execute(
                "INSERT OR REPLACE INTO detector_thresholds VALUES (?, ?, ?)",
                [project_id, orjson.dumps(thresholds).decode(), time.time()],
            )
            self._thresholds.forget()

        self._run(task)

    def _load_issue_ids(self, conn: Conn) -> None:
        self._issue_ids.clear()
        for issue_id, project_id, fingerprint in conn.execute(
            "SELECT id, project_id, fingerprint FROM issues"
        ).fetchall():
            self._issue_ids[(project_id, fingerprint)] = issue_id
            self._next_issue_id = max(self._next_issue_id, issue_id + 1)

    def _write_batches(self, conn: Conn, batches: list[Batch]) -> None:
        """Insert a group of batches; runs on the writer thread, inside its transaction."""
        now = time.time()
        new_issues: list[tuple[Any, ...]] = []
        group = group_rows(
            batches,
            now,
            lambda project, fingerprint: self._issue_id(project, fingerprint, new_issues, now),
            self._thresholds.get(conn),
            self._waiting,
        )
        # A failure from here on rolls back, and _rollback forgets the new issue ids.
        for table, columns, data in group.tables():
            self._insert(conn, table, columns, data)
        sdk_rows.insert(conn, batches)
        if new_issues:
            conn.executemany(
                "INSERT INTO issues (id, project_id, fingerprint, created_at) VALUES (?, ?, ?, ?)",
                new_issues,
            )
        issues.reopen_resolved(conn, set(group.issues) - {new[0] for new in new_issues}, now)
        self._save_checkpoint(conn, group.checkpoint)

    @staticmethod
    def _save_checkpoint(conn: Conn, checkpoint: dict[str, int]) -> None:
        if not checkpoint:
            return
        gone = [[name] for name, position in checkpoint.items() if position < 0]
        kept = [[name, position] for name, position in checkpoint.items() if position >= 0]
        if gone:  # one statement each: DuckDB's executemany runs one per row
            conn.execute(
                "DELETE FROM journal_positions WHERE list_contains(?, segment)",
                [[name for [name] in gone]],
            )
        if kept:
            values = ", ".join("(?, ?)" for _ in kept)
            conn.execute(
                f"INSERT OR REPLACE INTO journal_positions VALUES {values}",
                [v for pair in kept for v in pair],
            )

    def journal_positions(self) -> dict[str, int]:
        """How far each ingest journal segment was fed (segment file name → offset)."""
        return {
            str(name): int(pos)
            for name, pos in self._read("SELECT segment, position FROM journal_positions")
        }

    def _issue_id(
        self, project_id: int, fingerprint: str, new: list[tuple[Any, ...]], now: float
    ) -> int:
        key = (project_id, fingerprint)
        if key not in self._issue_ids:
            self._issue_ids[key] = self._next_issue_id
            self._next_issue_id += 1
            self._uncommitted_issues.append(key)
            new.append((self._issue_ids[key], project_id, fingerprint, now))
        return self._issue_ids[key]

    @staticmethod
    def _insert(
        conn: Conn, table: str, columns: tuple[str, ...], data: list[tuple[Any, ...]]
    ) -> None:
        if not data:
            return
        conn.register("incoming", rows.arrow_table(columns, data))
        try:
            conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
        finally:
            conn.unregister("incoming")

    # -- transactions and faults (writer thread) ---------------------------
    def _begin(self, conn: Conn) -> None:
        self._uncommitted_issues.clear()
        conn.begin()

    def _commit(self, conn: Conn) -> None:
        try:
            conn.commit()
        except duckdb.Error as exc:
            self._invalidated = self._invalidated or faults.invalidates(exc)
            if not faults.committed_anyway(exc):
                raise
            log.warning("committed, but DuckDB must reopen the database: %s", exc)

    def _rollback(self, conn: Conn) -> None:
        for key in self._uncommitted_issues:
            self._issue_ids.pop(key, None)
        if self._invalidated:  # nothing to roll back on an instance DuckDB gave up
            return
        with suppress(duckdb.TransactionException):  # after a failed COMMIT: rolled back
            conn.rollback()

    def _explain(self, exc: Exception) -> Exception:
        return faults.disk_full(exc, self.path.parent) or exc

    def _reopen_if_invalidated(self, conn: Conn) -> Conn:
        """The writer's connection, on a freshly opened database if the old one was invalidated.

        Every connection of the old instance is closed first (closing ``_db``
        closes its cursors), or DuckDB would hand back the invalidated instance.
        """
        if not self._invalidated:
            return conn
        self._db.close()
        self._db = duckdb.connect(str(self.path))  # replays the WAL; raises while it cannot
        self._invalidated = False
        cursor = self._db.cursor()
        self._load_issue_ids(cursor)
        log.warning("reopened %s after DuckDB invalidated it", self.path)
        return cursor

    # -- reading ---------------------------------------------------------
    @contextmanager
    def _cursor(self) -> Iterator[Conn]:
        """A cursor of its own for one read; database errors become :class:`StoreError`."""
        try:
            cursor = self._db.cursor()
        except duckdb.Error as exc:  # closed: the writer is reopening it, or could not yet
            raise self._read_failed(exc) from None
        try:
            yield cursor
        except duckdb.Error as exc:
            raise self._read_failed(exc) from None
        finally:
            cursor.close()

    def _read_failed(self, exc: duckdb.Error) -> StoreError:
        if faults.invalidates(exc) or isinstance(exc, duckdb.ConnectionException):
            self._invalidated = self._invalidated or faults.invalidates(exc)
            if self._invalidated:  # an empty write task makes the writer thread reopen it
                self._writer.submit(lambda conn: None)
        return StoreError(f"The database could not answer: {exc}")

    def _read(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with self._cursor() as cursor:
            return cursor.execute(sql, params or []).fetchall()

    def list_projects(self) -> list[Project]:
        return [
            Project(*row)
            for row in self._read(
                "SELECT id, name, public_key, created_at, apdex_threshold_ms FROM projects "
                "ORDER BY id"
            )
        ]

    def trace_spans(self, trace_id: str) -> list[Span]:
        columns = ", ".join(f'"{c}"' for c in rows.SPAN_COLUMNS)
        return [
            rows.span_from_row(row)
            for row in self._read(
                f"SELECT {columns} FROM spans WHERE trace_id = ? ORDER BY start_ts, span_id",
                [trace_id],
            )
        ]

    def trace_errors(self, trace_id: str) -> list[TraceError]:
        columns = ", ".join(f'"{c}"' for c in rows.TRACE_ERROR_COLUMNS)
        return [
            rows.trace_error_from_row(row)
            for row in self._read(
                f"SELECT {columns} FROM errors WHERE trace_id = ? AND category = 'error' "
                'ORDER BY "timestamp"',
                [trace_id],
            )
        ]

    def outcomes(self) -> list[OutcomeCount]:
        return [OutcomeCount(*row) for row in self._read(rows.OUTCOME_TOTALS)]

    # -- alert state and the alert lease ----------------------------------
    def alert_states(self) -> dict[str, dict[str, Any]]:
        rows = self._read("SELECT rule, state FROM alert_states")
        return {rule: orjson.loads(state) for rule, state in rows}

    def save_alert_state(self, rule: str, state: dict[str, Any]) -> None:
        def task(conn: Conn) -> None:
            conn.execute(
                "INSERT OR REPLACE INTO alert_states VALUES (?, ?, ?)",
                [rule, orjson.dumps(state).decode(), time.time()],
            )

        self._writer.submit(task).result()

    def take_lease(self, name: str, holder: str, seconds: float) -> bool:
        """Always granted, and that is the right answer: the store is single-process
        (:attr:`shared_between_processes` is False, as DuckDB locks its file), so the
        process asking is the only one that can run the job; there is nobody to
        agree with, and nothing to record."""
        return True

    def lease_holder(self, name: str) -> str | None:
        """``None``: nothing is recorded in a single-process store (see :meth:`take_lease`)."""
        return None

    def enforce_retention(self) -> None:
        self._retention.run_once()

    def close(self) -> None:
        self._retention.stop()
        self._writer.close()
        self._db.close()
