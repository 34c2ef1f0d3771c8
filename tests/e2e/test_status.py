"""``glasspane status`` and ``GET /metrics`` against a real server."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from serverproc import RunningServer, free_port

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).parent.parent / "fixtures" / "envelopes"


def glasspane(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "glasspane", *args], capture_output=True, text=True, timeout=60
    )


def _send(server: RunningServer, count: int) -> None:
    project = server.project("default")
    body = (FIXTURES / "python-transaction.envelope").read_bytes()
    for _ in range(count):
        response = httpx.post(
            f"{server.url}/api/{project['id']}/envelope/",
            content=body,
            params={"sentry_key": project["public_key"]},
            timeout=30,
        )
        assert response.status_code == 200, response.text


def test_status_shows_ingest_and_store_at_a_glance(server: RunningServer) -> None:
    _send(server, 5)
    time.sleep(1.2)  # a rate needs a second between samples
    shown = glasspane("status", "--server", server.url, "--token", server.token)
    assert shown.returncode == 0, shown.stderr
    head, ingest, store = shown.stdout.splitlines()
    assert head.startswith("glasspane ") and server.url in head
    assert ingest.startswith("ingest: ") and "envelopes/s accepted" in ingest
    assert not ingest.startswith("ingest: 0 envelopes/s"), ingest
    assert "queue " in ingest and "journal lag " in ingest
    assert store.split()[1] in ("duckdb", "chdb", "clickhouse")

    as_json = glasspane("status", "--json", "--server", server.url, "--token", server.token)
    assert as_json.returncode == 0, as_json.stderr
    status = json.loads(as_json.stdout)
    assert status["ingest"]["accepted_total"] >= 5
    assert status["ingest"]["accepted_per_s"] > 0
    assert set(status) >= {"version", "store", "ingest", "disk_bytes"}


def test_status_says_what_is_wrong_in_one_line(server: RunningServer) -> None:
    wrong = glasspane("status", "--server", server.url, "--token", "wrong")
    assert wrong.returncode == 1
    assert wrong.stderr.strip().count("\n") == 0 and "Wrong admin token" in wrong.stderr
    nowhere = glasspane("status", "--server", f"http://127.0.0.1:{free_port()}", "--token", "x")
    assert nowhere.returncode == 1
    assert "Cannot reach the glasspane server" in nowhere.stderr


def test_metrics_are_served_in_prometheus_format(server: RunningServer) -> None:
    _send(server, 1)
    assert httpx.get(server.url + "/metrics", timeout=30).status_code == 401
    response = server.api("GET", "/metrics")
    assert response.status_code == 200
    names = {family.name for family in text_string_to_metric_families(response.text)}
    assert {
        "glasspane_ingest_requests",
        "glasspane_ingest_items",
        "glasspane_store_envelopes",
        "glasspane_store_commit_seconds",
        "glasspane_store_queue_depth",
        "glasspane_journal_lag_seconds",
    } <= names
