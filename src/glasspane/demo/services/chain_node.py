"""base-sepolia-rpc: the simulated chain's JSON-RPC node, served on one port per
endpoint (primary, backup-1, backup-2), plus the demo control port.

Each call is a transaction named after its method (``eth_getTransactionReceipt``
...). Before answering, a call takes its endpoint's latency; a ``down``
endpoint's listener is closed, so clients get "connection refused". A block
producer mines every ``block_time``. The demo state's fault sets the knobs
(``glasspane.demo.faults``); ``/_demo/chain`` shows them and takes overrides:
``{"chain": {"block_time": 4}, "endpoints": {"primary": {"latency": 3}}}``.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import sentry_sdk
from flask import Flask, jsonify, request
from werkzeug.serving import BaseWSGIServer

from glasspane.demo.chain import Chain, EndpointKnobs, RpcFailure, call, with_overrides
from glasspane.demo.faults import FAULTS
from glasspane.demo.services import runtime, serving


class Listeners:
    """One HTTP listener per endpoint; a ``down`` endpoint's listener is closed."""

    def __init__(self, app: Flask, ports: dict[str, int]) -> None:
        self.app = app
        self.ports = ports
        self._servers: dict[str, BaseWSGIServer] = {}
        self._lock = threading.Lock()

    def sync(self, chain: Chain) -> None:
        with self._lock:
            for name, port in self.ports.items():
                down = chain.endpoint(name).down
                if down and name in self._servers:
                    serving.sever(self._servers.pop(name))
                elif not down and name not in self._servers:
                    server = serving.wsgi_server(port, self.app)
                    threading.Thread(target=server.serve_forever, name=name, daemon=True).start()
                    self._servers[name] = server

    def close(self) -> None:
        with self._lock:
            for server in self._servers.values():
                serving.sever(server)
            self._servers.clear()


class Node:
    def __init__(self) -> None:
        self.chain = Chain(time.time())
        self.stop_event = threading.Event()
        ports = {name: int(urlsplit(url).port or 0) for name, url in runtime.config().rpc.items()}
        self.by_port = {port: name for name, port in ports.items()}
        self.app = self._app()
        self.listeners = Listeners(self.app, ports)

    def _app(self) -> Flask:
        app = Flask("base-sepolia-rpc")

        @app.post("/", endpoint="rpc")
        def rpc() -> Any:
            endpoint = self.by_port.get(int(request.environ.get("SERVER_PORT", 0)), "primary")
            return jsonify(self.answer(endpoint, request.get_json(silent=True)))

        return app

    def answer(self, endpoint: str, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict) or not isinstance(payload.get("method"), str):
            return {
                "jsonrpc": "2.0",
                "id": None,
                "error": {"code": -32600, "message": "invalid request"},
            }
        method, params, ident = payload["method"], payload.get("params") or [], payload.get("id")
        sentry_sdk.get_current_scope().set_transaction_name(method, source="custom")
        sentry_sdk.set_tag("rpc.endpoint", endpoint)
        knobs = self.chain.endpoint(endpoint)
        runtime.sleep(runtime.sample(knobs.latency, knobs.jitter))
        try:
            if random.random() < knobs.error_rate:
                raise RpcFailure(-32603, "internal error")
            return {
                "jsonrpc": "2.0",
                "id": ident,
                "result": call(self.chain, endpoint, method, params, time.time()),
            }
        except RpcFailure as exc:
            return {"jsonrpc": "2.0", "id": ident, "error": {"code": exc.code, "message": str(exc)}}

    # -- knobs -------------------------------------------------------------------------
    def apply_fault(self, state: dict[str, Any]) -> None:
        fault = FAULTS.get(str(state.get("fault")), FAULTS["none"])
        self.chain.knobs = fault.chain
        self.chain.endpoints = dict(fault.endpoints)
        self.listeners.sync(self.chain)

    def knobs(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method in ("PUT", "POST"):
            self.chain.knobs = with_overrides(self.chain.knobs, body.get("chain", {}))
            endpoints = dict(self.chain.endpoints)
            for name, overrides in body.get("endpoints", {}).items():
                if name not in self.listeners.ports:
                    raise ValueError(
                        f"no endpoint {name!r}; there are {', '.join(self.listeners.ports)}"
                    )
                endpoints[name] = with_overrides(endpoints.get(name, EndpointKnobs()), overrides)
            self.chain.endpoints = endpoints
            self.listeners.sync(self.chain)
        return {
            **self.chain.stats(),
            "chain": self.chain.knobs.__dict__,
            "endpoints": {n: self.chain.endpoint(n).__dict__ for n in self.listeners.ports},
        }

    # -- life --------------------------------------------------------------------------
    def start(self) -> None:
        self.listeners.sync(self.chain)
        threading.Thread(target=self._produce, name="blocks", daemon=True).start()

    def stop(self) -> None:
        self.stop_event.set()
        self.listeners.close()

    def _produce(self) -> None:
        while not self.stop_event.wait(runtime.seconds(self.chain.knobs.block_time)):
            self.chain.mine(time.time())


def build() -> serving.Service:
    node = Node()
    runtime.on_state_change(node.apply_fault)
    return serving.Service(
        app=None, admin={"chain": node.knobs}, on_start=node.start, on_stop=node.stop
    )
