"""What a demo service's own code uses: its configuration, demo time, the demo
state, and HTTP sessions to the other services. (How the process is served is
``serving``.)

A service process is started as ``python -m glasspane.demo.services NAME`` (via
``glasspane.demo.guard``) with its configuration as JSON in
``GLASSPANE_DEMO_SERVICE``.

Demo time: every simulated duration is written in the scenario's seconds and
divided by ``--speed`` here (:func:`seconds`, :func:`sleep`, :func:`work`).
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ENV = "GLASSPANE_DEMO_SERVICE"
ADMIN_PREFIX = "/_demo/"
RELEASE = "2025.11.0"

log = logging.getLogger("glasspane.demo")


@dataclass(frozen=True)
class ServiceConfig:
    name: str
    port: int
    dsn: str
    speed: float = 1.0
    sample_rate: float = 0.1
    urls: dict[str, str] = field(default_factory=dict)  # service name -> base URL
    rpc: dict[str, str] = field(default_factory=dict)  # RPC endpoint name -> URL
    workdir: str = "."
    seed: int = 0
    rate_per_min: float = 120.0  # the browser's uploads per (real) minute
    users: int = 48
    app_dir: str = ""  # the built browser app (frontend-worker serves it); "" when none
    chromium: str = ""  # the Chromium the react-app drives for replays; "" when none

    def to_env(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_env(cls) -> ServiceConfig:
        raw = os.environ.get(ENV)
        if not raw:
            raise SystemExit(f"{ENV} is not set: demo services are started by `glasspane demo`")
        return cls(**json.loads(raw))


_config: ServiceConfig | None = None


def config() -> ServiceConfig:
    global _config
    if _config is None:
        _config = ServiceConfig.from_env()
    return _config


# -- demo time -------------------------------------------------------------------
def seconds(demo_seconds: float, floor: float = 0.0) -> float:
    """Wall-clock seconds for a duration of the scenario, at least ``floor``."""
    return max(demo_seconds / config().speed, floor)


def sleep(demo_seconds: float) -> None:
    threading.Event().wait(seconds(demo_seconds))


def sample(median: float, sigma: float = 0.35, rng: random.Random | None = None) -> float:
    """A lognormal duration in demo seconds around ``median`` (service times are skewed)."""
    return median * math.exp((rng or random).gauss(0.0, sigma))


def work(median: float, sigma: float = 0.35) -> float:
    """Spend a simulated amount of time (demo seconds); the amount spent."""
    spent = sample(median, sigma)
    sleep(spent)
    return spent


def url(service: str) -> str:
    return config().urls[service]


_local = threading.local()


def http() -> Any:
    """This thread's ``requests`` session: connections to the other services are reused."""
    import requests

    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session


def http_timeout() -> float:
    """How long one service waits for another: longer than any flow, never below 10 s."""
    return seconds(300.0, floor=10.0)


# -- the demo state: fault, fix and traffic on/off, pushed by the orchestrator ----
_state: dict[str, Any] = {"fault": "none", "fix": "none", "traffic": "off"}
STATE_KEYS = ("fault", "fix", "traffic")
_state_lock = threading.Lock()
_state_listeners: list[Callable[[dict[str, Any]], None]] = []


def state() -> dict[str, Any]:
    with _state_lock:
        return dict(_state)


def on_state_change(listener: Callable[[dict[str, Any]], None]) -> None:
    _state_listeners.append(listener)


def set_state(update: dict[str, Any]) -> dict[str, Any]:
    with _state_lock:
        _state.update({k: v for k, v in update.items() if k in STATE_KEYS})
        current = dict(_state)
    for listener in _state_listeners:
        listener(current)
    return current
