"""The benchmark's envelope rewriting: fresh ids and times, nothing else changed."""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import threading
from collections import Counter
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # bench/ is not installed; import it from the checkout

from bench import detectors, fill, ingest, query, spans_aggregate, wrk_driver  # noqa: E402
from bench.rewrite import (  # noqa: E402
    EnvelopeFormatError,
    EnvelopeTemplate,
    parse_envelope,
    rewrite,
    serialize_envelope,
)

from glasspane.store import open_store  # noqa: E402
from glasspane.store.clickhouse.store import issue_id  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "envelopes"
NOW = 1_900_000_000.25

JS_STYLE = (  # no length headers, float timestamps, no trailing newline, ids in baggage
    b'{"event_id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","sent_at":"2030-01-01T00:00:10.000Z",'
    b'"trace":{"trace_id":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}}\n'
    b'{"type":"transaction"}\n'
    b'{"event_id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","start_timestamp":1893456000.5,'
    b'"timestamp":1893456002.25,"contexts":{"trace":{"trace_id":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",'
    b'"span_id":"1111111111111111"}},"request":{"headers":{"baggage":'
    b'"sentry-trace_id=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb,sentry-sampled=true"}},'
    b'"spans":[{"span_id":"2222222222222222","parent_span_id":"1111111111111111",'
    b'"trace_id":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","start_timestamp":1893456001,'
    b'"timestamp":1893456001.75}]}\n'
    b'{"type":"attachment","length":5}\nab\ncd'
)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def docs(body: bytes) -> tuple[dict[str, Any], list[tuple[dict[str, Any], Any]]]:
    """The envelope header and each item's header with its parsed JSON payload."""
    header, items = parse_envelope(body)
    return header, [(h, orjson.loads(p)) for h, p in items if h["type"] != "attachment"]


def span_tree(payload: dict[str, Any]) -> dict[str, str | None]:
    """span_id → parent_span_id for a transaction's root and children."""
    root = payload["contexts"]["trace"]
    tree = {root["span_id"]: root.get("parent_span_id")}
    tree.update({s["span_id"]: s["parent_span_id"] for s in payload["spans"]})
    return tree


def hex_ids(node: Any) -> set[str]:
    """Every string under an id key, anywhere in ``node``."""
    if isinstance(node, list | tuple):
        return set().union(*map(hex_ids, node))
    if not isinstance(node, dict):
        return set()
    keys = ("event_id", "trace_id", "span_id", "parent_span_id")
    found = {v for k, v in node.items() if k in keys and isinstance(v, str)}
    return found.union(*map(hex_ids, node.values()))


@pytest.fixture(params=["python-transaction.envelope", "python-error.envelope"])
def recorded(request: pytest.FixtureRequest) -> bytes:
    return fixture(request.param)


def test_rewritten_envelope_parses_with_the_same_items(recorded: bytes) -> None:
    body, _ = rewrite(EnvelopeTemplate.from_bytes(recorded), NOW, random.Random(1))
    old_header, old_items = docs(recorded)
    new_header, new_items = docs(body)
    assert new_header.keys() == old_header.keys()
    assert [h["type"] for h, _ in new_items] == [h["type"] for h, _ in old_items]
    for (_, old), (_, new) in zip(old_items, new_items, strict=True):
        assert new.keys() == old.keys()
        assert new["user"] == old["user"]
        assert new["contexts"]["blockchain"] == old["contexts"]["blockchain"]


def test_every_id_changes_and_the_map_covers_them(recorded: bytes) -> None:
    body, id_map = rewrite(EnvelopeTemplate.from_bytes(recorded), NOW, random.Random(2))
    old_ids = hex_ids(docs(recorded))
    new_ids = hex_ids(docs(body))
    assert old_ids == set(id_map)
    assert new_ids == set(id_map.values())
    assert not old_ids & new_ids
    assert all(len(new) == len(old) for old, new in id_map.items())
    for old in old_ids:
        assert old.encode() not in body


def test_event_and_trace_ids_agree_across_the_envelope(recorded: bytes) -> None:
    body, _ = rewrite(EnvelopeTemplate.from_bytes(recorded), NOW, random.Random(3))
    header, [(_, payload)] = docs(body)
    assert header["event_id"] == payload["event_id"]
    trace_id = header["trace"]["trace_id"]
    assert payload["contexts"]["trace"]["trace_id"] == trace_id
    assert {s["trace_id"] for s in payload.get("spans", [])} <= {trace_id}


def test_parent_links_keep_the_recorded_tree() -> None:
    recorded = fixture("python-transaction.envelope")
    body, id_map = rewrite(EnvelopeTemplate.from_bytes(recorded), NOW, random.Random(4))
    old_tree = span_tree(docs(recorded)[1][0][1])
    new_tree = span_tree(docs(body)[1][0][1])
    assert len(old_tree) == 11
    expected = {id_map[s]: id_map[p] if p else None for s, p in old_tree.items()}
    assert new_tree == expected
    assert sum(parent is None for parent in new_tree.values()) == 1


def test_error_points_at_the_same_span_ids_as_its_transaction() -> None:
    """Within one envelope one old id maps to one new id, whatever field holds it."""
    template = EnvelopeTemplate.from_bytes(fixture("python-error.envelope"))
    body, id_map = rewrite(template, NOW, random.Random(5))
    old = docs(fixture("python-error.envelope"))[1][0][1]["contexts"]["trace"]
    new = docs(body)[1][0][1]["contexts"]["trace"]
    assert new["span_id"] == id_map[old["span_id"]]
    assert new["parent_span_id"] == id_map[old["parent_span_id"]]


def test_length_headers_match_the_payloads(recorded: bytes) -> None:
    body, _ = rewrite(EnvelopeTemplate.from_bytes(recorded), NOW, random.Random(6))
    for item_header, payload in parse_envelope(body)[1]:
        assert item_header["length"] == len(payload)
    assert body.endswith(b"\n")


def test_timestamps_move_to_now_and_keep_durations() -> None:
    recorded = fixture("python-transaction.envelope")
    body, _ = rewrite(EnvelopeTemplate.from_bytes(recorded), NOW, random.Random(7))

    def times(envelope: bytes) -> tuple[float, list[float]]:
        header, [(_, payload)] = docs(envelope)
        spans = [payload, *payload["spans"]]
        stamps = [seconds(s[k]) for s in spans for k in ("start_timestamp", "timestamp")]
        return seconds(header["sent_at"]), stamps

    old_sent, old_stamps = times(recorded)
    new_sent, new_stamps = times(body)
    assert new_sent == pytest.approx(NOW, abs=1e-6)
    shift = new_sent - old_sent
    assert new_stamps == pytest.approx([t + shift for t in old_stamps], abs=1e-6)


def test_two_rewrites_share_no_ids() -> None:
    template = EnvelopeTemplate.from_bytes(fixture("python-transaction.envelope"))
    rng = random.Random(8)
    _, first = rewrite(template, NOW, rng)
    _, second = rewrite(template, NOW, rng)
    assert not set(first.values()) & set(second.values())


def test_js_style_envelope_keeps_its_shape() -> None:
    """No length headers, float seconds, ids inside strings, a binary attachment."""
    body, id_map = rewrite(EnvelopeTemplate.from_bytes(JS_STYLE), NOW, random.Random(9))
    header, items = parse_envelope(body)
    assert "length" not in items[0][0]
    assert items[1] == ({"type": "attachment", "length": 5}, b"ab\ncd")
    payload = orjson.loads(items[0][1])
    new_trace = id_map["b" * 32]
    assert f"sentry-trace_id={new_trace}," in payload["request"]["headers"]["baggage"]
    assert payload["spans"][0]["parent_span_id"] == id_map["1" * 16]
    assert payload["timestamp"] - payload["start_timestamp"] == pytest.approx(1.75)
    assert payload["spans"][0]["timestamp"] == pytest.approx(NOW - 8.25)
    assert seconds(header["sent_at"]) == pytest.approx(NOW)


def test_serialize_recomputes_lengths() -> None:
    body = serialize_envelope({}, [({"type": "event", "length": 1}, b'{"a":"\xc3\xa9"}')])
    assert parse_envelope(body)[1][0] == ({"type": "event", "length": 10}, b'{"a":"\xc3\xa9"}')


def test_an_envelope_without_timestamps_is_refused() -> None:
    with pytest.raises(EnvelopeFormatError, match="no timestamp"):
        EnvelopeTemplate.from_bytes(b'{}\n{"type":"event"}\n{"message":"hi"}\n')


def seconds(value: str | float) -> float:
    if isinstance(value, str):
        return datetime.fromisoformat(value).timestamp()
    return value


# -- the wrk driver (bench/wrk_envelopes.lua and bench/wrk_driver.py) ----------------------


class _Recorder(BaseHTTPRequestHandler):
    """Answers like glasspane: 200 {"id": ...}, but 503 for every body numbered 7k."""

    protocol_version = "HTTP/1.1"  # keep-alive, as glasspane
    received: ClassVar[list[tuple[bytes, str, str]]] = []
    answered: ClassVar[Counter[int]] = Counter()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append(
            (body, self.headers["X-Sentry-Auth"], self.headers["Content-Encoding"])
        )
        number = int(body.split(b"-")[1])
        status, answer = (503, b"{}") if number % 7 == 0 else (200, b'{"id":"%032x"}' % number)
        self.answered[status] += 1
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_wrk_script_sends_each_body_once_and_counts_statuses(tmp_path: Path) -> None:
    assert wrk_driver.find_wrk(), "wrk is missing: `make test` installs it (apt-get install wrk)"
    _Recorder.received.clear()
    _Recorder.answered.clear()
    bodies = [b"body-%06d-" % i + b"x" * (i % 50) for i in range(100_000)]
    (tmp_path / "bodies.bin").write_bytes(b"".join(bodies))
    (tmp_path / "index.txt").write_text("".join(f"{len(b)}\n" for b in bodies))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        cmd = wrk_driver.command(
            str(wrk_driver.find_wrk()),
            f"http://127.0.0.1:{server.server_address[1]}/api/1/envelope/",
            bodies=tmp_path / "bodies.bin",
            index=tmp_path / "index.txt",
            threads=2,
            connections=4,
            duration_s=1,
            auth="Sentry sentry_key=k, sentry_version=7",
            encoding="br",
            sample=20,
        )
        run = wrk_driver.run(cmd, 1, lambda _: None, 1.0, tmp_path / "wrk.out")
    finally:
        server.shutdown()
        server.server_close()

    sent = [body for body, _, _ in _Recorder.received]
    assert len(sent) == len(set(sent)) > 20  # fresh bodies, no repeats (few on a busy machine)
    assert {(auth, enc) for _, auth, enc in _Recorder.received} == {
        ("Sentry sentry_key=k, sentry_version=7", "br")
    }
    first, second = run.threads
    assert (first.first, first.bodies, second.first, second.bodies) == (0, 50_000, 50_000, 50_000)
    # each thread sends its bodies in order from its first one (wrk keeps thread 0's first)
    for thread in run.threads:
        start = thread.first + thread.skipped
        expected = set(bodies[start : start + thread.sent])
        got = {b for b in sent if thread.first <= int(b.split(b"-")[1]) < thread.first + 50_000}
        assert got <= expected and len(expected - got) <= 4  # minus those still in flight
    statuses = first.statuses + second.statuses
    assert set(statuses) == {"200", "503"}
    assert run.requests == statuses.total() == sum(t.completed for t in run.threads)
    assert 0 <= _Recorder.answered[200] - statuses["200"] <= 4
    assert sum(t.acked for t in run.threads) == statuses["200"]
    echoed = {int(event_id, 16) for t in run.threads for event_id in t.sample}
    assert len(echoed) == 40 and all(n % 7 for n in echoed)
    assert 0 < run.p50_ms <= run.p99_ms <= run.max_ms
    assert run.cpu_s > 0


def test_wrk_done_line_parses() -> None:
    line = (
        'glasspane-wrk {"duration_us":10000000,"requests":3,"bytes":99,'
        '"errors":{"connect":0,"read":1,"write":0,"timeout":2},'
        '"latency_us":{"p50":1500,"p99":9000,"max":12000},"threads":['
        '{"first":0,"bodies":5,"issued":3,"completed":2,"acked":1,"wrapped":0,'
        '"statuses":{"200":1,"429":1},"sample":["ab"]},'
        '{"first":5,"bodies":5,"issued":1,"completed":1,"acked":1,"wrapped":0,'
        '"statuses":{"200":1},"sample":[]}]}'
    )
    run = wrk_driver.parse("Running 10s test\n" + line + "\n", cpu_s=0.5)
    assert (run.duration_s, run.requests, run.p50_ms, run.p99_ms) == (10.0, 3, 1.5, 9.0)
    assert run.socket_errors == {"read": 1, "timeout": 2}
    assert [t.sent for t in run.threads] == [2, 1]  # wrk does not send thread 0's first
    assert run.threads[0].statuses == {"200": 1, "429": 1}
    assert run.output == "Running 10s test"


# -- DuckDB vs ClickHouse (bench/fill.py --store chdb, bench/query.py, bench/ingest.py) ------


def test_chdb_fill_holds_the_duckdb_fills_rows_with_clickhouse_issue_ids(tmp_path: Path) -> None:
    filled = fill.fill_chdb(tmp_path / "ch", 1000, seed=1, say=lambda _: None)
    assert (filled.store, filled.spans, filled.segments) == ("chdb", 1000, 100)
    assert filled.disk_bytes and filled.copy_seconds > 0
    assert fill.read_marker(tmp_path / "ch") == filled.__class__(**{**vars(filled), "reused": True})
    assert not (tmp_path / "ch" / fill.STAGING_DIR).exists()
    store = open_store(fill.chdb_url(tmp_path / "ch"), tmp_path / "ch")
    try:
        conn = store._conn  # type: ignore[attr-defined]
        counts = conn.execute(
            "SELECT (SELECT count() FROM spans), (SELECT count() FROM segments), "
            "(SELECT count() FROM errors)"
        ).fetchone()
        assert counts == (filled.spans, filled.segments, filled.errors)
        issues = conn.execute("SELECT id, project_id, fingerprint FROM issues FINAL").fetchall()
        assert len(issues) == len(fill.SERVICES) * fill.ISSUES_PER_SERVICE
        assert all(ident == issue_id(project, fp) for ident, project, fp in issues)
        orphans = conn.execute(
            "SELECT count() FROM errors WHERE issue_id NOT IN (SELECT id FROM issues)"
        ).fetchone()
        assert orphans == (0,)
        assert {p.name for p in store.list_projects()} >= {s for s, _, _ in fill.SERVICES}
        (trace_id,) = conn.execute("SELECT any(trace_id) FROM spans").fetchone()
        assert len(store.trace_spans(trace_id)) == fill.SPANS_PER_TRACE
    finally:
        store.close()


def test_query_bench_runs_duckdb_first_and_refuses_unknown_stores() -> None:
    assert query.parse_stores("chdb,duckdb") == ["duckdb", "chdb"]
    assert query.parse_stores("chdb") == ["chdb"]
    with pytest.raises(argparse.ArgumentTypeError, match="duckdb and chdb"):
        query.parse_stores("clickhouse")
    assert query.size_dir(Path("/b"), 10_000_000, "chdb") == Path("/b/spans-10M-chdb")
    assert query.size_dir(Path("/b"), 1_000_000, "duckdb") == Path("/b/spans-1M")


def test_query_timing_p95_interpolates() -> None:
    timing = query.Timing(99.0, [float(n) for n in range(1, 21)])
    assert timing.median == 10.5
    assert timing.p95 == pytest.approx(19.05)
    assert query.Timing(1.0, []).p95 != query.Timing(1.0, []).p95  # NaN when nothing ran


def test_ingest_bench_workers_need_clickhouse() -> None:
    assert ingest.parse_args(["--store", "clickhouse", "--workers", "1,2"]).workers == [1, 2]
    with pytest.raises(SystemExit):
        ingest.parse_args(["--workers", "2"])  # DuckDB: one process
    with pytest.raises(SystemExit):
        ingest.parse_args(["--store", "clickhouse", "--workers", "0"])


def test_ingest_bench_counts_a_servers_worker_processes() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in ingest.process_tree(os.getpid())
        alone, tree = (
            ingest.memory_mib(os.getpid(), "VmRSS"),
            ingest.tree_memory_mib(os.getpid(), "VmRSS"),
        )
        assert alone is not None and tree is not None and tree > alone
    finally:
        child.kill()
        child.wait()


def test_spans_aggregate_bench_at_a_tiny_size(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--spans", "1k,2k", "--repeat", "1", "--data-dir", str(tmp_path)]
    assert spans_aggregate.main(args) == 0  # under 10M spans: no verdict, exit 0
    out = capsys.readouterr().out
    assert "filled       2,000 / 2,000 spans" in out
    summary = out[out.index("Span aggregate over 24 h") :].splitlines()
    rows = [line.split() for line in summary if " ms " in line]
    assert [(r[0], " ".join(r[1:3])) for r in rows[:2]] == [
        ("1k", "by span.op"),
        ("1k", "by span.description"),
    ]
    assert len(rows) == 6 and all(float(r[r.index("ms") - 1]) > 0 for r in rows)
    assert "2k / 1k (2x the spans)  by span.op" in out
    groups = re.findall(r"by span\.(op|description) +first .* (\d+) groups", out)
    found = {kind: int(n) for kind, n in groups}  # the 2k run's, the last
    assert 1 < found["op"] < found["description"]  # more descriptions than ops


def test_detectors_bench_times_ingest_and_detectors(capsys: pytest.CaptureFixture[str]) -> None:
    detectors.main(["--repeat", "3"])
    rows = {
        line[:34].strip(): line[34:].split() for line in capsys.readouterr().out.splitlines()[1:]
    }
    assert set(rows) == {"recorded Python SDK transaction", "N+1: 41 queries", "300 mixed spans"}
    assert rows["N+1: 41 queries"][0] == "42" and "N+1" in " ".join(rows["N+1: 41 queries"][4:])
    assert rows["300 mixed spans"][0] == "301"
    assert all(float(r[1]) > 0 and float(r[2]) > 0 for r in rows.values())
