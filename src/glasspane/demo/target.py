"""The glasspane server the demo sends to: started here (``glasspane serve`` as a
child process) or given with ``--server``; its projects, DSNs and alerts,
all through the JSON API.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Any

import httpx

from glasspane.demo import DemoError
from glasspane.demo.processes import Child, Supervisor

START_TIMEOUT = 60.0


class Api:
    """The JSON API with the admin token; DemoError with the server's own message."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self._client = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise DemoError(f"Cannot reach glasspane at {self.url}: {exc}") from None

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.request(method, path, **kwargs)
        if answer.status_code >= 400:
            try:
                detail = answer.json().get("detail", answer.text)
            except ValueError:
                detail = answer.text
            raise DemoError(f"{method} {path}: {detail} (HTTP {answer.status_code})")
        return answer.json()

    def close(self) -> None:
        self._client.close()


def port_is_free(port: int) -> bool:
    """Nobody listens there (SO_REUSEADDR, as uvicorn binds: TIME_WAIT leftovers are fine)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    supervisor: Supervisor, data_dir: Path, port: int, alerts: Path, alert_interval: float
) -> Child:
    if not port_is_free(port):
        raise DemoError(
            f"Port {port} is taken (another glasspane?). Pass --port for a new server, or "
            f"--server http://127.0.0.1:{port} to send the demo to the one running there"
        )
    args = ["serve", "--data-dir", str(data_dir), "--port", str(port)]
    args += ["--alerts", str(alerts), "--alert-interval", f"{alert_interval:g}"]
    child = supervisor.start("glasspane-server", "glasspane", args, {})
    child.url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if not child.alive:
            raise DemoError(f"glasspane serve exited early:\n{child.tail()}")
        try:
            if httpx.get(child.url + "/healthz", timeout=1).status_code == 200:
                return child
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise DemoError(
        f"glasspane serve did not answer /healthz in {START_TIMEOUT:.0f} s:\n{child.tail()}"
    )


def token_for(token: str | None, data_dir: Path) -> str:
    found = token or os.environ.get("GLASSPANE_TOKEN")
    path = data_dir / "admin-token"
    if not found and path.exists():
        found = path.read_text().strip()
    if not found:
        raise DemoError(
            "No admin token for the server: pass --token, set GLASSPANE_TOKEN, or --data-dir "
            "with its admin-token"
        )
    return found


def ensure_projects(api: Api, names: list[str]) -> dict[str, dict[str, Any]]:
    """The projects called ``names``, created where missing (a rerun reuses them)."""
    existing = {p["name"]: p for p in api.json("GET", "/api/v1/projects")["projects"]}
    for name in names:
        if name not in existing:
            existing[name] = api.json("POST", "/api/v1/projects", json={"name": name})
    return {name: existing[name] for name in names}


def set_apdex(api: Api, project: dict[str, Any], threshold_ms: float) -> None:
    body = {"apdex_threshold_ms": threshold_ms}
    api.json("PATCH", f"/api/v1/projects/{project['id']}", json=body)


def alert_rules(api: Api) -> list[dict[str, Any]] | None:
    """The alert rules' states, or None when this server has no alerts API."""
    answer = api.request("GET", "/api/v1/alerts")
    if answer.status_code in (404, 405):
        return None
    if answer.status_code >= 400:
        return None
    rules: list[dict[str, Any]] = answer.json().get("rules", [])
    return rules
