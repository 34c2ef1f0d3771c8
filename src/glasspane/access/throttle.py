"""Slowing down password guessing: failed logins counted per name and per address.

After :data:`PER_NAME` failures for one name, or :data:`PER_ADDRESS` from one
client address, within :data:`WINDOW` seconds, further attempts are refused
(429 with ``Retry-After``) until the oldest of those failures is
:data:`WINDOW` seconds old, whether or not the password is right, so a guesser
learns nothing while refused. A success clears its name's failures, not its
address's (a guesser holding one account of its own cannot reset its count).

Per process and in memory: a restart forgets the counts, and several
``glasspane serve`` processes behind a load balancer each count their own.
With the embedded store every login reaches the one server process. The
roads not taken: counting in the store would put a write on the path of every
failed guess (a guesser could fill the database); locking an account until an
admin unlocks it would hand anyone who knows a name a way to lock its owner out.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

PER_NAME = 5
PER_ADDRESS = 10
WINDOW = 300.0
#: Names and addresses remembered at most; the least recently failing go first.
MAX_KEYS = 10_000


class LoginThrottle:
    def __init__(
        self,
        per_name: int = PER_NAME,
        per_address: int = PER_ADDRESS,
        window: float = WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = {"name": per_name, "address": per_address}
        self._window = window
        self._clock = clock
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, name: str, address: str | None) -> int:
        """Whole seconds until an attempt for ``name`` from ``address`` is let through (0: now)."""
        now = self._clock()
        with self._lock:
            waits = [self._wait(key, now) for key in self._keys(name, address)]
        return max(waits, default=0)

    def failed(self, name: str, address: str | None) -> None:
        now = self._clock()
        with self._lock:
            for kind, value in self._keys(name, address):
                times = self._failures.pop((kind, value), None)
                if times is None:
                    times = deque(maxlen=self._limits[kind])
                times.append(now)
                self._failures[(kind, value)] = times
            while len(self._failures) > MAX_KEYS:
                self._failures.popitem(last=False)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(("name", name), None)

    @staticmethod
    def _keys(name: str, address: str | None) -> list[tuple[str, str]]:
        return [("name", name)] + ([("address", address)] if address else [])

    def _wait(self, key: tuple[str, str], now: float) -> int:
        times = self._failures.get(key)
        if times is None or len(times) < self._limits[key[0]]:
            return 0
        return max(0, math.ceil(times[0] + self._window - now))
