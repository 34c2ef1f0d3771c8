"""Ingest benchmark: replay recorded Python SDK envelopes against glasspane.

Every request is a recorded envelope from ``tests/fixtures/envelopes/`` with new
ids and timestamps (see :mod:`bench.rewrite`), compressed as the Python SDK does
(``br`` by default) and posted to ``/api/<project>/envelope/`` from N threads,
each with one keep-alive connection, for a bounded time and request count.
Reports acknowledged envelopes/s and spans/s (HTTP 200 only: glasspane answers
200 after commit), p50/p99 latency, non-200 answers by status and the server's
peak RSS (VmHWM), then reads a few acknowledged traces back through the API.

    .venv/bin/python bench/ingest.py                      # starts its own server
    .venv/bin/python bench/ingest.py --duration 10 --connections 32 --error-ratio 0.1
    .venv/bin/python bench/ingest.py --server http://127.0.0.1:8000 \\
        --dsn http://KEY@127.0.0.1:8000/1 --token "$(cat DATA/admin-token)"

The generator shares the machine with the server; the summary shows its own CPU
use so a saturated generator is not mistaken for a slow server.
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from http.client import HTTPConnection, HTTPException, HTTPSConnection
from pathlib import Path
from urllib.parse import urlsplit

import brotli
import httpx

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))
from bench.rewrite import EnvelopeTemplate, parse_envelope, rewrite  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "envelopes"
ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "br": lambda body: brotli.compress(body, quality=4),  # the Python SDK's choice
    "gzip": lambda body: gzip.compress(body, compresslevel=9),
    "identity": lambda body: body,
}


@dataclass
class Target:
    """Where to send envelopes and how to read them back."""

    server: str
    ingest_url: str
    auth: str
    token: str | None
    pid: int | None


@dataclass
class Kind:
    """One kind of envelope in the mix: its template and its old trace id."""

    name: str
    template: EnvelopeTemplate
    trace_id: str


@dataclass
class Stats:
    started: float = field(default_factory=time.monotonic)
    sent: int = 0
    acked: Counter[str] = field(default_factory=Counter)
    spans: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    acked_traces: list[tuple[Kind, str]] = field(default_factory=list)  # with its trace id

    def record(self, kind: Kind, status: str, latency_ms: float, ids: dict[str, str]) -> None:
        if status != "200":
            self.failures[status] += 1
            return
        self.latencies_ms.append(latency_ms)
        self.acked[kind.name] += 1
        self.spans += kind.template.span_count
        self.acked_traces.append((kind, ids[kind.trace_id]))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--duration", type=float, default=20.0, help="seconds of load (default 20)")
    add("--max-requests", type=int, default=500_000, help="stop after this many requests")
    add("--connections", "-c", type=int, default=16, help="concurrent connections (default 16)")
    add("--error-ratio", type=float, default=0.0, help="share of error envelopes, 0..1")
    add("--encoding", choices=sorted(ENCODERS), default="br", help="Content-Encoding sent")
    add("--server", help="use this running server (URL) instead of starting one")
    add("--dsn", help="DSN of the project to send to (required with --server)")
    add("--token", default=os.environ.get("GLASSPANE_TOKEN"), help="admin token for read-back")
    add("--server-pid", type=int, help="pid to read peak RSS from (default: port's listener)")
    add("--verify", type=int, default=10, help="acknowledged traces to read back (default 10)")
    add("--progress", type=float, default=2.0, help="seconds between progress lines")
    add("--fixtures", type=Path, default=FIXTURES, help="directory of recorded envelopes")
    add("--seed", type=int, help="random seed, for a repeatable mix")
    add("--keep-data", action="store_true", help="keep the started server's data directory")
    args = parser.parse_args(argv)
    if args.server and not args.dsn:
        parser.error("--server needs --dsn (the project's DSN)")
    if not 0 <= args.error_ratio <= 1:
        parser.error("--error-ratio must be between 0 and 1")
    return args


def load_kinds(fixtures: Path) -> dict[str, Kind]:
    kinds = {}
    for name in ("transaction", "error"):
        body = (fixtures / f"python-{name}.envelope").read_bytes()
        trace_id = parse_envelope(body)[0]["trace"]["trace_id"]
        kinds[name] = Kind(name, EnvelopeTemplate.from_bytes(body), trace_id)
    return kinds


def target_from_dsn(server: str, dsn: str, token: str | None, pid: int | None) -> Target:
    parts = urlsplit(dsn)
    prefix, _, project_id = parts.path.rpartition("/")
    base = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return Target(
        server=server.rstrip("/"),
        ingest_url=f"{base}{prefix}/api/{project_id}/envelope/",
        auth=f"Sentry sentry_key={parts.username}, sentry_version=7",
        token=token,
        pid=pid,
    )


# -- the server under test ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def own_server(keep_data: bool) -> Iterator[Target]:
    """Start ``python -m glasspane serve`` on a free port; stop it and clean up after."""
    data_dir = Path(tempfile.mkdtemp(prefix="glasspane-bench-"))
    port = free_port()
    log_path = data_dir / "server.log"
    data = data_dir / "data"
    cmd = [sys.executable, "-m", "glasspane", "serve", "--data-dir", str(data), "--port", str(port)]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    with open(log_path, "wb") as log:
        process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        server = f"http://127.0.0.1:{port}"
        wait_healthy(server, process, log_path)
        token = (data / "admin-token").read_text().strip()
        projects = httpx.get(f"{server}/api/v1/projects", headers=bearer(token), timeout=10)
        projects.raise_for_status()
        dsn = next(p["dsn"] for p in projects.json()["projects"] if p["name"] == "default")
        print(f"started {' '.join(cmd[2:])} (pid {process.pid}, log {log_path})")
        yield target_from_dsn(server, dsn, token, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if not keep_data:
            shutil.rmtree(data_dir, ignore_errors=True)


def wait_healthy(server: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{server}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the server did not answer /healthz within 60 s:\n{log.read_text()}")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def listener_pid(port: int) -> int | None:
    """The pid of the local process listening on ``port``, found through /proc."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if any(
                os.readlink(f"/proc/{pid}/fd/{fd}") in inodes
                for fd in os.listdir(f"/proc/{pid}/fd")
            ):
                return int(pid)
        except OSError:
            continue
    return None


def memory_mib(pid: int | None, field_name: str) -> float | None:
    """``VmHWM`` (peak) or ``VmRSS`` (current) of ``pid`` in MiB, None if unknown."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1]) / 1024
    except (OSError, TypeError):
        pass
    return None


# -- load ----------------------------------------------------------------------------------


def run_load(args: argparse.Namespace, target: Target, kinds: dict[str, Kind]) -> Stats:
    """Post rewritten envelopes from ``args.connections`` threads until time or count is up.

    Threads with one stdlib keep-alive connection each, not httpx: on this
    workload httpx.AsyncClient cost ~5 ms of generator CPU per request and the
    sync client ~3 ms, against ~0.9 ms here, and the generator competes with the
    server for the same cores.
    """
    stats, lock = Stats(), threading.Lock()
    deadline = stats.started + args.duration
    url = urlsplit(target.ingest_url)
    connection_class = HTTPSConnection if url.scheme == "https" else HTTPConnection
    encode = ENCODERS[args.encoding]
    headers = {
        "X-Sentry-Auth": target.auth,
        "Content-Type": "application/x-sentry-envelope",
        "Content-Encoding": args.encoding,
    }

    def worker(rng: random.Random) -> None:
        connection = connection_class(url.netloc, timeout=30)
        while True:
            with lock:
                if time.monotonic() >= deadline or stats.sent >= args.max_requests:
                    break
                stats.sent += 1
            kind = kinds["error" if rng.random() < args.error_ratio else "transaction"]
            body, ids = rewrite(kind.template, time.time(), rng)
            content = encode(body)
            began = time.perf_counter()
            try:
                connection.request("POST", url.path, body=content, headers=headers)
                response = connection.getresponse()
                response.read()
                status = str(response.status)
            except (OSError, HTTPException) as exc:
                status = type(exc).__name__
                connection.close()  # the next request opens a new one
            latency_ms = (time.perf_counter() - began) * 1000
            with lock:
                stats.record(kind, status, latency_ms, ids)
        connection.close()

    seeds = random.Random(args.seed)
    threads = [
        threading.Thread(target=worker, args=(random.Random(seeds.random()),), daemon=True)
        for _ in range(args.connections)
    ]
    done = threading.Event()
    reporter = threading.Thread(target=report_progress, args=(stats, target, args.progress, done))
    for thread in [*threads, reporter]:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    reporter.join()
    return stats


def report_progress(stats: Stats, target: Target, every: float, done: threading.Event) -> None:
    """Print one line every ``every`` seconds until ``done`` is set."""
    last_acked, last_time = 0, stats.started
    while not done.wait(every):
        now, acked = time.monotonic(), sum(stats.acked.values())
        recent = stats.latencies_ms[last_acked:acked]
        print(
            f"[{now - stats.started:5.1f}s] acked {acked:7d}"
            f"  {(acked - last_acked) / (now - last_time):7.0f} envelopes/s"
            f"  non-200 {sum(stats.failures.values()):5d}"
            f"  p50 {percentile(recent, 50):6.1f} ms"
            f"  server RSS {fmt_mib(memory_mib(target.pid, 'VmRSS'))}",
            flush=True,
        )
        last_acked, last_time = acked, now


def percentile(values: list[float], pct: float) -> float:
    """Linear interpolation between order statistics; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def fmt_mib(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} MiB"


# -- read-back and summary -----------------------------------------------------------------


def read_back(target: Target, stats: Stats, count: int) -> tuple[int, int, str]:
    """Fetch ``count`` random acknowledged traces: (found, asked, a line to print)."""
    if not target.token:
        return 0, 0, "skipped (no --token)"
    sample = random.sample(stats.acked_traces, min(count, len(stats.acked_traces)))
    found = complete = 0
    with httpx.Client(base_url=target.server, headers=bearer(target.token), timeout=30) as api:
        for kind, trace_id in sample:
            response = api.get(f"/api/v1/traces/{trace_id}")
            if response.status_code != 200:
                print(
                    f"  {kind.name} trace {trace_id}: HTTP {response.status_code} {response.text}"
                )
                continue
            found += 1
            trace = response.json()
            if kind.template.span_count:
                complete += len(trace.get("spans", [])) == kind.template.span_count
            else:
                complete += len(trace.get("errors", [])) == 1
    line = f"{found}/{len(sample)} traces found, {complete} complete (all spans, or the error)"
    return found, len(sample), line


def summarize(args: argparse.Namespace, stats: Stats, elapsed: float, cpu: float) -> list[str]:
    acked = sum(stats.acked.values())
    failures = ", ".join(f"{k}: {v}" for k, v in stats.failures.most_common()) or "none"
    return [
        f"sent           {stats.sent} envelopes in {elapsed:.1f} s from {args.connections} "
        f"connections ({args.error_ratio:.0%} errors, Content-Encoding {args.encoding})",
        f"acknowledged   {acked} ({dict(stats.acked)})  {acked / elapsed:.1f} envelopes/s"
        f"  {stats.spans / elapsed:.1f} spans/s",
        f"latency        p50 {percentile(stats.latencies_ms, 50):.1f} ms"
        f"  p99 {percentile(stats.latencies_ms, 99):.1f} ms (HTTP 200 only)",
        f"non-200        {failures}",
        f"generator CPU  {cpu / elapsed:.0%} of one core",
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    kinds = load_kinds(args.fixtures)
    if args.server:
        port = urlsplit(args.server).port or 80
        pid = args.server_pid or listener_pid(port)
        server_cm: AbstractContextManager[Target] = nullcontext(
            target_from_dsn(args.server, args.dsn, args.token, pid)
        )
    else:
        server_cm = own_server(args.keep_data)
    with server_cm as target:
        print(f"sending to {target.ingest_url} for {args.duration:g} s (server pid {target.pid})")
        cpu_before, began = time.process_time(), time.monotonic()
        stats = run_load(args, target, kinds)
        elapsed, cpu = time.monotonic() - began, time.process_time() - cpu_before
        peak = memory_mib(target.pid, "VmHWM")
        lines = summarize(args, stats, elapsed, cpu)
        lines.append(f"server peak    {fmt_mib(peak)} RSS (VmHWM of pid {target.pid})")
        found, asked, line = read_back(target, stats, args.verify)
        lines.append(f"read-back      {line}")
    print("\n".join(["", "glasspane ingest benchmark", *lines]))
    return 0 if sum(stats.acked.values()) > 0 and found == asked else 1


if __name__ == "__main__":
    sys.exit(main())
