"""The demo's control port (127.0.0.1 only): switch faults and the fix while it runs.

    GET  /status                 fault, fix, traffic counts, processes, notifications
    POST /fault/NAME             rpc-latency | timeouts | rpc-down | none
    POST /fix/NAME               rpc-fallback | none
    POST /chain    {json}        chain knobs: {"chain": {...}, "endpoints": {"primary": {...}}}
    POST /stop                   end the demo (as Ctrl-C does)

Answers are JSON; a mistake is a 400 ``{"detail": ...}`` naming the choices.
It carries no credentials: the admin token is not in ``/status``.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

MAX_BODY = 64 * 1024


class Controls(Protocol):
    def status(self) -> dict[str, Any]: ...
    def set_fault(self, name: str) -> dict[str, Any]: ...
    def set_fix(self, name: str) -> dict[str, Any]: ...
    def set_chain(self, knobs: dict[str, Any]) -> dict[str, Any]: ...
    def request_stop(self) -> dict[str, Any]: ...


def route(controls: Controls, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """The answer to one control request (no HTTP here, so it is easy to test)."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    try:
        if method == "GET" and parts in ([], ["status"]):
            return 200, controls.status()
        if method == "POST" and len(parts) == 2 and parts[0] == "fault":
            return 200, controls.set_fault(parts[1])
        if method == "POST" and len(parts) == 2 and parts[0] == "fix":
            return 200, controls.set_fix(parts[1])
        if method == "POST" and parts == ["chain"]:
            knobs = json.loads(body or b"{}")
            if not isinstance(knobs, dict):
                raise ValueError("the body must be a JSON object")
            return 200, controls.set_chain(knobs)
        if method == "POST" and parts == ["stop"]:
            return 200, controls.request_stop()
    except ValueError as exc:
        return 400, {"detail": str(exc)}
    return 404, {"detail": f"no {method} {path}; see GET /status, POST /fault/NAME, /fix/NAME"}


class ControlServer:
    def __init__(self, controls: Controls, port: int) -> None:
        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
                body = self.rfile.read(length) if length else b""
                status, answer = route(controls, self.command, self.path, body)
                data = json.dumps(answer, indent=2).encode() + b"\n"
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="control", daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
