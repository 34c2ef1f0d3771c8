"""``glasspane serve`` on DuckDB: ingest worker processes behind one port, as a user sees it.

The workers take every connection; ingest stays with them and everything else
goes to the server process. These tests check what that must not change: one
browser's login is not another's, an answer right after a 200 shows the data,
a worker that dies is replaced, and the journal is fed and emptied.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from envelopes import envelope_bytes, error_event, transaction
from serverproc import RunningServer
from waiting import wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data: Path = tmp_path_factory.mktemp("processes") / "data"
    server = RunningServer(data, None, "--ingest-workers", "2").start()
    yield server
    server.stop()


def _workers(server: RunningServer) -> list[int]:
    assert server.process is not None
    listed = subprocess.run(
        ["pgrep", "-P", str(server.process.pid)], capture_output=True, text=True, check=False
    )
    return [int(pid) for pid in listed.stdout.split()]


def _post(server: RunningServer, payload: dict[str, object]) -> httpx.Response:
    project = server.project("default")
    return httpx.post(
        f"{server.url}/api/{project['id']}/envelope/",
        content=envelope_bytes(payload),
        headers={"X-Sentry-Auth": f"Sentry sentry_key={project['public_key']}"},
        timeout=30,
    )


def test_two_ingest_workers_serve_the_port(running: RunningServer) -> None:
    assert len(_workers(running)) == 2


def test_one_browsers_session_is_not_anothers(running: RunningServer) -> None:
    with httpx.Client(base_url=running.url, timeout=10) as first:
        login = first.post("/login", data={"token": running.token}, follow_redirects=False)
        assert login.status_code == 303 and "glasspane_session" in login.headers["set-cookie"]
        assert first.get("/", follow_redirects=False).status_code == 200
    with httpx.Client(base_url=running.url, timeout=10) as second:
        for _ in range(10):  # whichever worker takes the connection
            page = second.get("/", follow_redirects=False)
            assert (page.status_code, page.headers.get("location")) == (303, "/login")


def test_data_is_readable_as_soon_as_it_is_acknowledged(running: RunningServer) -> None:
    for _ in range(5):
        payload = transaction(children=3)
        assert _post(running, payload).status_code == 200
        trace_id = payload["contexts"]["trace"]["trace_id"]  # type: ignore[index]
        answer = running.api("GET", f"/api/v1/traces/{trace_id}")
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["spans"]) == 4


def test_a_worker_that_dies_is_replaced_and_nothing_is_lost(running: RunningServer) -> None:
    before = _workers(running)
    os.kill(before[0], signal.SIGKILL)
    wait_until(lambda: len(set(_workers(running)) - set(before)) == 1, timeout=30)
    sent = [error_event() for _ in range(20)]
    assert {_post(running, payload).status_code for payload in sent} == {200}
    for payload in sent:
        trace_id = payload["contexts"]["trace"]["trace_id"]  # type: ignore[index]
        errors = running.api("GET", f"/api/v1/traces/{trace_id}").json()["errors"]
        assert [e["event_id"] for e in errors] == [payload["event_id"]]


def test_the_journal_is_emptied_once_fed(running: RunningServer) -> None:
    journal = running.data_dir / "journal"
    assert _post(running, transaction(children=1)).status_code == 200
    # Each live worker keeps its one open segment; dead workers' segments go once fed.
    wait_until(lambda: len(list(journal.glob("*.seg"))) <= len(_workers(running)), timeout=10)
    time.sleep(0.5)
    assert len(list(journal.glob("*.seg"))) <= len(_workers(running))
