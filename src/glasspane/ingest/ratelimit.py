"""Per-DSN-key rate limits: one token bucket per key, in memory.

Each accepted request takes one token; a key's bucket refills at ``rate``
tokens per second up to ``burst``. An empty bucket answers 429 with
``Retry-After`` and ``X-Sentry-Rate-Limits: <seconds>::key:rate_limited`` (all
categories, scoped to the key), which both the Python and the JavaScript SDKs
honour by dropping everything for that long and counting it as
``ratelimit_backoff`` in their next client report (protocol.md §7).

Requests are counted, not items: a request is what costs the server a parse
and a commit, and the SDKs send one envelope per event. The buckets live in
memory (``buckets``): shared by the ingest worker processes of one server,
but several servers behind a load balancer each allow ``rate`` (the road not
taken: a shared counter in the store, one more write per request).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping

from glasspane.domain import Outcome
from glasspane.errors import RateLimited
from glasspane.ingest.buckets import Buckets, LocalBuckets


class TokenBucket:
    """``burst`` tokens, refilled continuously at ``rate`` per second."""

    __slots__ = ("burst", "rate", "refused", "tokens", "updated")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.updated = now
        self.refused = 0  # requests refused since the last accepted one

    def take(self, now: float, amount: float = 1.0) -> float:
        """0.0 when ``amount`` tokens were taken, else the seconds until they are available."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= amount:
            self.tokens -= amount
            return 0.0
        return (amount - self.tokens) / self.rate


class KeyRateLimiter:
    """A token bucket per DSN key; ``rate <= 0`` turns limiting off."""

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        buckets: Buckets | None = None,
    ) -> None:
        self.rate = rate
        self.burst = max(1.0, float(burst))
        self._clock = clock
        self._buckets = buckets or LocalBuckets()
        self._refused: dict[str, int] = {}  # this process's refusals, per key
        self._lock = threading.Lock()

    def check(self, key: str) -> int:
        """Take a token for ``key``; :class:`RateLimited` when it has none left.

        Returns how many of the key's requests were refused since its last
        accepted one, so the caller can count them as an outcome with the data
        it commits anyway (no extra write per refusal, even under a flood).
        """
        if self.rate <= 0:
            return 0
        wait = self._buckets.take("key:" + key, self.rate, self.burst, 1.0, self._clock())
        refused = 0
        with self._lock:
            if wait:
                if key in self._refused or len(self._refused) < 100_000:
                    self._refused[key] = self._refused.get(key, 0) + 1
            else:
                refused = self._refused.pop(key, 0)
        if wait:
            retry_after = max(1, math.ceil(wait))
            raise RateLimited(
                f"DSN key {key[:8]}... is over its rate limit of {self.rate:g} requests/s "
                f"(burst {self.burst:g}); retry after {retry_after} s. Raise it with the "
                "settings rate_limit and rate_limit_burst (GLASSPANE_RATE_LIMIT, "
                "GLASSPANE_RATE_LIMIT_BURST)",
                retry_after,
            )
        return refused


def rate_limit_headers(
    retry_after: int, categories: Mapping[str, int] | None = None
) -> dict[str, str]:
    """The 429 headers that make the SDKs back off for ``retry_after`` seconds.

    Every category is held back, or with ``categories`` (category → seconds)
    just those, each for its own time.
    """
    return {
        "Retry-After": str(retry_after),
        "X-Sentry-Rate-Limits": limits_header(categories or {}, retry_after),
    }


def limits_header(categories: Mapping[str, int], retry_after: int = 0) -> str:
    """``X-Sentry-Rate-Limits``: ``<seconds>:<categories>:key:rate_limited``, one per limit."""
    if not categories:
        return f"{retry_after}::key:rate_limited"
    return ", ".join(f"{seconds}:{c}:key:rate_limited" for c, seconds in sorted(categories.items()))


def refused_outcomes(project_id: int, refused: int, now: float) -> list[Outcome]:
    """The outcome counting ``refused`` rate-limited requests (none for 0)."""
    return [Outcome(project_id, "envelope", "rate_limited", refused, now)] if refused else []
