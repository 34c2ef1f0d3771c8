"""Ingest at a glance for ``GET /api/v1/status``: rates, queue depth, journal lag.

A rate is the change of a total (``server_metrics.totals``, over every
process) since a sample taken seconds before. The samples are taken by a
thread rather than at each request: in multiprocess mode the counts rise in
other processes, so the serving process can only look at totals, and a status
asked for once needs a sample from before.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

from glasspane import server_metrics
from glasspane.server_metrics import Totals

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestStatus:
    """Ingest at a glance, for ``/api/v1/status``."""

    accepted_per_s: float
    stored_per_s: float
    queue_depth: int
    lag_s: float
    lag_bytes: int
    accepted_total: int
    stored_total: int


def ingest_status() -> IngestStatus:
    """Rates over the last :data:`RATE_WINDOW` seconds, depth and lag now."""
    start_sampling()
    now, current = time.monotonic(), server_metrics.totals()
    accepted, stored = _rates.per_second(now, current)
    lag_bytes, lag_seconds = server_metrics.journal_lag()
    return IngestStatus(
        round(accepted, 2),
        round(stored, 2),
        int(current.queue_depth),
        round(lag_seconds, 3),
        int(lag_bytes),
        int(current.accepted),
        int(current.stored),
    )


#: Rates are measured over this many seconds, from samples taken every SAMPLE_EVERY.
RATE_WINDOW = 10.0
SAMPLE_EVERY = 2.0


class RateWindow:
    """Totals sampled over time; a rate is the change since the oldest recent sample."""

    def __init__(self) -> None:
        self._samples: deque[tuple[float, Totals]] = deque()
        self._lock = threading.Lock()

    def add(self, now: float, current: Totals) -> None:
        with self._lock:
            self._samples.append((now, current))
            while self._samples and self._samples[0][0] < now - RATE_WINDOW - SAMPLE_EVERY:
                self._samples.popleft()

    def per_second(self, now: float, current: Totals) -> tuple[float, float]:
        """(accepted, stored) per second; zeros until a sample is a second old."""
        with self._lock:
            recent = [(t, s) for t, s in self._samples if now - t <= RATE_WINDOW + SAMPLE_EVERY]
        if not recent or now - recent[0][0] < 1.0:
            return 0.0, 0.0
        then, before = recent[0]
        elapsed = now - then
        # a total that went down (counting restarted in multiprocess mode) rose by nothing
        return (
            max(0.0, current.accepted - before.accepted) / elapsed,
            max(0.0, current.stored - before.stored) / elapsed,
        )


_rates = RateWindow()
_sampler: threading.Thread | None = None
_sampler_lock = threading.Lock()


def start_sampling() -> None:
    """Start the thread that samples totals for the rates (once per process)."""
    global _sampler
    with _sampler_lock:
        if _sampler is None or not _sampler.is_alive():
            _sampler = threading.Thread(target=_sample, name="glasspane-rates", daemon=True)
            _sampler.start()


def _sample() -> None:
    while True:
        try:
            _rates.add(time.monotonic(), server_metrics.totals())
        except Exception:  # a file of a process that just ended; the next sample will do
            log.debug("sampling the totals failed", exc_info=True)
        time.sleep(SAMPLE_EVERY)
