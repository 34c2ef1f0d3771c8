"""``--retention``: what it accepts, and what it refuses with a clear message."""

from __future__ import annotations

import pytest

from glasspane.errors import ConfigError
from glasspane.store.retention import parse_retention


@pytest.mark.parametrize(("text", "days"), [("30d", 30), ("4w", 28), ("90", 90), (" 7d ", 7)])
def test_periods(text: str, days: int) -> None:
    assert parse_retention(text) == days


@pytest.mark.parametrize("text", ["0d", "-3d", "30m", "thirty", "", "25001d"])
def test_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="--retention"):
        parse_retention(text)
