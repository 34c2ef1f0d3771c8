"""The ten service processes: their ports and configuration, starting them,
waiting until each answers, telling them the demo state, reading the traffic.

Everything here goes to the services' control plane (``/_demo/...``), which the
services answer before their framework sees the request, so none of it is
traced.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from glasspane.demo import DemoError
from glasspane.demo.options import DemoOptions
from glasspane.demo.processes import Child, Supervisor
from glasspane.demo.services.runtime import ENV, ServiceConfig
from glasspane.demo.target import free_port
from glasspane.demo.topology import BROWSER, CHAIN, RPC_ENDPOINTS, SERVICES, start_order
from glasspane.demo.webapp import WebApp

READY_TIMEOUT = 60.0


class Fleet:
    def __init__(self, supervisor: Supervisor, options: DemoOptions, workdir: Path) -> None:
        self.supervisor = supervisor
        self.options = options
        self.workdir = workdir
        self.children: dict[str, Child] = {}
        self.urls = {spec.name: f"http://127.0.0.1:{free_port()}" for spec in SERVICES}
        self.rpc = {name: f"http://127.0.0.1:{free_port()}/" for name in RPC_ENDPOINTS}
        self.last_traffic: dict[str, Any] = {}
        self.webapp = WebApp()  # the browser app for real Chromium users: none unless built
        self._http = httpx.Client(timeout=5)  # one client for every call, not one per call

    def config(self, name: str, dsn: str) -> ServiceConfig:
        o = self.options
        return ServiceConfig(
            name=name,
            port=int(self.urls[name].rsplit(":", 1)[1]),
            dsn=dsn,
            speed=o.speed,
            sample_rate=o.sample_rate,
            urls=self.urls,
            rpc=self.rpc,
            workdir=str(self.workdir),
            seed=o.seed,
            rate_per_min=o.rate,
            users=o.users,
            app_dir=self.webapp.app_dir,
            chromium=self.webapp.chromium,
        )

    def start(self, dsns: dict[str, str]) -> None:
        """Start all ten at once (the browsers send nothing yet) and wait for each."""
        for spec in start_order():
            cfg = self.config(spec.name, dsns[spec.name])
            child = self.supervisor.start(
                spec.name, "glasspane.demo.services", [spec.name], {ENV: cfg.to_env()}
            )
            child.url = self.urls[spec.name]
            self.children[spec.name] = child
        for child in self.children.values():
            self._wait_ready(child)

    def _wait_ready(self, child: Child) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if not child.alive:
                raise DemoError(f"{child.name} exited while starting:\n{child.tail()}")
            try:
                if self._http.get(f"{child.url}/_demo/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise DemoError(f"{child.name} did not start in {READY_TIMEOUT:.0f} s:\n{child.tail()}")

    def tell(self, state: dict[str, str]) -> list[str]:
        """Push the demo state to every service; what went wrong, if anything."""
        problems = []
        for child in self.children.values():
            try:
                self._http.put(f"{child.url}/_demo/state", json=state)
            except httpx.HTTPError as exc:
                problems.append(f"could not tell {child.name} the demo state: {exc}")
        return problems

    def chain_knobs(self, knobs: dict[str, Any]) -> dict[str, Any]:
        answer = self._http.put(f"{self.urls[CHAIN]}/_demo/chain", json=knobs)
        if answer.status_code != 200:
            raise ValueError(answer.json().get("detail", answer.text))
        result: dict[str, Any] = answer.json()
        return result

    def traffic(self) -> dict[str, Any]:
        """The browsers' counters (the last ones seen, once they have stopped)."""
        browser = self.children.get(BROWSER)
        if browser is None or not browser.alive:
            return self.last_traffic
        try:
            stats: dict[str, Any] = self._http.get(f"{browser.url}/_demo/stats").json()
        except (httpx.HTTPError, ValueError):
            return self.last_traffic
        self.last_traffic = stats
        return stats

    def stop(self) -> None:
        """The browsers first (no new uploads), then the services together."""
        self.traffic()
        browser = [c for name, c in self.children.items() if name == BROWSER]
        services = [c for name, c in self.children.items() if name != BROWSER]
        self.supervisor.stop(browser, timeout=15)
        self.supervisor.stop(services, timeout=15)

    def close(self) -> None:
        self._http.close()
