"""Retention for the DuckDB store: rows older than the retention are deleted
at start and then every hour, on the writer thread (ordered with the writes).
DuckDB reuses the freed blocks for new data; the file itself does not shrink.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from glasspane.store.retention import TTL_COLUMNS
from glasspane.store.writer import GroupCommitWriter

log = logging.getLogger(__name__)

SWEEP_EVERY = 3600.0


def sweep(conn: Any, days: int, now: float) -> int:
    """Delete every row older than ``days``; the number of rows deleted."""
    cutoff = now - days * 86400.0
    deleted = 0
    for table, column in TTL_COLUMNS.items():
        row = conn.execute(f'DELETE FROM {table} WHERE "{column}" < ?', [cutoff]).fetchone()
        deleted += int(row[0]) if row else 0
    return deleted


class RetentionSweep:
    """A daemon thread that submits :func:`sweep` to the writer periodically."""

    def __init__(self, writer: GroupCommitWriter[Any], days: int) -> None:
        self._writer = writer
        self._days = days
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="retention", daemon=True)
        self._thread.start()

    def run_once(self) -> int:
        deleted: int = self._writer.submit(
            lambda conn: sweep(conn, self._days, time.time())
        ).result()
        if deleted:
            log.info("retention: deleted %d rows older than %d days", deleted, self._days)
        return deleted

    def _loop(self) -> None:
        while not self._stopped.is_set():
            try:
                self.run_once()
            except Exception:  # a failed sweep is retried at the next one
                log.exception("retention sweep failed")
            self._stopped.wait(SWEEP_EVERY)

    def stop(self) -> None:
        self._stopped.set()
