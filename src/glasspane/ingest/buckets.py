"""Token buckets that every ingest process shares: one table in a memory-mapped file.

The rate limits and quotas (``ratelimit``, ``quotas``) count per DSN key, but
with ingest worker processes a key's requests land in any of them; a bucket
per process would let each key through N times. So the buckets live in a
small file-backed table that every process maps, guarded by an ``flock``:
a few microseconds per request, and no process in between.

The table is a fixed array of slots (hash of the bucket's name, tokens, last
update), probed linearly from the name's hash. When a probe finds neither the
name nor a free slot, the slot touched longest ago is taken over: a forgotten
bucket starts full again, which is what an idle key's bucket would be.
``time.monotonic`` is one clock for all processes on Linux.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import struct
import threading
from pathlib import Path
from typing import Protocol

_SLOT = struct.Struct("<Qdd")
SLOTS = 16384
_PROBE = 16


class Buckets(Protocol):
    def take(self, name: str, rate: float, burst: float, amount: float, now: float) -> float:
        """0.0 when ``amount`` tokens were taken, else the seconds until they are there."""
        ...


def _take(
    tokens: float, updated: float, rate: float, burst: float, amount: float, now: float
) -> tuple[float, float]:
    """(tokens left, wait): the token bucket's rule, refilled continuously."""
    tokens = min(burst, tokens + max(0.0, now - updated) * rate)
    if tokens >= amount:
        return tokens - amount, 0.0
    return tokens, (amount - tokens) / rate


class LocalBuckets:
    """Buckets in this process's memory (one process serves ingest)."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, name: str, rate: float, burst: float, amount: float, now: float) -> float:
        with self._lock:
            tokens, updated = self._buckets.get(name, (burst, now))
            tokens, wait = _take(tokens, updated, rate, burst, amount, now)
            self._buckets[name] = (tokens, now)
            if len(self._buckets) > SLOTS * 4:  # idle buckets are full again: forget them
                self._buckets = dict(list(self._buckets.items())[-SLOTS:])
            return wait


class SharedBuckets:
    """Buckets in ``path``, shared by every process that opens it (created if missing)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        size = SLOTS * _SLOT.size
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(self._fd).st_size != size:
            os.ftruncate(self._fd, size)
        self._map = mmap.mmap(self._fd, size)
        self._lock = threading.Lock()  # flock is per open file, not per thread

    @staticmethod
    def reset(path: Path) -> None:
        """Empty the table (at server start, before the workers open it)."""
        path.unlink(missing_ok=True)

    def take(self, name: str, rate: float, burst: float, amount: float, now: float) -> float:
        key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")
        key = key or 1  # 0 marks a free slot
        start = key % SLOTS
        with self._lock:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                slot, tokens, updated = self._find(key, start, burst, now)
                tokens, wait = _take(tokens, updated, rate, burst, amount, now)
                _SLOT.pack_into(self._map, slot * _SLOT.size, key, tokens, now)
                return wait
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _find(self, key: int, start: int, burst: float, now: float) -> tuple[int, float, float]:
        """(slot, tokens, updated) of ``key``'s bucket; a new one is full."""
        oldest, oldest_updated = start, float("inf")
        for step in range(_PROBE):
            slot = (start + step) % SLOTS
            found, tokens, updated = _SLOT.unpack_from(self._map, slot * _SLOT.size)
            if found == key:
                return slot, tokens, updated
            if found == 0:
                return slot, burst, now
            if updated < oldest_updated:
                oldest, oldest_updated = slot, updated
        return oldest, burst, now

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)
