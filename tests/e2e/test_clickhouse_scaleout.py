"""Scale-out on ClickHouse: two glasspane instances (one of them with two worker
processes) share one ClickHouse database. Writes through any process land and
read back through any other; exactly one process evaluates alert rules, and
another takes over when it is killed.

ClickHouse runs as the real engine behind a small HTTP front
(``tests/chdb_server.py``), or a real server when
``GLASSPANE_TEST_CLICKHOUSE_URL`` is set.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from envelopes import envelope_bytes, transaction
from serverproc import RunningServer, free_port
from waiting import wait_until

pytestmark = pytest.mark.e2e

TESTS = Path(__file__).resolve().parents[1]

SENDER = textwrap.dedent(
    """
    import json, sys, time, sentry_sdk
    sentry_sdk.init(dsn=sys.argv[1], traces_sample_rate=1.0, release="shop@1.0")
    traces = []
    for n in range(int(sys.argv[2])):
        with sentry_sdk.start_transaction(name=sys.argv[3], op="http.server") as tx:
            with sentry_sdk.start_span(op="db.query", description="SELECT 1"):
                time.sleep(0.002)
            traces.append(tx.trace_id)
    sentry_sdk.flush(10)
    print(json.dumps(traces))
    """
)

RULES = """
alerts:
  - name: "Checkout slow"
    conditions:
      - transaction: checkout
      - p95: "> 1ms"
      - window: 10 minutes
"""


class StandIn:
    """``tests/chdb_server.py`` in a subprocess: ClickHouse's engine behind HTTP."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> StandIn:
        command = [sys.executable, str(TESTS / "chdb_server.py"), "--port", str(self.port)]
        self.process = subprocess.Popen(
            [*command, "--path", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/ping", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError("the ClickHouse stand-in did not start")

    def url(self, database: str) -> str:
        return f"clickhouse://default:@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if self.process:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def clickhouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A ClickHouse URL with a fresh database."""
    database = f"scaleout_{uuid.uuid4().hex[:8]}"
    real = os.environ.get("GLASSPANE_TEST_CLICKHOUSE_URL", "").rstrip("/")
    if real:
        yield f"{real}/{database}"
        return
    stand_in = StandIn(tmp_path_factory.mktemp("clickhouse")).start()
    try:
        yield stand_in.url(database)
    finally:
        stand_in.stop()


def send(dsn: str, count: int, name: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", SENDER, dsn, str(count), name],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def dsn_for(server: RunningServer, project: dict[str, object]) -> str:
    host = server.url.removeprefix("http://")
    return f"http://{project['public_key']}@{host}/{project['id']}"


def evaluator(server: RunningServer) -> dict[str, object]:
    answer = server.api("GET", "/api/v1/alerts")
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["evaluator"])


def test_instances_share_one_clickhouse(clickhouse: str, tmp_path: Path) -> None:
    store = ("--store", clickhouse, "--alert-interval", "1")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "alerts.yaml").write_text(RULES)
    (tmp_path / "b" / "alerts.yaml").write_text(RULES)
    first = RunningServer(tmp_path / "a", None, *store, "--workers", "2").start()
    second = RunningServer(tmp_path / "b", None, *store).start()
    try:
        # One project, created through the second instance; the first (both its
        # workers) sees it within the project cache's few seconds.
        project = second.project("shop")
        wait_until(
            lambda: [first.api("GET", "/api/v1/projects").json()["projects"] for _ in range(4)],
            15,
            lambda listed: all(any(p["name"] == "shop" for p in ps) for ps in listed),
            0.5,
            "the first instance listing the new project",
        )
        sent = send(dsn_for(first, project), 20, "checkout")
        sent += send(dsn_for(second, project), 20, "checkout")
        sent += send(dsn_for(first, project), 10, "search")

        # Every trace reads back complete through either instance.
        for trace_id in sent[::7]:
            trace = first.wait_for_trace(trace_id, lambda t: len(t["spans"]) == 2)
            assert {s["op"] for s in trace["spans"]} == {"http.server", "db.query"}
            assert second.api("GET", f"/api/v1/traces/{trace_id}").status_code == 200
        table = second.api("GET", "/api/v1/transactions", params={"period": "1h"}).json()
        counts = {row["transaction"]: row["count"] for row in table["transactions"]}
        assert counts == {"checkout": 40, "search": 10}

        # Exactly one process evaluates the rules; every process names the same one.
        seen = wait_until(
            lambda: [evaluator(s) for s in (first, second, first, first, second)],
            30,
            lambda seen: len(held := {e["lease_holder"] for e in seen}) == 1 and None not in held,
            0.5,
            "every process naming one lease holder",
        )
        holder = str(seen[0]["lease_holder"])
        evaluating = {e["this_process"] for e in seen if e["evaluating"]}
        assert evaluating <= {holder}
        rules = second.api("GET", "/api/v1/alerts").json()["rules"]
        assert rules[0]["state"] == "firing"  # p95 of ~2 ms > 1 ms, seen by the non-holder too

        # Kill the holder's process: another takes the lease over.
        pid = int(holder.split(":")[1])
        os.kill(pid, signal.SIGKILL)
        survivor = second if second.process and pid != second.process.pid else first

        def current_holder() -> object:
            try:
                return evaluator(survivor)["lease_holder"]
            except (httpx.HTTPError, AssertionError):
                return None

        wait_until(current_holder, 30, lambda new: new and new != holder, 0.5, "a new holder")
    finally:
        first.stop()
        second.stop()


def test_clickhouse_outage_answers_503_and_ingest_resumes(tmp_path: Path) -> None:
    """ClickHouse goes away: ingest says 503 at once (the SDK keeps the event to
    retry), reads say 503, nothing hangs; it comes back: ingest resumes and what
    was stored before is all there."""
    stand_in = StandIn(tmp_path / "clickhouse").start()
    server = RunningServer(tmp_path / "data", None, "--store", stand_in.url("outage")).start()
    try:
        project = server.project("default")
        url = f"{server.url}/api/{project['id']}/envelope/"
        auth = {"X-Sentry-Auth": f"Sentry sentry_key={project['public_key']}"}
        before = transaction()
        assert httpx.post(url, content=envelope_bytes(before), headers=auth).status_code == 200

        stand_in.stop()
        started = time.monotonic()
        during = httpx.post(url, content=envelope_bytes(transaction()), headers=auth, timeout=30)
        assert during.status_code == 503, during.text
        assert "ClickHouse" in during.json()["detail"]
        assert time.monotonic() - started < 10
        assert server.api("GET", "/api/v1/transactions").status_code == 503
        assert httpx.get(server.url + "/healthz").status_code == 200  # alive
        assert httpx.get(server.url + "/readyz").status_code == 503  # not ready

        stand_in.start()  # same port, same data
        assert httpx.get(server.url + "/readyz").json()["status"] == "ready"
        after = transaction()
        assert httpx.post(url, content=envelope_bytes(after), headers=auth).status_code == 200
        for payload in (before, after):
            trace = server.wait_for_trace(payload["contexts"]["trace"]["trace_id"])
            assert len(trace["spans"]) == 3
    finally:
        server.stop()
        stand_in.stop()
