"""glasspane's own metrics: categories, store locations, rates, and several processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from glasspane import server_metrics, server_status
from glasspane.domain import Batch, ErrorEvent, LogRecord, Outcome, Span
from glasspane.ingest.metering import endpoint_of
from glasspane.normalize.envelope import CATEGORIES
from glasspane.store.location import redacted, store_location

SRC = Path(__file__).resolve().parents[2] / "src"


def _span(is_segment: bool) -> Span:
    return Span(
        project_id=1,
        trace_id="a" * 32,
        span_id="b" * 16,
        parent_span_id=None,
        segment_id="b" * 16,
        is_segment=is_segment,
        service="api",
        transaction="t",
        op="http.server",
        description="",
        status="ok",
        start_timestamp=0.0,
        timestamp=1.0,
    )


def test_a_batch_counts_segments_as_transactions_and_every_span_as_a_span() -> None:
    batch = Batch(
        spans=[_span(True), _span(False), _span(False)],
        errors=[ErrorEvent.__new__(ErrorEvent)],
        logs=[LogRecord(1, 0.0, "info", "hello")] * 4,
    )
    counted = dict(server_metrics.batch_categories(batch))
    assert counted["transaction"] == 1
    assert counted["span"] == 3
    assert counted["error"] == 1
    assert counted["log_item"] == 4
    assert counted["replay"] == 0


def test_every_category_ingest_knows_is_a_label_and_made_up_ones_are_unknown() -> None:
    assert set(CATEGORIES.values()) <= server_metrics.DATA_CATEGORIES
    batch = Batch(outcomes=[Outcome(1, "x" * 40, "unsupported", 2)])
    before = _outcomes("unsupported", "unknown")
    server_metrics.count_batch(batch)
    assert _outcomes("unsupported", "unknown") == before + 2


def _outcomes(reason: str, category: str) -> float:
    text = server_metrics.render(None)[0].decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "glasspane_ingest_outcomes_total" and sample.labels == {
                "reason": reason,
                "category": category,
            }:
                return sample.value
    return 0.0


@pytest.mark.parametrize(
    ("path", "endpoint"),
    [
        ("/api/1/envelope/", "envelope"),
        ("/api/1/envelope", "envelope"),
        ("/api/1/store/", "store"),
        ("/v1/traces", "otlp"),
        ("/api/1/integration/otlp/v1/logs", "otlp"),
    ],
)
def test_ingest_paths_name_their_endpoint(path: str, endpoint: str) -> None:
    assert endpoint_of(path) == endpoint


def test_store_locations_name_the_kind_and_hide_the_password(tmp_path: Path) -> None:
    default = store_location("", tmp_path)
    assert (default.kind, default.location) == ("duckdb", str(tmp_path / "glasspane.duckdb"))
    assert default.disk_bytes() == 0  # nothing written yet
    (tmp_path / "glasspane.duckdb").write_bytes(b"x" * 100)
    (tmp_path / "glasspane.duckdb.wal").write_bytes(b"x" * 20)
    assert default.disk_bytes() == 120
    chdb = store_location(f"chdb://{tmp_path / 'ch'}", tmp_path)
    (tmp_path / "ch" / "parts").mkdir(parents=True)
    (tmp_path / "ch" / "parts" / "data.bin").write_bytes(b"y" * 50)
    assert (chdb.kind, chdb.disk_bytes()) == ("chdb", 50)
    server = store_location("clickhouse://app:s3cr%40t@db.internal:8123/gp", tmp_path)
    assert server.kind == "clickhouse"
    assert server.location == "clickhouse://app:***@db.internal:8123/gp"
    assert server.disk_bytes() is None
    assert redacted("http://db:8123/gp") == "http://db:8123/gp"


def test_rates_are_the_change_since_the_oldest_recent_sample() -> None:
    window = server_status.RateWindow()
    assert window.per_second(100.0, server_metrics.Totals(50, 40)) == (0.0, 0.0)
    window.add(100.0, server_metrics.Totals(0, 0))
    assert window.per_second(100.5, server_metrics.Totals(5, 5)) == (0.0, 0.0)  # too soon
    window.add(104.0, server_metrics.Totals(40, 20))
    assert window.per_second(110.0, server_metrics.Totals(100, 50)) == (10.0, 5.0)
    window.add(130.0, server_metrics.Totals(100, 50))  # the early samples age out
    assert window.per_second(132.0, server_metrics.Totals(120, 50)) == (10.0, 0.0)


def test_a_lag_source_shows_in_the_metrics_and_the_status() -> None:
    server_metrics.register_lag_source(lambda: (4096.0, 0.25))
    try:
        text = server_metrics.render(1234)[0].decode()
        status = server_status.ingest_status()
    finally:
        server_metrics.register_lag_source(None)
    assert "glasspane_journal_lag_bytes 4096.0" in text
    assert "glasspane_journal_lag_seconds 0.25" in text
    assert "glasspane_store_disk_bytes 1234.0" in text
    assert (status.lag_bytes, status.lag_s) == (4096, 0.25)


#: Run in a fresh interpreter, so the switch to multiprocess mode does not leak
#: into this test process. Children are spawned as `glasspane serve` spawns workers.
PARENT = """
import subprocess, sys
from pathlib import Path
from glasspane import server_metrics as m, server_status

m.count_request("envelope", 200)  # before the switch: this process only, not shared
m.prepare_multiprocess(Path(sys.argv[1]))
m.count_request("envelope", 200)
m.set_queue_depth(2)
CHILD = '''
import sys
from glasspane import server_metrics as m
from glasspane.domain import Batch, ErrorEvent
for _ in range(int(sys.argv[1])):
    m.count_request("otlp", 200)
m.count_request("envelope", 429)
m.count_batch(Batch(errors=[ErrorEvent.__new__(ErrorEvent)]))
m.set_queue_depth(5)
'''
children = [subprocess.Popen([sys.executable, "-c", CHILD, str(n)]) for n in (3, 4)]
assert [child.wait() for child in children] == [0, 0]
print(m.render(None)[0].decode())
print("accepted_total", server_status.ingest_status().accepted_total)
print("=====")
for child in children:
    m.mark_process_dead(child.pid)
print(m.render(None)[0].decode())
"""


def _values(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_several_processes_are_counted_as_one(tmp_path: Path) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_1.db").write_bytes(b"left by an earlier run")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop(server_metrics.MULTIPROC_ENV, None)
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(PARENT), str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    alive, dead = run.stdout.split("=====")
    live = _values(alive)
    requests = "glasspane_ingest_requests_total"
    assert live[(requests, frozenset({("endpoint", "envelope"), ("status", "2xx")}))] == 1
    assert live[(requests, frozenset({("endpoint", "otlp"), ("status", "2xx")}))] == 7
    assert live[(requests, frozenset({("endpoint", "envelope"), ("status", "4xx")}))] == 2
    assert live[("glasspane_ingest_items_total", frozenset({("category", "error")}))] == 2
    assert live[("glasspane_store_queue_depth", frozenset())] == 2 + 5 + 5
    assert "accepted_total 8" in alive
    after = _values(dead)
    assert after[("glasspane_store_queue_depth", frozenset())] == 2  # only the living
    assert after[(requests, frozenset({("endpoint", "otlp"), ("status", "2xx")}))] == 7
