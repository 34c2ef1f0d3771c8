"""An acknowledged envelope survives ``kill -9`` of the server."""

from __future__ import annotations

import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from envelopes import envelope_bytes, error_event, transaction
from serverproc import STORES, RunningServer, store_flags

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("store", STORES)
def test_acknowledged_events_survive_kill_9(store: str, tmp_path: Path) -> None:
    flags = store_flags(store, tmp_path)
    running = RunningServer(tmp_path / "data", None, *flags).start()
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

    restarted = RunningServer(tmp_path / "data", None, *flags).start()
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


def _missing(server: RunningServer, acknowledged: list[dict[str, Any]]) -> list[str]:
    """Event ids of acknowledged payloads that the server cannot show in full."""
    missing = []
    for payload in acknowledged:
        answer = server.api("GET", f"/api/v1/traces/{payload['contexts']['trace']['trace_id']}")
        if answer.status_code != 200:
            missing.append(payload["event_id"])
        elif payload.get("type") == "transaction":
            if len(answer.json()["spans"]) != 4:
                missing.append(payload["event_id"])
        elif payload["event_id"] not in {e["event_id"] for e in answer.json()["errors"]}:
            missing.append(payload["event_id"])
    return missing


@pytest.mark.parametrize("store", STORES)
def test_kill_9_in_the_middle_of_sustained_load_loses_nothing_acknowledged(
    store: str, tmp_path: Path
) -> None:
    """8 senders for 5 s; SIGKILL at 2.5 s while requests are in flight; restart; all found."""
    flags = store_flags(store, tmp_path)
    running = RunningServer(tmp_path / "data", None, *flags).start()
    project = running.project("default")
    url = f"{running.url}/api/{project['id']}/envelope/"
    auth = {"X-Sentry-Auth": f"Sentry sentry_key={project['public_key']}"}
    acknowledged: list[dict[str, Any]] = []
    cut_off: list[str] = []  # requests the kill interrupted or refused
    lock = threading.Lock()
    started = time.monotonic()

    def sender(number: int) -> None:
        with httpx.Client(timeout=10) as http:
            for i in range(10_000):
                if time.monotonic() - started > 5.0:
                    return
                payload = transaction(children=3) if (number + i) % 4 else error_event()
                try:
                    answer = http.post(url, content=envelope_bytes(payload), headers=auth)
                except httpx.HTTPError as exc:
                    with lock:
                        cut_off.append(type(exc).__name__)
                    time.sleep(0.05)
                    continue
                if answer.status_code == 200:
                    assert answer.json()["id"] == payload["event_id"]
                    with lock:
                        acknowledged.append(payload)

    senders = [threading.Thread(target=sender, args=(n,)) for n in range(8)]
    for thread in senders:
        thread.start()
    time.sleep(2.5)
    with lock:
        before_kill = len(acknowledged)
    running.stop(signal.SIGKILL)
    for thread in senders:
        thread.join(timeout=30)
    assert before_kill >= 20, f"too little load before the kill: {before_kill} acknowledged"
    assert cut_off, "the kill interrupted nothing: it did not happen under load"

    restarted = RunningServer(tmp_path / "data", None, *flags).start()
    try:
        assert _missing(restarted, acknowledged) == []
    finally:
        restarted.stop()
