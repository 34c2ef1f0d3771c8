"""Group commit: one writer thread, many waiting requests, one transaction.

Requests hand a :class:`Batch` (or a small write task) to :meth:`submit` and
wait on the returned future. The thread takes everything queued since its last
commit, writes it in one transaction, commits, then resolves every future.
Under load, hundreds of envelopes share one commit; when idle, a lone envelope
is committed at once (no timer to wait for).

If a group fails, it is retried entry by entry, so one bad entry fails only
its own request; a :class:`DiskFull` fails the whole group at once, since no
entry would fare better alone. The queue is bounded; a full queue raises
:class:`StoreError` at once rather than growing memory without limit.

A backend recovers from faults through two optional hooks: ``prepare`` runs
before every transaction and returns the connection to use (the DuckDB store
reopens an invalidated database there, so a full disk heals by itself), and
``explain`` turns a raw database error into the error to answer with.

Each group's commit time and size, the envelopes it stored, failed groups and
the queue's depth are recorded in ``server_metrics`` (``GET /metrics``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from glasspane import server_metrics
from glasspane.domain import Batch
from glasspane.errors import DiskFull, GlasspaneError, StoreError

log = logging.getLogger(__name__)
C = TypeVar("C")

#: A write task runs inside the writer's transaction and returns a result.
Task = Callable[[Any], Any]


@dataclass(slots=True)
class _Entry:
    work: Batch | Task
    future: Future[Any]


class GroupCommitWriter(Generic[C]):
    """Serialises writes onto one connection, committing them in groups.

    ``write_batches(conn, batches)`` writes merged data; ``begin``/``commit``/
    ``rollback`` wrap a transaction on ``conn``. All are called on the writer
    thread only.
    """

    def __init__(
        self,
        conn: C,
        write_batches: Callable[[C, list[Batch]], None],
        transaction: tuple[Callable[[C], object], Callable[[C], object], Callable[[C], object]],
        max_group: int = 2000,
        max_queue: int = 20000,
        prepare: Callable[[C], C] = lambda conn: conn,
        explain: Callable[[Exception], Exception] = lambda exc: exc,
    ) -> None:
        self._conn = conn
        self._prepare = prepare
        self._explain = explain
        self._write_batches = write_batches
        self._begin, self._commit, self._rollback = transaction
        self._max_group = max_group
        self._queue: queue.Queue[_Entry | None] = queue.Queue(max_queue)
        self._thread = threading.Thread(target=self._run, name="glasspane-writer", daemon=True)
        self._closed = False
        self._thread.start()

    def submit(self, work: Batch | Task) -> Future[Any]:
        future: Future[Any] = Future()
        if self._closed:
            future.set_exception(StoreError("The store is shutting down; retry shortly"))
            return future
        try:
            self._queue.put_nowait(_Entry(work, future))
        except queue.Full:
            future.set_exception(StoreError("The writer is behind (queue full); retry shortly"))
        return future

    def close(self) -> None:
        """Commit everything queued, then stop the thread."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
            self._thread.join()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            stop = False
            while len(group) < self._max_group:
                try:
                    entry = self._queue.get_nowait()
                except queue.Empty:
                    break
                if entry is None:
                    stop = True
                    break
                group.append(entry)
            server_metrics.set_queue_depth(self._queue.qsize())
            self._commit_group(group)
            if stop:
                return

    def _commit_group(self, group: list[_Entry]) -> None:
        started = time.perf_counter()
        try:
            results = self._transaction(group)
        except Exception as exc:
            server_metrics.count_commit_failure()
            error = self._explain(exc)
            if len(group) == 1 or isinstance(error, DiskFull):
                for entry in group:
                    self._fail(entry, error)
                return
            for entry in group:
                self._commit_group([entry])
            return
        server_metrics.observe_commit(time.perf_counter() - started, len(group))
        # A journal round (a batch with a checkpoint) merges many requests: the feeder counts them.
        server_metrics.count_stored(
            sum(isinstance(e.work, Batch) and not e.work.checkpoint for e in group)
        )
        for entry, result in zip(group, results, strict=True):
            entry.future.set_result(result)

    def _transaction(self, group: list[_Entry]) -> list[Any]:
        self._conn = self._prepare(self._conn)
        batches = [e.work for e in group if isinstance(e.work, Batch)]
        results: list[Any] = []
        self._begin(self._conn)
        try:
            if batches:
                self._write_batches(self._conn, batches)
            for entry in group:
                results.append(None if isinstance(entry.work, Batch) else entry.work(self._conn))
            self._commit(self._conn)
        except BaseException:
            try:
                self._rollback(self._conn)
            except Exception:  # the original error is the one worth reporting
                log.exception("rollback failed")
            raise
        return results

    @staticmethod
    def _fail(entry: _Entry, exc: Exception) -> None:
        if isinstance(exc, GlasspaneError):
            entry.future.set_exception(exc)
            return
        log.error("write failed", exc_info=exc)
        entry.future.set_exception(StoreError(f"The database could not commit the write: {exc}"))
