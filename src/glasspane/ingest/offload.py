"""CPU-heavy ingest work off the event loop, in a few threads of its own.

Decompressing, parsing, normalising and scrubbing a large body runs in one of
:data:`THREADS` threads, apart from the pool where FastAPI runs the API's
handlers: however many large bodies arrive at once, they queue here rather
than take the API's threads, and only a few at a time compete with the event
loop for the GIL. (Python's ``re`` holds the GIL for a whole call, so a thread
alone would not help a super-linear pattern; every step being linear is what
bounds each body's share: tests/unit/test_linear_time.py.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from anyio import CapacityLimiter, to_thread

T = TypeVar("T")

#: Large bodies handled at once, per process.
THREADS = 4
_LIMITER = CapacityLimiter(THREADS)


async def off_loop(func: Callable[..., T], *args: object) -> T:
    """``func(*args)`` in an ingest thread; waits for one to be free."""
    return await to_thread.run_sync(func, *args, limiter=_LIMITER)
