"""Soak test: a steady load at half the measured maximum, watching memory and latency.

1. Measures the maximum: ``--probe`` seconds of unpaced load (bench/ingest.py's
   python driver) → acknowledged envelopes/s.
2. Sends half of that, paced, for ``--duration`` seconds (at most 600), and
   prints one line per ``--every`` seconds: envelopes/s acknowledged, p50/p99
   latency, the server's resident memory (VmRSS) and CPU time per acknowledged
   envelope, the machine's load average, and non-2xx answers. On a shared
   machine latency follows the load of others; CPU per envelope does not, so
   it tells a slower server from a busier machine.
3. Prints the totals and the verdict: memory and latency of the last window
   against the first one after warm-up, and the server's RSS before the load.
4. Prints how many acknowledged envelopes were lost: on its own server, the
   stored transactions and error events counted through the API against every
   acknowledgement (probe included); then a sample of ``--read-back`` traces
   read back one by one, all their spans or their error present.

    .venv/bin/python bench/soak.py                    # 10 minutes, its own server
    .venv/bin/python bench/soak.py --duration 60 --probe 10
    .venv/bin/python bench/soak.py --rate 200         # skip the probe

Only loopback servers; the load is bounded in time and rate.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))
from bench.ingest import (  # noqa: E402
    ENCODERS,
    FIXTURES,
    Kind,
    Target,
    bearer,
    cpu_seconds,
    load_kinds,
    memory_mib,
    own_server,
    percentile,
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
    cpu_ms: float | None = None  # server CPU time per acknowledged envelope
    load: float = 0.0  # the machine's 1-minute load average at the end


@dataclass
class Soak:
    #: (seconds since the start, seconds covered, what it saw, server RSS in MiB)
    windows: list[tuple[float, float, Window, float | None]] = field(default_factory=list)
    current: Window = field(default_factory=Window)
    traces: list[tuple[Kind, str]] = field(default_factory=list)
    sent: int = 0
    rss_before_mib: float | None = None
    cpu_seconds: float | None = None  # the server's, at the last report
    lock: threading.Lock = field(default_factory=threading.Lock)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=float, default=600.0, help="soak seconds (max 600)")
    parser.add_argument("--probe", type=float, default=20.0, help="seconds to measure the max")
    parser.add_argument("--rate", type=float, default=0.0, help="envelopes/s; 0 = half the max")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--every", type=float, default=30.0, help="seconds per report line")
    parser.add_argument("--error-ratio", type=float, default=0.1)
    parser.add_argument("--read-back", type=int, default=500, help="traces to read back")
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


def probe(
    args: argparse.Namespace, target: Target, kinds: dict[str, Kind]
) -> tuple[float, Counter[str]]:
    """Acknowledged envelopes/s under unpaced load from ``args.connections`` threads,
    and how many of each kind were acknowledged."""
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
    return sum(stats.acked.values()) / max(elapsed, 1e-9), stats.acked


def soak(args: argparse.Namespace, target: Target, kinds: dict[str, Kind], rate: float) -> Soak:
    """Paced load: request n is due at start + n / rate, shared by all threads."""
    state = Soak(
        rss_before_mib=memory_mib(target.pid, "VmRSS"), cpu_seconds=cpu_seconds(target.pid)
    )
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
                state.sent += 1
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
    print(
        f"{'t (s)':>6} {'acked/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'RSS MiB':>8} "
        f"{'CPU ms/env':>10} {'load':>5}  non-2xx"
    )
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
    cpu = cpu_seconds(target.pid)
    if cpu is not None and state.cpu_seconds is not None and window.acked:
        window.cpu_ms = (cpu - state.cpu_seconds) * 1000 / window.acked
    state.cpu_seconds = cpu
    window.load = os.getloadavg()[0]
    length = elapsed - (state.windows[-1][0] if state.windows else 0.0)
    state.windows.append((elapsed, length, window, rss))
    lat = window.latencies_ms
    print(
        f"{elapsed:6.0f} {window.acked / max(length, 1e-9):8.1f} {percentile(lat, 50):8.1f} "
        f"{percentile(lat, 99):8.1f} {rss if rss is not None else float('nan'):8.1f} "
        f"{window.cpu_ms if window.cpu_ms is not None else float('nan'):10.1f} "
        f"{window.load:5.1f}  {window.failures or '-'}",
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
    if first.cpu_ms is not None and last.cpu_ms is not None:
        lines.append(f"server CPU     {first.cpu_ms:.1f} → {last.cpu_ms:.1f} ms per envelope")
    lines.append(f"machine load   {first.load:.1f} → {last.load:.1f} (1-minute average)")
    if rss0 is not None and rss1 is not None:
        before = state.rss_before_mib
        lines.append(
            f"server RSS     {rss0:.0f} MiB → {rss1:.0f} MiB ({rss1 - rss0:+.0f} MiB)"
            + (f", {before:.0f} MiB before the load" if before is not None else "")
        )
    return lines


def totals(state: Soak) -> list[str]:
    """Everything sent, acknowledged and refused over the whole soak."""
    acked = sum(w[2].acked for w in state.windows)
    failures: dict[str, int] = {}
    for *_, window, _ in state.windows:
        for status, count in window.failures.items():
            failures[status] = failures.get(status, 0) + count
    latencies = [ms for w in state.windows for ms in w[2].latencies_ms]
    duration = state.windows[-1][0] if state.windows else 0.0
    return [
        f"sent           {state.sent} envelopes in {duration:.0f} s",
        f"acknowledged   {acked} ({acked / max(duration, 1e-9):.1f}/s), p50 "
        f"{percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms",
        f"non-2xx        {sum(failures.values())} {failures or ''}".rstrip(),
    ]


def count_stored(target: Target, acked: Counter[str]) -> str:
    """Acknowledged against stored, per kind, counted by the API: a line with the lost count.

    Only meaningful on a server that holds nothing but this run's envelopes.
    """
    assert target.token
    with httpx.Client(base_url=target.server, headers=bearer(target.token), timeout=120) as api:
        period = {"period": "24h"}
        transactions = api.get("/api/v1/transactions", params=period).json()["transactions"]
        issues = api.get("/api/v1/issues", params=period).json()["issues"]
    stored = {
        "transaction": int(sum(t["count"] for t in transactions)),
        "error": sum(i["count"] for i in issues),
    }
    lost = sum(max(0, acked[k] - stored.get(k, 0)) for k in acked)
    counts = ", ".join(f"{k} {acked[k]} acknowledged / {stored.get(k, 0)} stored" for k in acked)
    return f"lost {lost} ({counts})"


def count_lost(target: Target, traces: list[tuple[Kind, str]], sample: int) -> str:
    """Read a sample of acknowledged traces back: a line with the lost count.

    Lost means acknowledged with a 200 but absent from the API afterwards;
    incomplete means present without all of its spans (or without its error).
    """
    if not target.token:
        return "skipped (no --token)"
    chosen = random.sample(traces, min(sample, len(traces)))

    def check(api: httpx.Client, kind: Kind, trace_id: str) -> str:
        response = api.get(f"/api/v1/traces/{trace_id}")
        if response.status_code != 200:
            return "lost"
        trace = response.json()
        if kind.template.span_count:
            complete = len(trace.get("spans", [])) == kind.template.span_count
        else:
            complete = len(trace.get("errors", [])) == 1
        return "complete" if complete else "incomplete"

    with (
        httpx.Client(base_url=target.server, headers=bearer(target.token), timeout=60) as api,
        ThreadPoolExecutor(4) as pool,
    ):
        outcomes = list(pool.map(lambda t: check(api, *t), chosen))
    lost, incomplete = outcomes.count("lost"), outcomes.count("incomplete")
    return f"a sample of {len(chosen)} traces read back: lost {lost}, incomplete {incomplete}"


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
        rate, acked = args.rate, Counter[str]()
        if not rate:
            maximum, acked = probe(args, target, kinds)
            rate = min(maximum / 2, MAX_RATE)
            print(f"measured max {maximum:.1f} envelopes/s; soaking at {rate:.1f}/s")
        state = soak(args, target, kinds, rate)
        print(*totals(state), *verdict(state, args.every), sep="\n", flush=True)
        if not args.server:  # its own server holds this run's envelopes and nothing else
            acked.update(kind.name for kind, _ in state.traces)
            print(f"stored         {count_stored(target, acked)}", flush=True)
        print(f"read back      {count_lost(target, state.traces, args.read_back)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
