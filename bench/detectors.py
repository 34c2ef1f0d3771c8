"""What the performance detectors add to ingest, measured in one run.

The detectors run on the writer, per transaction, after the data is
acknowledged (docs/performance-issues.md). This bench times, on the same
transactions and in the same process, what ingest does for each of them anyway
(parse the envelope, normalize, sanitize, build the span rows) and what the
detectors add (``store.findings.performance_events``), and prints both with
their ratio. Three shapes: the recorded Python SDK transaction
(``tests/fixtures/envelopes/python-transaction.envelope``), a 40-query N+1
(the detectors find it), and a 300-span transaction of mixed operations.

    .venv/bin/python bench/detectors.py [--repeat 2000]

Medians of ``--repeat`` rounds; the machine is shared, so read the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from glasspane.normalize.context import IngestContext  # noqa: E402
from glasspane.normalize.envelope import normalize_envelope  # noqa: E402
from glasspane.normalize.sanitize import Policy, sanitize_batch  # noqa: E402
from glasspane.normalize.scrub import Scrubber  # noqa: E402
from glasspane.protocol.envelope import parse_envelope  # noqa: E402
from glasspane.store.findings import performance_events  # noqa: E402
from glasspane.store.rows import span_row  # noqa: E402

RECORDED = ROOT / "tests" / "fixtures" / "envelopes" / "python-transaction.envelope"
POLICY = Policy(16384, 32, Scrubber())
MAX_BODY = 100 * 1024 * 1024


def _transaction(spans: list[tuple[str, str, float]]) -> bytes:
    """An envelope with one transaction whose children run one after the other."""
    now, trace, root = time.time(), uuid.uuid4().hex, uuid.uuid4().hex[:16]
    children, at = [], now - 5
    for op, description, ms in spans:
        children.append(
            {
                "trace_id": trace,
                "span_id": uuid.uuid4().hex[:16],
                "parent_span_id": root,
                "op": op,
                "description": description,
                "start_timestamp": at,
                "timestamp": at + ms / 1000,
            }
        )
        at += ms / 1000 + 0.001
    event = {
        "type": "transaction",
        "event_id": uuid.uuid4().hex,
        "transaction": "GET /cases/{id}",
        "start_timestamp": now - 5,
        "timestamp": at,
        "contexts": {"trace": {"trace_id": trace, "span_id": root, "op": "http.server"}},
        "spans": children,
    }
    body = orjson.dumps(event)
    header = orjson.dumps({"type": "transaction", "length": len(body)})
    return b"\n".join([orjson.dumps({"event_id": event["event_id"]}), header, body])


def shapes() -> dict[str, bytes]:
    n_plus_one = [("db", "SELECT id FROM documents WHERE case_id = 7", 3.0)]
    n_plus_one += [("db", f"SELECT * FROM pages WHERE document_id = {i}", 2.0) for i in range(40)]
    mixed = [
        (op, f"{op} step {i % 25}", 1.0)
        for i in range(300)
        for op in (("db", "http.client", "cache.get", "function")[i % 4],)
    ]
    return {
        "recorded Python SDK transaction": RECORDED.read_bytes(),
        "N+1: 41 queries": _transaction(n_plus_one),
        "300 mixed spans": _transaction(mixed),
    }


def _median_us(work: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args(argv)
    ctx = IngestContext(1, "bench", time.time(), client_ip="127.0.0.1", max_spans=1000)
    print(f"{'transaction':<34} {'spans':>6} {'ingest µs':>10} {'detectors µs':>13} {'ratio':>7}")
    for name, body in shapes().items():

        def ingest(body: bytes = body) -> list[tuple[Any, ...]]:
            batch, _ = normalize_envelope(parse_envelope(body, MAX_BODY), ctx)
            sanitize_batch(batch, POLICY)
            return [span_row(span, ctx.received_at) for span in batch.spans]

        rows = ingest()
        found = performance_events(rows, ctx.received_at)
        ingest_us = _median_us(ingest, args.repeat)
        detect_us = _median_us(lambda rows=rows: performance_events(rows, 0.0), args.repeat)
        print(
            f"{name:<34} {len(rows):>6} {ingest_us:>10.0f} {detect_us:>13.0f} "
            f"{detect_us / ingest_us:>6.1%}" + (f"  finds {found[0].title}" if found else "")
        )


if __name__ == "__main__":
    main()
