"""A small JSON-RPC client for the chain node, used by the blockchain-indexer
and the smart-contract-service (what ethers' JsonRpcProvider does for them in
the scenario). Each call is an ``rpc`` span named after the method; below it
the ``requests`` integration adds the ``http.client`` span and propagates the
trace to the node.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import requests
import sentry_sdk
import sentry_sdk.logger
import sentry_sdk.metrics

from glasspane.demo.services import runtime

RPC_TIMEOUT = 10.0  # demo seconds a client waits for one call (floor 1 s of wall time)
SLOW_CALL_MS = 1000.0  # demo milliseconds: a healthy endpoint answers in ~80 ms


class NetworkError(Exception):
    """The endpoint could not be reached or did not answer in time."""


class RpcError(Exception):
    """The endpoint answered with a JSON-RPC error."""


@dataclass(frozen=True)
class Endpoint:
    name: str  # primary, backup-1, backup-2
    url: str


def endpoints() -> list[Endpoint]:
    """The configured endpoints, in order of preference."""
    return [Endpoint(name, url) for name, url in runtime.config().rpc.items()]


def endpoint(name: str) -> Endpoint:
    for candidate in endpoints():
        if candidate.name == name:
            return candidate
    raise ValueError(f"no RPC endpoint {name!r}")


def call(target: Endpoint, method: str, params: list[Any], timeout: float | None = None) -> Any:
    """The call's ``result``; NetworkError or RpcError when it fails."""
    began = time.monotonic()
    failed = True
    try:
        result = _call(target, method, params, timeout)
        failed = False
        return result
    finally:
        _measured(target, method, (time.monotonic() - began) * runtime.config().speed, failed)


def _measured(target: Endpoint, method: str, seconds: float, failed: bool) -> None:
    """The call's metrics, and a warning when it was slow (``seconds`` in demo time)."""
    attributes = {"rpc.endpoint": target.name, "rpc.method": method}
    elapsed_ms = round(seconds * 1000.0, 1)
    sentry_sdk.metrics.distribution(
        "blockchain_rpc_response_time", elapsed_ms, unit="millisecond", attributes=attributes
    )
    if failed:
        sentry_sdk.metrics.count("blockchain_rpc_errors", 1, attributes=attributes)
    if elapsed_ms >= SLOW_CALL_MS:
        sentry_sdk.logger.warning(
            "RPC slow: {method} on {endpoint} took {elapsed_ms} ms",
            method=method,
            endpoint=target.name,
            elapsed_ms=elapsed_ms,
        )


def _call(target: Endpoint, method: str, params: list[Any], timeout: float | None) -> Any:
    wait = timeout if timeout is not None else runtime.seconds(RPC_TIMEOUT, floor=1.0)
    with sentry_sdk.start_span(op="rpc", name=method) as span:
        span.set_data("rpc.method", method)
        span.set_data("rpc.endpoint", target.name)
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        try:
            response = runtime.http().post(target.url, json=body, timeout=wait)
        except requests.Timeout:
            span.set_status("deadline_exceeded")
            raise NetworkError(
                f"Connection timeout: {method} on {target.name} took more than "
                f"{wait * runtime.config().speed:.0f} seconds"
            ) from None
        except requests.ConnectionError:
            span.set_status("unavailable")
            raise NetworkError(
                f"RPC connection failed: {target.name} ({target.url}) refused the connection"
            ) from None
        if response.status_code != 200:
            span.set_status("unavailable")
            raise NetworkError(f"{target.name} answered HTTP {response.status_code} to {method}")
        answer = response.json()
        if "error" in answer:
            span.set_status("internal_error")
            error = answer["error"]
            raise RpcError(
                f"{method} on {target.name}: {error.get('message')} ({error.get('code')})"
            )
        return answer.get("result")
