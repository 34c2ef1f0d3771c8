"""The fix: RPC fallback across several endpoints with health checks.

The scenario's ``getHealthyProvider()``: try the endpoints in order and use the
first healthy one, reporting an unhealthy one with ``captureMessage(...,
level="warning")``. Two changes make it fit a service under load:

- a check is "answers ``eth_blockNumber`` within a budget *and*
  ``eth_syncing`` is false": a node that answers but lags behind (as in the
  ``timeouts`` fault) is not healthy either. (Comparing block timestamps
  would also find it, but depends on timing that a loaded machine blurs.)
- the choice is kept for :data:`HEALTH_TTL` (and dropped as soon as a call on
  it fails), and the warning is sent when an endpoint *becomes* unhealthy,
  not on every request, so the warnings do not flood the issue stream or
  inflate the service's error rate.
"""

from __future__ import annotations

import threading
import time

import sentry_sdk

from glasspane.demo.services import runtime
from glasspane.demo.services.rpc_client import Endpoint, NetworkError, RpcError, call

HEALTH_TTL = 15.0  # demo seconds a choice is kept
HEALTH_BUDGET = 1.0  # demo seconds one health-check call may take (floor: 0.5 s of wall time)


class AllEndpointsDown(NetworkError):
    """No endpoint passed its health check."""


class HealthyProvider:
    def __init__(self, endpoints: list[Endpoint]) -> None:
        self.endpoints = endpoints
        self._lock = threading.Lock()
        self._chosen: Endpoint | None = None
        self._chosen_at = 0.0
        self._unhealthy: set[str] = set()

    def choose(self) -> Endpoint:
        """The first healthy endpoint; checks run inside the caller's transaction."""
        with self._lock:
            fresh = time.monotonic() - self._chosen_at < runtime.seconds(HEALTH_TTL)
            if self._chosen is not None and fresh:
                return self._chosen
            self._chosen = self._check_all()
            self._chosen_at = time.monotonic()
            return self._chosen

    def failed(self, endpoint: Endpoint) -> None:
        """A call on ``endpoint`` failed: check again before the next use."""
        with self._lock:
            if self._chosen == endpoint:
                self._chosen = None

    def _check_all(self) -> Endpoint:
        with sentry_sdk.start_span(op="rpc.select", name="getHealthyProvider") as span:
            for endpoint in self.endpoints:
                problem = self._check(endpoint)
                self._record(endpoint, problem)
                if problem is None:
                    span.set_data("endpoint", endpoint.name)
                    return endpoint
            span.set_status("unavailable")
            try:
                raise AllEndpointsDown("All RPC endpoints unavailable")
            except AllEndpointsDown as exc:
                sentry_sdk.capture_exception(exc)
                raise

    def _check(self, endpoint: Endpoint) -> str | None:
        """None when healthy, else what is wrong."""
        with sentry_sdk.start_span(op="rpc.health_check", name=f"Check {endpoint.name}") as span:
            span.set_data("endpoint", endpoint.url)
            budget = runtime.seconds(HEALTH_BUDGET, floor=0.5)
            try:
                block = int(call(endpoint, "eth_blockNumber", [], timeout=budget), 16)
                syncing = call(endpoint, "eth_syncing", [], timeout=budget)
            except (NetworkError, RpcError) as exc:
                span.set_status("unavailable")
                return str(exc)
            span.set_data("blockNumber", block)
            if syncing:
                span.set_status("unavailable")
                behind = int(syncing["highestBlock"], 16) - int(syncing["currentBlock"], 16)
                return f"the node is syncing, {behind} blocks behind"
            span.set_status("ok")
            return None

    def _record(self, endpoint: Endpoint, problem: str | None) -> None:
        if problem is None:
            self._unhealthy.discard(endpoint.name)
            return
        if endpoint.name in self._unhealthy:
            return
        self._unhealthy.add(endpoint.name)
        sentry_sdk.capture_message(
            f"RPC endpoint {endpoint.name} unhealthy",
            level="warning",
            contexts={"rpc": {"endpoint": endpoint.url, "error": problem}},
        )
