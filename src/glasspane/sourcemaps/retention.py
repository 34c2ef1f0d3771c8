"""Source map bundles and release files are kept as long as the events (``--retention``).

Whatever the store, the files live in the data directory, so one sweep in the
server process removes those uploaded (or last uploaded to, for a release)
longer ago than the retention: at start, then hourly, like DuckDB's rows. By
upload time, not by use: a bundle an old event still points to goes with the
retention as its events do, and such an event is then shown minified.
"""

from __future__ import annotations

import logging
import threading
import time

from glasspane.sourcemaps.bundles import BundleStore

log = logging.getLogger(__name__)

SWEEP_EVERY = 3600.0


class BundleSweep:
    """A daemon thread that removes bundles older than ``days`` every hour."""

    def __init__(self, bundles: BundleStore, days: int) -> None:
        self._bundles = bundles
        self._days = days
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sourcemap-retention", daemon=True)
        self._thread.start()

    def run_once(self, now: float | None = None) -> int:
        """One sweep; how many bundles and releases were removed."""
        cutoff = (now if now is not None else time.time()) - self._days * 86400.0
        removed = self._bundles.remove_older(cutoff)
        if removed:
            log.info(
                "retention: removed %d source map uploads older than %d days", removed, self._days
            )
        return removed

    def _loop(self) -> None:
        while not self._stopped.is_set():
            try:
                self.run_once()
            except OSError:  # a failed sweep is retried at the next one
                log.exception("source map retention sweep failed")
            self._stopped.wait(SWEEP_EVERY)

    def stop(self) -> None:
        self._stopped.set()
