"""The demo's options, checked, and what it needs installed."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from glasspane.demo import DemoError
from glasspane.demo.faults import NONE, check_fault, check_fix

NEEDED = ("sentry_sdk", "flask", "requests", "werkzeug")


@dataclass(frozen=True)
class DemoOptions:
    server: str | None = None
    token: str | None = None
    data_dir: Path = Path("./glasspane-demo-data")
    port: int = 8000
    control_port: int = 0
    speed: float = 1.0
    rate: float = 120.0  # uploads per real minute
    users: int = 48
    sample_rate: float = 0.1
    fault: str = NONE
    fault_after: float = 0.0
    fix: str = NONE
    fix_after: float = 0.0
    duration: float | None = None
    alerts: Path | None = None
    progress: float = 10.0
    seed: int = 2025

    def check(self) -> None:
        check_fault(self.fault)
        check_fix(self.fix)
        if not 0.1 <= self.speed <= 100:
            raise ValueError("--speed must be between 0.1 and 100")
        if not 0 < self.rate <= 6000:
            raise ValueError("--rate must be more than 0 and at most 6000 uploads per minute")
        if not 0 < self.sample_rate <= 1:
            raise ValueError("the sample rate must be more than 0 and at most 1")
        if not 1 <= self.users <= 10_000:
            raise ValueError("--users must be between 1 and 10000")


_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds in ``90``, ``90s``, ``2m`` or ``1h``; ValueError naming the forms."""
    text = text.strip()
    unit = _UNITS.get(text[-1:], 1.0) if text else 1.0
    number = text[:-1] if text[-1:] in _UNITS else text
    try:
        seconds = float(number) * unit
    except ValueError:
        raise ValueError(f"{text!r} is not a duration: write 90, 90s, 2m or 1h") from None
    if not 0 <= seconds <= 30 * 86400:
        raise ValueError(f"{text!r} must be between 0 and 30 days")
    return seconds


def require_sdk() -> None:
    missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
    if missing:
        raise DemoError(
            f"glasspane demo runs real services instrumented with sentry-sdk; missing: "
            f"{', '.join(missing)}. Install them with pip install 'sentry-sdk[flask]' flask "
            "requests (or run `make demo`)"
        )
