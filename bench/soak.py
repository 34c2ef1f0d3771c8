"""Soak test: a steady load at half the measured maximum, watching memory and latency.

1. Measures the maximum: ``--probe`` seconds of unpaced load (bench/ingest.py's
   python driver) → acknowledged envelopes/s.
2. Sends half of that, paced, for ``--duration`` seconds (at most 600), and
   prints one line per ``--every`` seconds: envelopes/s acknowledged, p50/p99
   latency, non-2xx answers, and the server's resident memory (VmRSS).
3. Reads back a sample of acknowledged traces (nothing acknowledged is lost)
   and prints the verdict: memory and latency of the last window against the
   first one after warm-up.

    .venv/bin/python bench/soak.py                    # 10 minutes, its own server
    .venv/bin/python bench/soak.py --duration 60 --probe 10
    .venv/bin/python bench/soak.py --rate 200         # skip the probe

Only loopback servers; the load is bounded in time and rate.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))
from bench.ingest import (  # noqa: E402
    ENCODERS,
    FIXTURES,
    Kind,
    Target,
    load_kinds,
    memory_mib,
    own_server,
    percentile,
    read_back,
    require_loopback,
    run_load,
    target_from_dsn,
)
from bench.rewrite import rewrite  # noqa: E402

MAX_DURATION_S = 600.0
MAX_RATE = 5000.0


@dataclass
class Window:
    """What one reporting interval saw."""

    acked: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)


@dataclass
class Soak:
    #: (seconds since the start, seconds covered, what it saw, server RSS in MiB)
    windows: list[tuple[float, float, Window, float | None]] = field(default_factory=list)
    current: Window = field(default_factory=Window)
    traces: list[tuple[Kind, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=float, default=600.0, help="soak seconds (max 600)")
    parser.add_argument("--probe", type=float, default=20.0, help="seconds to measure the max")
    parser.add_argument("--rate", type=float, default=0.0, help="envelopes/s; 0 = half the max")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--every", type=float, default=30.0, help="seconds per report line")
    parser.add_argument("--error-ratio", type=float, default=0.1)
    parser.add_argument("--read-back", type=int, default=200, help="traces to read back")
    parser.add_argument("--server", help="a running server (default: start one)")
    parser.add_argument("--dsn", help="DSN of a project on --server")
    parser.add_argument("--token", help="admin token of --server, to read traces back")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    args.duration = min(args.duration, MAX_DURATION_S)
    args.rate = min(args.rate, MAX_RATE)
    if args.server and not args.dsn:
        parser.error("--server needs --dsn")
    return args


def probe(args: argparse.Namespace, target: Target, kinds: dict[str, Kind]) -> float:
    """Acknowledged envelopes/s under unpaced load from ``args.connections`` threads."""
    load = argparse.Namespace(
        duration=args.probe,
        max_requests=10**9,
        error_ratio=args.error_ratio,
        encoding="br",
        connections=args.connections,
        seed=args.seed,
        progress=args.probe + 1,
    )
    stats = run_load(load, target, kinds)
    elapsed = time.monotonic() - stats.started
    return sum(stats.acked.values()) / max(elapsed, 1e-9)


def soak(args: argparse.Namespace, target: Target, kinds: dict[str, Kind], rate: float) -> Soak:
    """Paced load: request n is due at start + n / rate, shared by all threads."""
    state = Soak()
    url = urlsplit(target.ingest_url)
    headers = {
        "X-Sentry-Auth": target.auth,
        "Content-Type": "application/x-sentry-envelope",
        "Content-Encoding": "br",
    }
    started = time.monotonic()
    deadline = started + args.duration
    counter = iter(range(10**12))
    counter_lock = threading.Lock()

    def worker(rng: random.Random) -> None:
        connection = HTTPConnection(url.netloc, timeout=30)
        while True:
            with counter_lock:
                due = started + next(counter) / rate
            if due >= deadline:
                break
            time.sleep(max(0.0, due - time.monotonic()))
            kind = kinds["error" if rng.random() < args.error_ratio else "transaction"]
            body, ids = rewrite(kind.template, time.time(), rng)
            began = time.perf_counter()
            try:
                connection.request("POST", url.path, body=ENCODERS["br"](body), headers=headers)
                response = connection.getresponse()
                response.read()
                status = str(response.status)
            except (OSError, HTTPException) as exc:
                status = type(exc).__name__
                connection.close()
            latency_ms = (time.perf_counter() - began) * 1000
            with state.lock:
                window = state.current
                if status == "200":
                    window.acked += 1
                    window.latencies_ms.append(latency_ms)
                    state.traces.append((kind, ids[kind.trace_id]))
                else:
                    window.failures[status] = window.failures.get(status, 0) + 1
        connection.close()

    # not args.seed itself: the probe used it, and the same ids would merge traces
    seeds = random.Random(args.seed + 1)
    threads = [
        threading.Thread(target=worker, args=(random.Random(seeds.random()),), daemon=True)
        for _ in range(args.connections)
    ]
    for thread in threads:
        thread.start()
    print(f"{'t (s)':>6} {'acked/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'RSS MiB':>8}  non-2xx")
    next_report = started + args.every
    while any(t.is_alive() for t in threads):
        time.sleep(min(1.0, max(0.0, next_report - time.monotonic())))
        if time.monotonic() >= next_report or not any(t.is_alive() for t in threads):
            _report(state, target, time.monotonic() - started)
            next_report += args.every
    return state


def _report(state: Soak, target: Target, elapsed: float) -> None:
    with state.lock:
        window, state.current = state.current, Window()
    rss = memory_mib(target.pid, "VmRSS")
    length = elapsed - (state.windows[-1][0] if state.windows else 0.0)
    state.windows.append((elapsed, length, window, rss))
    lat = window.latencies_ms
    print(
        f"{elapsed:6.0f} {window.acked / max(length, 1e-9):8.1f} {percentile(lat, 50):8.1f} "
        f"{percentile(lat, 99):8.1f} {rss if rss is not None else float('nan'):8.1f}  "
        f"{window.failures or '-'}",
        flush=True,
    )


def verdict(state: Soak, every: float) -> list[str]:
    """First full window after warm-up against the last full one: memory and latency drift."""
    full = [w for w in state.windows if w[2].acked and w[1] >= every / 2]
    if len(full) < 3:
        return ["too few windows for a verdict; run longer (--duration)"]
    (_, _, first, rss0), (_, _, last, rss1) = full[1], full[-1]
    lines = [
        f"p50 latency    {percentile(first.latencies_ms, 50):.1f} ms → "
        f"{percentile(last.latencies_ms, 50):.1f} ms",
        f"p99 latency    {percentile(first.latencies_ms, 99):.1f} ms → "
        f"{percentile(last.latencies_ms, 99):.1f} ms",
    ]
    if rss0 is not None and rss1 is not None:
        lines.append(f"server RSS     {rss0:.0f} MiB → {rss1:.0f} MiB ({rss1 - rss0:+.0f} MiB)")
    failures = sum(sum(w[2].failures.values()) for w in state.windows)
    lines.append(f"non-2xx        {failures}")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    kinds = load_kinds(FIXTURES)
    server: AbstractContextManager[Target]
    if args.server:
        require_loopback(args.server)
        server = nullcontext(target_from_dsn(args.server, args.dsn, args.token, None))
    else:
        server = own_server(keep_data=False)
    with server as target:
        rate = args.rate
        if not rate:
            maximum = probe(args, target, kinds)
            rate = min(maximum / 2, MAX_RATE)
            print(f"measured max {maximum:.1f} envelopes/s; soaking at {rate:.1f}/s")
        state = soak(args, target, kinds, rate)
        print(*verdict(state, args.every), sep="\n")
        _, _, line = read_back(target, state.traces, args.read_back)
        print(f"read back      {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
