"""Feeding the store from the journal: large groups, each segment's position committed with it.

The process that owns the store runs one :class:`JournalFeeder`. Every round
it reads what the ingest workers appended since the last round (from every
segment), merges it into one :class:`Batch` whose ``checkpoint`` carries each
segment's new position, and writes that batch; the store commits the rows and
the positions in one transaction. So after a crash the feeder resumes exactly
where the committed data ends (DuckDB), or at worst feeds a round twice
(ClickHouse has no transactions; its tables tolerate the repeat as they
tolerate an SDK's retry).

Rounds run every :data:`FEED_INTERVAL` seconds while data flows: a DuckDB
commit costs milliseconds of CPU whatever its size, so one commit for 100 ms
of traffic is what makes a lone envelope cheap. :meth:`catch_up` lets a reader
wait until everything acknowledged before it arrived is queryable, so a client
that reads after its 200 sees its data.

A round that fails (a full disk) is retried from the same positions with a
growing pause; the journal keeps the data meanwhile. Segments that their
writer has closed (or whose writer is gone) are deleted once fully fed.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from glasspane import server_metrics
from glasspane.domain import Batch
from glasspane.journal.segments import SegmentName, decode, list_segments, read_records

log = logging.getLogger(__name__)

#: Seconds between feeding rounds while data flows.
FEED_INTERVAL = 0.25
#: Most bytes of records one round takes from the journal.
ROUND_BYTES = 32 << 20
#: Position value that tells the store to forget a deleted segment.
FORGET = -1


@dataclass
class FeedStats:
    fed_records: int = 0
    fed_bytes: int = 0
    rounds: int = 0
    failures: int = 0
    last_error: str = ""


class JournalFeeder:
    """Feeds ``write`` from the segments in ``directory``; see the module docstring.

    ``positions`` are the committed positions (segment file name → offset)
    read from the store at start. ``live_writers`` names the writers that may
    still append (their newest segment is not finished).
    """

    def __init__(
        self,
        directory: Path,
        write: Callable[[Batch], Future[None]],
        positions: dict[str, int],
        live_writers: Callable[[], set[str]] = set,
    ) -> None:
        self.directory = directory
        self._write = write
        self._fed = {name: offset for name, offset in positions.items() if offset >= 0}
        self._live_writers = live_writers
        self._deleted: set[str] = set()  # segments fed to their end and removed
        self._forget: set[str] = {name for name, offset in positions.items() if offset < 0}
        self._cond = threading.Condition()
        self._wanted = False
        self._stopping = False
        self._round_started = self._fed_at = time.monotonic()
        self._thread: threading.Thread | None = None
        self.stats = FeedStats()

    # -- one round -----------------------------------------------------------
    def feed_once(self) -> int:
        """Feed everything readable now (up to :data:`ROUND_BYTES`); returns records fed.

        Raises what the store raised; the positions then stay where they were.
        """
        segments = list_segments(self.directory)
        batch = Batch()
        checkpoint: dict[str, int] = {}
        budget = ROUND_BYTES
        records = 0
        self._round_started = time.monotonic()
        for name, path in segments:
            start = self._fed.get(name.filename, 0)
            end = start
            for after, payload in read_records(path, start, budget):
                batch.extend(decode(payload))
                records += 1
                end = after
            if end != start:
                checkpoint[name.filename] = end
                budget -= end - start
            if budget <= 0:
                break
        finished = self._finished(segments, checkpoint)
        for filename in self._forget:
            checkpoint[filename] = FORGET
        if not checkpoint:
            self._fed_at = self._round_started
            return 0
        batch.checkpoint = checkpoint
        self._write(batch).result()
        self._fed.update({k: v for k, v in checkpoint.items() if v >= 0})
        self._forget.clear()
        for filename, path in finished:
            self._delete(filename, path)
        self.stats.fed_records += records
        server_metrics.count_stored(records)
        self.stats.fed_bytes += ROUND_BYTES - budget
        self.stats.rounds += 1
        self._fed_at = self._round_started
        return records

    def _finished(
        self, segments: list[tuple[SegmentName, Path]], checkpoint: dict[str, int]
    ) -> list[tuple[str, Path]]:
        """Segments no writer appends to any more that this round feeds to their end."""
        live = self._live_writers()
        newest: dict[str, int] = {}
        for name, _ in segments:
            newest[name.writer] = max(newest.get(name.writer, 0), name.seq)
        finished = []
        for name, path in segments:
            if name.writer in live and name.seq == newest[name.writer]:
                continue
            position = checkpoint.get(name.filename, self._fed.get(name.filename, 0))
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                continue
            if position >= size or self._torn(path, position):
                finished.append((name.filename, path))
        return finished

    @staticmethod
    def _torn(path: Path, position: int) -> bool:
        """True when nothing readable follows ``position`` in a finished segment."""
        return next(read_records(path, position, 1), None) is None

    def _delete(self, filename: str, path: Path) -> None:
        path.unlink(missing_ok=True)
        self._fed.pop(filename, None)
        self._deleted.add(filename)
        self._forget.add(filename)  # the next round drops its position from the store

    # -- running in the background ---------------------------------------------
    def replay(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Feed everything in the journal now (at start, before ingest opens)."""
        total = self.unfed_bytes()
        records = 0
        while True:
            fed = self.feed_once()
            records += fed
            if progress is not None:
                progress(total - self.unfed_bytes(), total)
            if not fed:
                return records

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="journal-feeder", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Feed what is left, then stop."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()
        try:
            self.replay()
        except Exception as exc:  # the journal keeps it for the next start
            log.warning("journal not fully fed at shutdown (kept for the next start): %s", exc)

    def _run(self) -> None:
        pause = 0.0
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._wanted or self._stopping, FEED_INTERVAL + pause)
                self._wanted = False
                if self._stopping:
                    return
            try:
                self.feed_once()
                pause = 0.0
            except Exception as exc:
                self.stats.failures += 1
                self.stats.last_error = str(exc)
                pause = min(5.0, max(0.2, pause * 2))
                log.warning("feeding the store from the journal failed (retrying): %s", exc)
            with self._cond:
                self._cond.notify_all()  # wake catch_up waiters

    # -- readers ---------------------------------------------------------------
    def unfed_bytes(self) -> int:
        total = 0
        for name, path in list_segments(self.directory):
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                continue
            total += max(0, size - self._fed.get(name.filename, 0))
        return total

    def behind(self) -> dict[str, int]:
        """Segments with data not yet fed: name → its size now."""
        behind = {}
        for entry in _scan(self.directory):
            size = entry[1]
            if size > self._fed.get(entry[0], 0):
                behind[entry[0]] = size
        return behind

    def catch_up(self, timeout: float = 1.0) -> bool:
        """Wait until what is in the journal now has been fed; False on timeout."""
        return self.wait_for(self.behind(), timeout)

    def wait_for(self, target: dict[str, int], timeout: float) -> bool:
        """Wait until each segment in ``target`` is fed up to its size there; False on timeout."""
        if not target:
            return True
        deadline = time.monotonic() + timeout

        def done() -> bool:
            return all(k in self._deleted or self._fed.get(k, 0) >= v for k, v in target.items())

        with self._cond:
            self._wanted = True
            self._cond.notify_all()
            while not done():
                left = deadline - time.monotonic()
                if left <= 0 or self._stopping:
                    return False
                self._cond.wait(left)
                if not done():
                    self._wanted = True
                    self._cond.notify_all()
        return True

    def lag(self) -> tuple[int, float]:
        """(bytes not yet fed, about how long the oldest of them has waited in seconds).

        Data appended since the start of the last round that fed everything it
        found has waited at most since then.
        """
        unfed = self.unfed_bytes()
        return unfed, (time.monotonic() - self._fed_at) if unfed else 0.0


def _scan(directory: Path) -> list[tuple[str, int]]:
    found = []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if SegmentName.parse(entry.name) is not None:
                    try:
                        found.append((entry.name, entry.stat().st_size))
                    except FileNotFoundError:
                        continue
    except FileNotFoundError:
        pass
    return found
