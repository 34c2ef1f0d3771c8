"""Start and drive a real ``glasspane serve`` process, as a user would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from waiting import wait_until

#: The stores the shared end-to-end server runs on: every test that uses it runs
#: once per store (GLASSPANE_TEST_STORES=duckdb runs DuckDB only).
STORES = os.environ.get("GLASSPANE_TEST_STORES", "duckdb,chdb").split(",")
#: A real ClickHouse server, when one is configured, is one more store.
CLICKHOUSE_URL = os.environ.get("GLASSPANE_TEST_CLICKHOUSE_URL", "").rstrip("/")
if CLICKHOUSE_URL and "clickhouse" not in STORES:
    STORES.append("clickhouse")


def store_flags(store: str, folder: Path) -> tuple[str, ...]:
    """``--store`` for a server of ``store`` with its data under ``folder``."""
    if store == "duckdb":
        return ()
    if store == "chdb":
        return ("--store", f"chdb://{folder / 'chdb'}")
    return ("--store", f"{CLICKHOUSE_URL}/glasspane_e2e_{uuid.uuid4().hex[:8]}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RunningServer:
    """A glasspane server subprocess on 127.0.0.1 with its own data directory."""

    def __init__(self, data_dir: Path, port: int | None = None, *extra: str) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra = extra
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"{data_dir.name}-server.log"

    def start(self, timeout: float = 60.0) -> RunningServer:
        cmd = [
            sys.executable,
            "-m",
            "glasspane",
            "serve",
            "--data-dir",
            str(self.data_dir),
            "--port",
            str(self.port),
            *self.extra,
        ]
        # The child writes to its own copy of the descriptor; ours closes at once.
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not answer /healthz:\n{self.log_path.read_text()}")

    @property
    def token(self) -> str:
        return (self.data_dir / "admin-token").read_text().strip()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return httpx.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def create_project(self, name: str) -> dict[str, Any]:
        response = self.api("POST", "/api/v1/projects", json={"name": name})
        assert response.status_code == 201, response.text
        return dict(response.json())

    def project(self, name: str) -> dict[str, Any]:
        """The project called ``name``, created on first use."""
        for project in self.api("GET", "/api/v1/projects").json()["projects"]:
            if project["name"] == name:
                return dict(project)
        return self.create_project(name)

    def poll(
        self,
        path: str,
        until: Callable[[Any], Any] = bool,
        timeout: float = 20.0,
        interval: float = 0.2,
    ) -> Any:
        """``GET path`` until it answers 200 with a body ``until`` accepts; that body.

        On timeout, fails with the last status and body seen.
        """

        def fetch() -> tuple[int, Any]:
            response = self.api("GET", path)
            ok = response.status_code == 200
            return response.status_code, response.json() if ok else response.text

        answer = wait_until(
            fetch, timeout, lambda got: got[0] == 200 and until(got[1]), interval, f"GET {path}"
        )
        return answer[1]

    def wait_for_trace(
        self,
        trace_id: str,
        until: Callable[[dict[str, Any]], bool] = lambda trace: True,
        timeout: float = 20.0,
    ) -> dict[str, Any]:
        """Poll the trace API until the trace exists and ``until(trace)`` holds."""
        return dict(self.poll(f"/api/v1/traces/{trace_id}", until, timeout))
