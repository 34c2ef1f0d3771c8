"""One way for a test to wait for something that happens in another thread or process.

:func:`wait_until` polls ``fetch`` until ``until`` holds for its value and
returns that value; on timeout it fails with the last value seen, so a test
that times out says what it was looking at instead of only that it waited.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

#: Longest repr of the last value in a failure message.
SHOWN = 3000


def wait_until(
    fetch: Callable[[], T],
    timeout: float = 20.0,
    until: Callable[[T], Any] = bool,
    interval: float = 0.2,
    what: str = "",
) -> T:
    """``fetch()`` every ``interval`` seconds until ``until(value)`` is true; the value.

    ``fetch`` runs at least once, and its last run is at or after the deadline.
    :class:`AssertionError` after ``timeout`` seconds, naming ``what`` was
    awaited and the last value seen.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if until(value):
            return value
        if time.monotonic() >= deadline:
            shown = repr(value)
            if len(shown) > SHOWN:
                shown = shown[:SHOWN] + f"... ({len(shown)} characters)"
            raise AssertionError(
                f"{what or 'the condition'} did not hold within {timeout:g} s; last seen: {shown}"
            )
        time.sleep(interval)
