"""Per-category quotas: items per DSN key and data category, as Sentry's quotas.

The setting ``rate_limit_categories`` reads ``error=100/60,transaction=50``:
each DSN key may send at most LIMIT items of that category per WINDOW seconds
(``/WINDOW`` left out means per second). Each (key, category) gets a token
bucket of LIMIT tokens refilled at LIMIT/WINDOW per second, so a quiet key may
spend a whole window's quota at once.

Quotas are enforced item by item, as Relay does: items over quota are dropped
and the rest of the envelope is kept. The answer is 200 when anything was
kept, 429 when nothing was; either way it carries one
``<retry_after>:<category>:key:rate_limited`` entry of ``X-Sentry-Rate-Limits``
per exhausted category. The SDKs read that header on every answer and hold
back just those categories, so errors can stop while transactions flow.

Dropped items are counted as ``rate_limited`` outcomes of their category, but
only with the key's next committed batch: a flood of refused envelopes costs
no write each (as with the per-key limit in ``ratelimit``). Keys are
authenticated before their quotas are checked, so there is at most one bucket
per project key and category: nothing to sweep.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from glasspane.domain import Outcome
from glasspane.errors import ConfigError, RateLimited
from glasspane.ingest.buckets import Buckets, LocalBuckets
from glasspane.normalize.envelope import CATEGORIES
from glasspane.protocol.envelope import Item

#: Categories a quota may name: Sentry's, for the items glasspane accepts.
QUOTA_CATEGORIES = frozenset(CATEGORIES.values()) - {"internal"}
#: Shorter names accepted in the setting.
_ALIASES = {"log": "log_item", "logs": "log_item", "metric": "trace_metric"}
_SETTING = "rate_limit_categories (GLASSPANE_RATE_LIMIT_CATEGORIES)"


@dataclass(frozen=True)
class Quota:
    limit: int  # items ...
    window: float  # ... per this many seconds


def parse_quotas(text: str) -> dict[str, Quota]:
    """``error=100/60,transaction=50`` → {category: Quota}; :class:`ConfigError` names the part."""
    quotas: dict[str, Quota] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, amount = part.partition("=")
        category = _ALIASES.get(name.strip(), name.strip())
        if category not in QUOTA_CATEGORIES:
            raise ConfigError(
                f"{_SETTING}: unknown data category {name.strip()!r} in {part!r}; "
                f"known: {', '.join(sorted(QUOTA_CATEGORIES))}"
            )
        limit, _, window = amount.partition("/")
        try:
            quota = Quota(int(limit), float(window) if window.strip() else 1.0)
        except ValueError:
            quota = Quota(0, 0.0)
        if quota.limit < 1 or not 0 < quota.window < math.inf:
            raise ConfigError(
                f"{_SETTING}: {part!r} must read CATEGORY=LIMIT or CATEGORY=LIMIT/SECONDS "
                "with a whole LIMIT of at least 1, e.g. error=100/60"
            )
        quotas[category] = quota
    return quotas


def item_quantity(item: Item) -> int:
    """How many items of its category one envelope item holds (log containers hold many)."""
    count = item.headers.get("item_count")
    return count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else 1


@dataclass
class Admission:
    """What :meth:`CategoryQuotas.admit` let through, and which categories are exhausted."""

    kept: list[Item]
    #: category → whole seconds until its quota has room again
    exhausted: dict[str, int] = field(default_factory=dict)


class CategoryQuotas:
    """A token bucket per DSN key and quota'd category; no quotas means no checks."""

    def __init__(
        self,
        quotas: Mapping[str, Quota],
        clock: Callable[[], float] = time.monotonic,
        buckets: Buckets | None = None,
    ) -> None:
        self.quotas = dict(quotas)
        self._clock = clock
        self._buckets = buckets or LocalBuckets()
        self._dropped: dict[str, dict[str, int]] = defaultdict(dict)  # key → category → items
        self._lock = threading.Lock()

    def admit(self, key: str, items: list[Item]) -> Admission:
        """The items within the key's quotas; :class:`RateLimited` when none are."""
        if not self.quotas:
            return Admission(items)
        admission = Admission([])
        now = self._clock()
        with self._lock:
            for item in items:
                category = CATEGORIES.get(item.type, "")
                wait = self._take(key, category, item_quantity(item), now)
                if wait:
                    dropped = self._dropped[key]
                    dropped[category] = dropped.get(category, 0) + item_quantity(item)
                    admission.exhausted[category] = max(1, math.ceil(wait))
                else:
                    admission.kept.append(item)
        if items and not admission.kept:
            raise self._refusal(key, admission.exhausted)
        return admission

    def admit_count(self, key: str, category: str, quantity: int) -> None:
        """Take ``quantity`` items of ``category`` from the key's quota, all or none.

        For requests that cannot be split item by item (an OTLP export is one
        message): :class:`RateLimited` when the quota lacks room; the refused
        items are counted as dropped.
        """
        if quantity < 1 or category not in self.quotas:
            return
        with self._lock:
            wait = self._take(key, category, quantity, self._clock())
            if not wait:
                return
            dropped = self._dropped[key]
            dropped[category] = dropped.get(category, 0) + quantity
        raise self._refusal(key, {category: max(1, math.ceil(wait))})

    def _take(self, key: str, category: str, quantity: int, now: float) -> float:
        quota = self.quotas.get(category)
        if quota is None:
            return 0.0
        rate = quota.limit / quota.window
        # an item holding more than a whole quota could never pass; it takes all there is
        amount = min(quantity, quota.limit)
        return self._buckets.take(f"quota:{key}:{category}", rate, quota.limit, amount, now)

    def _refusal(self, key: str, exhausted: dict[str, int]) -> RateLimited:
        quotas = ", ".join(
            f"{c} {self.quotas[c].limit} per {self.quotas[c].window:g} s" for c in exhausted
        )
        retry_after = max(exhausted.values())
        return RateLimited(
            f"DSN key {key[:8]}... is over its quota for {quotas}; retry after "
            f"{retry_after} s. Change it with the setting {_SETTING}",
            retry_after,
            exhausted,
        )

    def dropped_outcomes(self, key: str, project_id: int, now: float) -> list[Outcome]:
        """The items of ``key`` dropped since the last call, as outcomes to commit."""
        with self._lock:
            dropped = self._dropped.pop(key, {})
        return [Outcome(project_id, c, "rate_limited", n, now) for c, n in dropped.items()]
