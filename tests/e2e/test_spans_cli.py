"""The span explorer fed by the real sentry-sdk, read with ``glasspane spans``:
child spans listed by their own op, and grouped with counts per op."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from e2e.services import Service
from serverproc import RunningServer
from waiting import wait_until

pytestmark = pytest.mark.e2e

PROJECT = "py-spans"


@pytest.fixture(scope="module")
def flask_app(server: RunningServer) -> Iterator[Service]:
    project = server.project(PROJECT)
    env = {"SENTRY_DSN": project["dsn"], "TRACES_SAMPLE_RATE": "1.0"}
    service = Service("flask_service.py", env).wait_ready()
    yield service
    service.stop()


def glasspane(server: RunningServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "glasspane", *args, "--server", server.url, "--token", server.token],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_lists_and_groups_child_spans(server: RunningServer, flask_app: Service) -> None:
    with httpx.Client(timeout=20) as client:
        for fail in ("0", "0", "0", "1", "1"):
            client.post(flask_app.url + "/process", params={"fail": fail})
    httpx.get(flask_app.url + "/flush", timeout=20)
    mine = f"service:{PROJECT}"

    def waits() -> list[str]:
        listed = glasspane(server, "spans", f"{mine} span.op:blockchain.wait", "-p", "1h")
        assert listed.returncode == 0, listed.stderr
        return listed.stdout.splitlines()

    lines = wait_until(waits, timeout=30, until=lambda found: len(found) == 4, what="2 waits")
    assert lines[0].split()[:3] == ["TRACE", "OP", "DESCRIPTION"]
    assert all("blockchain.wait" in row and "Wait for confirmation" in row for row in lines[2:])
    assert all("deadline_exceeded" in row for row in lines[2:])

    grouped = glasspane(server, "spans", mine, "--group-by", "span.op", "-p", "1h")
    assert grouped.returncode == 0, grouped.stderr
    rows = {line.split()[0]: line.split() for line in grouped.stdout.splitlines()[2:]}
    assert rows["blockchain.prepare"][1:3] == ["5", "5"]  # count, samples
    assert rows["blockchain.wait"][1:3] == ["2", "2"]
    assert rows["blockchain.wait"][-1] == "100.0%"

    bad = glasspane(server, "spans", mine, "--group-by", "span.opp")
    assert bad.returncode == 1
    assert 'did you mean "span.op"' in bad.stderr
