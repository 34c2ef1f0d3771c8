"""An acknowledged envelope survives ``kill -9`` of the server."""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from envelopes import envelope_bytes, error_event, transaction
from serverproc import RunningServer

pytestmark = pytest.mark.e2e


def test_acknowledged_events_survive_kill_9(tmp_path: Path) -> None:
    running = RunningServer(tmp_path / "data").start()
    project = running.project("default")
    url = f"{running.url}/api/{project['id']}/envelope/"
    auth = {"X-Sentry-Auth": f"Sentry sentry_key={project['public_key']}"}
    payloads = [transaction(children=3) if i % 4 else error_event() for i in range(200)]

    def send(payload: dict) -> tuple[dict, int]:
        response = httpx.post(url, content=envelope_bytes(payload), headers=auth, timeout=30)
        return payload, response.status_code

    try:
        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(send, payloads))
    finally:
        running.stop(signal.SIGKILL)  # no shutdown hook runs: only committed data survives
    acknowledged = [payload for payload, status in results if status == 200]
    assert len(acknowledged) == len(payloads)

    restarted = RunningServer(tmp_path / "data").start()
    try:
        missing = []
        for payload in acknowledged:
            trace_id = payload["contexts"]["trace"]["trace_id"]
            answer = restarted.api("GET", f"/api/v1/traces/{trace_id}")
            if answer.status_code != 200:
                missing.append(trace_id)
                continue
            trace = answer.json()
            if payload.get("type") == "transaction":
                assert len(trace["spans"]) == 4
            else:
                assert trace["errors"][0]["event_id"] == payload["event_id"]
        assert missing == []
        # Projects and keys persisted too: the same DSN still writes.
        again = httpx.post(
            f"{restarted.url}/api/{project['id']}/envelope/",
            content=envelope_bytes(transaction()),
            headers=auth,
        )
        assert again.status_code == 200
    finally:
        restarted.stop()
