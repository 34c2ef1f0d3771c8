"""Ingest benchmark: replay recorded Python SDK envelopes against glasspane.

Every request is a recorded envelope from ``tests/fixtures/envelopes/`` with new
ids and timestamps (see :mod:`bench.rewrite`), compressed as the Python SDK does
(``br`` by default) and posted to ``/api/<project>/envelope/`` over N keep-alive
connections for a bounded time. Reports acknowledged envelopes/s and spans/s
(2xx only: glasspane answers 200 after commit), p50/p99 latency, non-2xx answers
by status, the server's CPU and peak RSS (VmHWM) and the generator's CPU, then
reads a few acknowledged traces back through the API.

Two drivers send the load:

* ``wrk`` (default when installed: ``apt-get install wrk``): the bodies are
  pre-generated (one fresh copy per request, in parallel processes), written to
  a temporary directory and replayed by ``bench/wrk_envelopes.lua``. wrk is C
  and needs a few percent of a core where the Python driver needs ~0.9 ms of
  CPU per request, so it can drive a server doing thousands of envelopes/s on
  the same small machine.
* ``python``: threads with one stdlib connection each, rewriting every envelope
  just before sending it; no pre-generation, no wrk needed.

    .venv/bin/python bench/ingest.py                      # starts its own server
    .venv/bin/python bench/ingest.py --duration 10 --connections 32 --error-ratio 0.1
    .venv/bin/python bench/ingest.py --driver python -c 16
    .venv/bin/python bench/ingest.py --server http://127.0.0.1:8000 \\
        --dsn http://KEY@127.0.0.1:8000/1 --token "$(cat DATA/admin-token)"

``--store clickhouse`` runs the server on a ClickHouse store, and ``--workers
1,2`` runs it once per worker count (``glasspane serve --workers N``), each on
a fresh database, and compares them. There is no ClickHouse server here: the
bench starts ``tests/chdb_server.py``, ClickHouse's engine (chDB) in one
Python process behind the HTTP interface clickhouse-connect speaks. That one
process serialises every statement, so it may be the bottleneck rather than
glasspane; its CPU is shown apart from the workers'.

    .venv/bin/python bench/ingest.py --store clickhouse --workers 1,2 --duration 20

The load is bounded: at most 300 s, 1024 connections, and only to a loopback
address. The generator shares the machine with the server; the summary shows
its CPU use so a saturated generator is not mistaken for a slow server.
"""

from __future__ import annotations

import argparse
import gzip
import ipaddress
import math
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
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.client import HTTPConnection, HTTPException, HTTPSConnection
from pathlib import Path
from urllib.parse import urlsplit

import brotli
import httpx

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))
from bench import wrk_driver  # noqa: E402
from bench.rewrite import EnvelopeTemplate, parse_envelope, rewrite  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "envelopes"
MAX_DURATION_S = 300.0
MAX_CONNECTIONS = 1024
MAX_WORKERS = 16
STORES = ("duckdb", "chdb", "clickhouse")
CHDB_SERVER = ROOT / "tests" / "chdb_server.py"
BODIES_PER_SECOND = 4000  # bodies pre-generated per second of --duration for wrk ...
MAX_BODIES = 80_000  # ... up to this many (~1.7 KB each with br)
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
    pid: int | None  # the server's; with --workers, the parent of the workers
    backend_pid: int | None = None  # the ClickHouse (chDB) HTTP server's, when we started one


@dataclass
class Kind:
    """One kind of envelope in the mix: its template and its old trace and event ids."""

    name: str
    template: EnvelopeTemplate
    trace_id: str
    event_id: str  # the envelope header's, which glasspane echoes in its answer


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


@dataclass
class Result:
    """What either driver measured, in the terms of the summary."""

    driver: str
    sent: int  # requests started
    elapsed: float  # seconds of load
    acked: Counter[str]  # 2xx answers by kind of envelope
    spans: int  # spans in the acknowledged envelopes
    failures: Counter[str]  # non-2xx answers by status, and transport errors
    p50_ms: float
    p99_ms: float
    latency_of: str  # which answers the percentiles cover
    generator_cpu: float  # CPU seconds of the load generator
    traces: list[tuple[Kind, str]]  # acknowledged (kind, trace id) to read back from
    notes: list[str] = field(default_factory=list)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add(
        "--driver",
        choices=("wrk", "python"),
        help="load generator: wrk (C; the default when installed) or python threads",
    )
    add("--duration", type=float, default=20.0, help="seconds of load (default 20, max 300)")
    add(
        "--max-requests",
        type=int,
        default=500_000,
        help="python driver: stop after this many requests",
    )
    add("--connections", "-c", type=int, default=16, help="concurrent connections (default 16)")
    add(
        "--matrix",
        type=parse_connections,
        help="run once per connection count (e.g. 1,4,16,64), each on a fresh server, and"
        " print a table of them",
    )
    add(
        "--bodies",
        type=int,
        help=f"wrk driver: distinct bodies to pre-generate (default {BODIES_PER_SECOND} per "
        f"second of --duration, at most {MAX_BODIES:,})",
    )
    add("--error-ratio", type=float, default=0.0, help="share of error envelopes, 0..1")
    add("--encoding", choices=sorted(ENCODERS), default="br", help="Content-Encoding sent")
    add("--server", help="use this running server (URL) instead of starting one")
    add("--dsn", help="DSN of the project to send to (required with --server)")
    add("--token", default=os.environ.get("GLASSPANE_TOKEN"), help="admin token for read-back")
    add("--server-pid", type=int, help="pid to read peak RSS from (default: port's listener)")
    add("--verify", type=int, default=10, help="acknowledged traces to read back (default 10)")
    add(
        "--serve-args",
        default="",
        help="more flags for the started server, e.g. '--ingest-workers 1'",
    )
    add(
        "--probe-api",
        action="store_true",
        help="time GET /api/v1/transactions when idle and every 0.25 s under the load",
    )
    add("--progress", type=float, default=2.0, help="seconds between progress lines")
    add("--fixtures", type=Path, default=FIXTURES, help="directory of recorded envelopes")
    add("--seed", type=int, help="random seed, for a repeatable mix")
    add("--keep-data", action="store_true", help="keep the started server's data directory")
    add(
        "--store",
        choices=STORES,
        default="duckdb",
        help="the started server's store: duckdb (default), chdb (ClickHouse's engine in the"
        " server process, fed by the ingest workers' journal) or clickhouse (on a chDB HTTP"
        " server the bench starts: tests/chdb_server.py)",
    )
    add(
        "--workers",
        type=parse_workers,
        default=[1],
        help="worker processes of the started server, comma-separated to compare"
        " (e.g. 1,2; more than 1 needs --store clickhouse)",
    )
    args = parser.parse_args(argv)
    if args.server and not args.dsn:
        parser.error("--server needs --dsn (the project's DSN)")
    if args.server and (args.store != "duckdb" or args.workers != [1]):
        parser.error("--store and --workers are for the server the bench starts, not --server")
    if max(args.workers) > 1 and args.store != "clickhouse":
        parser.error("--workers above 1 needs --store clickhouse (DuckDB is one process's)")
    if not 0 <= args.error_ratio <= 1:
        parser.error("--error-ratio must be between 0 and 1")
    if not 0 < args.duration <= MAX_DURATION_S:
        parser.error(f"--duration must be more than 0 and at most {MAX_DURATION_S:g} s")
    if not 1 <= args.connections <= MAX_CONNECTIONS:
        parser.error(f"--connections must be between 1 and {MAX_CONNECTIONS}")
    if args.bodies is None:
        args.bodies = min(MAX_BODIES, math.ceil(BODIES_PER_SECOND * args.duration))
    if args.bodies < wrk_driver.THREADS:
        parser.error(f"--bodies must be at least {wrk_driver.THREADS}")
    return args


def parse_counts(text: str, what: str, most: int) -> list[int]:
    """``1,4,16`` → [1, 4, 16], each between 1 and ``most``."""
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what} counts such as 1,2, not {text!r}") from None
    if not counts or not all(1 <= n <= most for n in counts):
        raise argparse.ArgumentTypeError(f"{what} counts between 1 and {most}, not {text!r}")
    return counts


def parse_workers(text: str) -> list[int]:
    return parse_counts(text, "worker", MAX_WORKERS)


def parse_connections(text: str) -> list[int]:
    return parse_counts(text, "connection", MAX_CONNECTIONS)


def load_kinds(fixtures: Path) -> dict[str, Kind]:
    kinds = {}
    for name in ("transaction", "error"):
        body = (fixtures / f"python-{name}.envelope").read_bytes()
        header = parse_envelope(body)[0]
        template = EnvelopeTemplate.from_bytes(body)
        kinds[name] = Kind(name, template, header["trace"]["trace_id"], header["event_id"])
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
def serve(
    directory: Path, log_path: Path, *extra: str, say: Callable[[str], None] = print
) -> Iterator[tuple[str, str, int]]:
    """``glasspane serve`` on ``directory`` and a free port: yields (URL, admin token, pid)."""
    port = free_port()
    cmd = [sys.executable, "-m", "glasspane", "serve", "--data-dir", str(directory)]
    cmd += ["--port", str(port), *extra]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    with open(log_path, "wb") as log:
        process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        server = f"http://127.0.0.1:{port}"
        wait_healthy(server, process, log_path)
        token = (directory / "admin-token").read_text().strip()
        say(f"started {' '.join(cmd[2:])} (pid {process.pid}, log {log_path})")
        yield server, token, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def own_server(
    keep_data: bool, store: str = "duckdb", workers: int = 1, serve_args: str = ""
) -> Iterator[Target]:
    """A server of our own on a fresh data directory, removed afterwards unless kept.

    ``store="clickhouse"``: on a fresh database of a chDB HTTP server started here.
    """
    data_dir = Path(tempfile.mkdtemp(prefix="glasspane-bench-"))
    try:
        with ExitStack() as stack:
            # --rate-limit 0: measure the server, not the per-key limit.
            extra = ["--rate-limit", "0", *serve_args.split()]
            backend_pid = None
            if store == "chdb":
                extra += ["--store", f"chdb://{data_dir / 'chdb'}"]
            if store == "clickhouse":
                url, backend_pid = stack.enter_context(
                    chdb_http_server(data_dir / "clickhouse", data_dir / "clickhouse.log")
                )
                extra += ["--store", url, "--workers", str(workers)]
            server, token, pid = stack.enter_context(
                serve(data_dir / "data", data_dir / "server.log", *extra)
            )
            projects = httpx.get(f"{server}/api/v1/projects", headers=bearer(token), timeout=10)
            projects.raise_for_status()
            dsn = next(p["dsn"] for p in projects.json()["projects"] if p["name"] == "default")
            target = target_from_dsn(server, dsn, token, pid)
            target.backend_pid = backend_pid
            yield target
    finally:
        if not keep_data:
            shutil.rmtree(data_dir, ignore_errors=True)


@contextmanager
def chdb_http_server(path: Path, log_path: Path) -> Iterator[tuple[str, int]]:
    """``tests/chdb_server.py`` on a free port: yields (the ``--store`` URL, its pid).

    One process running ClickHouse's engine (chDB) behind ClickHouse's HTTP
    interface; it runs one statement at a time, unlike a real server.
    """
    port = free_port()
    cmd = [sys.executable, str(CHDB_SERVER), "--port", str(port), "--path", str(path)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"chdb_server.py exited with {process.returncode}:\n"
                                 f"{log_path.read_text()}")  # fmt: skip
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ping", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"chdb_server.py did not answer within 60 s:\n{log_path.read_text()}"
                )
            time.sleep(0.1)
        print(f"started tests/chdb_server.py on port {port} (pid {process.pid}, log {log_path})")
        yield f"clickhouse://default:@127.0.0.1:{port}/bench", process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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


def process_tree(pid: int | None) -> list[int]:
    """``pid`` and its descendants (a server's worker processes), found through /proc."""
    if pid is None:
        return []
    children: dict[int, list[int]] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += children.get(current, [])
    return tree


def tree_cpu_seconds(pid: int | None) -> float | None:
    """CPU time of ``pid`` and its live descendants, None if ``pid`` is unknown."""
    times = [cpu_seconds(p) for p in process_tree(pid)]
    return None if not times or times[0] is None else sum(t for t in times if t is not None)


def tree_memory_mib(pid: int | None, field_name: str) -> float | None:
    """``memory_mib`` summed over ``pid`` and its descendants."""
    sizes = [memory_mib(p, field_name) for p in process_tree(pid)]
    return None if not sizes or sizes[0] is None else sum(s for s in sizes if s is not None)


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


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of ``pid`` (all its threads) so far, None if unknown."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, TypeError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def require_loopback(url: str) -> None:
    """Refuse to send load anywhere but this machine."""
    host = urlsplit(url).hostname or ""
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except OSError as exc:
        raise SystemExit(f"cannot resolve {host!r}: {exc}") from None
    if not addresses or not all(ipaddress.ip_address(a).is_loopback for a in addresses):
        raise SystemExit(
            f"refusing to send load to {host} ({', '.join(sorted(addresses))}): "
            "the benchmark only targets loopback addresses such as 127.0.0.1"
        )


# -- python driver -------------------------------------------------------------------------


def run_python(args: argparse.Namespace, target: Target, kinds: dict[str, Kind]) -> Result:
    """The python driver: rewrite and post from threads, measuring in-process."""
    cpu_before, began = time.process_time(), time.monotonic()
    stats = run_load(args, target, kinds)
    elapsed, cpu = time.monotonic() - began, time.process_time() - cpu_before
    return Result(
        driver="python",
        sent=stats.sent,
        elapsed=elapsed,
        acked=stats.acked,
        spans=stats.spans,
        failures=stats.failures,
        p50_ms=percentile(stats.latencies_ms, 50),
        p99_ms=percentile(stats.latencies_ms, 99),
        latency_of="HTTP 200 only",
        generator_cpu=cpu,
        traces=stats.acked_traces,
    )


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
            f"  server RSS {fmt_mib(tree_memory_mib(target.pid, 'VmRSS'))}",
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


# -- wrk driver ----------------------------------------------------------------------------


@dataclass
class Bodies:
    """Pre-generated request bodies: the files wrk reads and what is in each body."""

    data: Path  # the compressed bodies, concatenated
    index: Path  # their lengths in bytes, one a line
    kinds: list[str]  # per body
    trace_ids: list[str]  # per body
    by_event_id: dict[str, int]  # envelope event id -> body index


_worker_kinds: dict[str, Kind] = {}


def _init_worker(fixtures: Path) -> None:
    _worker_kinds.update(load_kinds(fixtures))


def _generate_chunk(job: tuple[int, float, float, str]) -> list[tuple[str, str, str, bytes]]:
    """``count`` bodies as ``(kind, event id, trace id, compressed body)``."""
    count, seed, error_ratio, encoding = job
    rng, encode, out = random.Random(seed), ENCODERS[encoding], []
    for _ in range(count):
        kind = _worker_kinds["error" if rng.random() < error_ratio else "transaction"]
        body, ids = rewrite(kind.template, time.time(), rng)
        out.append((kind.name, ids[kind.event_id], ids[kind.trace_id], encode(body)))
    return out


def pregenerate(args: argparse.Namespace, directory: Path) -> Bodies:
    """Write ``args.bodies`` fresh envelopes, rewritten and compressed in parallel."""
    total, chunk = args.bodies, 500
    seeds = random.Random(args.seed)
    jobs = [
        (min(chunk, total - start), seeds.random(), args.error_ratio, args.encoding)
        for start in range(0, total, chunk)
    ]
    bodies = Bodies(directory / "bodies.bin", directory / "index.txt", [], [], {})
    workers = min(os.cpu_count() or 1, len(jobs))
    tty = sys.stdout.isatty()
    began = last_line = time.monotonic()
    size = 0
    with (
        ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(args.fixtures,)) as pool,
        open(bodies.data, "wb") as data,
        open(bodies.index, "w") as index,
    ):
        for generated in pool.map(_generate_chunk, jobs):
            for kind, event_id, trace_id, body in generated:
                bodies.by_event_id[event_id] = len(bodies.kinds)
                bodies.kinds.append(kind)
                bodies.trace_ids.append(trace_id)
                data.write(body)
                index.write(f"{len(body)}\n")
                size += len(body)
            now, done = time.monotonic(), len(bodies.kinds)
            if tty or now - last_line >= args.progress or done == total:
                line = (
                    f"pre-generating bodies for wrk: {done:6d}/{total} ({done / total:4.0%})"
                    f"  {now - began:5.1f} s"
                )
                print(("\r" + line) if tty else line, end="" if tty else "\n", flush=True)
                last_line = now
    if tty:
        print()
    print(
        f"pre-generated {total} bodies ({size / total / 1024:.1f} KiB each on average, "
        f"{args.encoding}) in {time.monotonic() - began:.1f} s with {workers} processes"
    )
    return bodies


def run_wrk(
    args: argparse.Namespace, target: Target, kinds: dict[str, Kind], bodies: Bodies, wrk: str
) -> Result:
    """The wrk driver: replay the pre-generated bodies with ``bench/wrk_envelopes.lua``."""
    threads = min(wrk_driver.THREADS, args.connections)
    duration = max(1, math.ceil(args.duration))  # wrk takes whole seconds
    cmd = wrk_driver.command(
        wrk,
        target.ingest_url,
        bodies=bodies.data,
        index=bodies.index,
        threads=threads,
        connections=args.connections,
        duration_s=duration,
        auth=target.auth,
        encoding=args.encoding,
        sample=max(args.verify, 1) * 5,
    )
    cpu_before = tree_cpu_seconds(target.pid)

    def tick(elapsed: float) -> None:
        cpu = tree_cpu_seconds(target.pid)
        busy = "" if cpu is None or cpu_before is None else f"  {(cpu - cpu_before) / elapsed:4.0%}"
        print(
            f"[{elapsed:5.1f}s] wrk running; server RSS"
            f" {fmt_mib(tree_memory_mib(target.pid, 'VmRSS'))}"
            f"  server CPU{busy or ' n/a'} of one core since the start",
            flush=True,
        )

    run = wrk_driver.run(cmd, duration, tick, args.progress, bodies.data.with_name("wrk.out"))
    statuses: Counter[str] = Counter()
    acked: Counter[str] = Counter()
    sample: list[str] = []
    first_pass: list[int] = []
    for thread in run.threads:
        statuses.update(thread.statuses)
        # Which bodies got the 2xx answers is not known per request; count kinds as if
        # they were the first `acked` bodies the thread sent (exact for a one-kind mix).
        for position in range(thread.skipped, thread.skipped + thread.acked):
            acked[bodies.kinds[thread.first + position % thread.bodies]] += 1
        sample += thread.sample
        answered = min(thread.skipped + thread.acked, thread.bodies)
        first_pass += range(thread.first + thread.skipped, thread.first + answered)
    spans = sum(kinds[name].template.span_count * n for name, n in acked.items())
    failures = Counter({s: n for s, n in statuses.items() if not s.startswith("2")})
    failures.update({f"socket {kind}": n for kind, n in run.socket_errors.items()})
    # Read back the traces whose event ids the server echoed in 2xx answers; if it
    # echoed none that are known, fall back on the first bodies sent, as many as
    # were acknowledged (exact when every answer was 2xx).
    echoed = [bodies.by_event_id[e] for e in sample if e in bodies.by_event_id]
    notes = []
    if not echoed and first_pass:
        notes.append("read-back samples the first bodies sent: the server echoed no known event id")
    traces = [(kinds[bodies.kinds[i]], bodies.trace_ids[i]) for i in echoed or first_pass]
    wrapped = sum(max(0, t.wrapped - t.skipped) for t in run.threads)
    if wrapped:
        notes.append(
            f"wrk ran out of bodies and re-sent {wrapped} envelopes with ids already sent; "
            f"raise --bodies (now {args.bodies}) above the envelopes sent"
        )
    return Result(
        driver=f"wrk, {threads} threads",
        sent=sum(t.sent for t in run.threads),
        elapsed=run.duration_s,
        acked=acked,
        spans=spans,
        failures=failures,
        p50_ms=run.p50_ms,
        p99_ms=run.p99_ms,
        latency_of=f"all answers; max {run.max_ms:.1f} ms",
        generator_cpu=run.cpu_s,
        traces=traces,
        notes=notes,
    )


def choose_driver(requested: str | None) -> tuple[str, str | None]:
    """``(driver, path of wrk)``: wrk when asked or by default, if it is installed."""
    if requested == "python":
        return "python", None
    wrk = wrk_driver.find_wrk()
    if wrk is None:
        print(wrk_driver.INSTALL_HINT)
        return "python", None
    return "wrk", wrk


# -- read-back and summary -----------------------------------------------------------------


def read_back(target: Target, traces: list[tuple[Kind, str]], count: int) -> tuple[int, int, str]:
    """Fetch ``count`` random acknowledged traces: (found, asked, a line to print)."""
    if not target.token:
        return 0, 0, "skipped (no --token)"
    sample = random.sample(traces, min(count, len(traces)))
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


def summarize(args: argparse.Namespace, result: Result) -> list[str]:
    acked, elapsed = sum(result.acked.values()), result.elapsed
    failures = ", ".join(f"{k}: {v}" for k, v in result.failures.most_common()) or "none"
    return [
        f"driver         {result.driver}",
        f"sent           {result.sent} envelopes in {elapsed:.1f} s from {args.connections} "
        f"connections ({args.error_ratio:.0%} errors, Content-Encoding {args.encoding})",
        f"acknowledged   {acked} ({dict(result.acked)})  {acked / elapsed:.1f} envelopes/s"
        f"  {result.spans / elapsed:.1f} spans/s",
        f"latency        p50 {result.p50_ms:.1f} ms  p99 {result.p99_ms:.1f} ms"
        f" ({result.latency_of})",
        f"non-2xx        {failures}",
        f"generator CPU  {result.generator_cpu / elapsed:.0%} of one core"
        f" ({os.cpu_count()} cores here)",
        *(f"note           {note}" for note in result.notes),
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    kinds = load_kinds(args.fixtures)
    driver, wrk = choose_driver(args.driver)
    if args.server:
        require_loopback(target_from_dsn(args.server, args.dsn, None, None).ingest_url)
    measured: list[Measured] = []
    with ExitStack() as stack:
        bodies = None
        if driver == "wrk":
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="glasspane-wrk-")))
            bodies = pregenerate(args, work)  # reused by every run: each has a fresh database
        for workers in args.workers:
            for connections in args.matrix or [args.connections]:
                run_args = argparse.Namespace(**{**vars(args), "connections": connections})
                measured.append(run_once(run_args, kinds, driver, bodies, wrk, workers))
                print("\n".join(["", "glasspane ingest benchmark", *measured[-1].lines]))
    if args.matrix:
        print("\n".join(matrix_table(args, measured)))
    elif len(measured) > 1:
        print("\n".join(compare_workers(args, measured)))
    return 0 if all(m.ok for m in measured) else 1


class ApiProbe:
    """Times the transactions table through the API, idle and while the load runs."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.idle_ms: list[float] = []
        self.loaded_ms: list[float] = []
        self.after_ms: list[float] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _once(self) -> float:
        started = time.perf_counter()
        answer = httpx.get(
            f"{self.target.server}/api/v1/transactions",
            params={"period": "1h"},
            headers=bearer(self.target.token or ""),
            timeout=30,
        )
        answer.raise_for_status()
        return (time.perf_counter() - started) * 1000

    def idle(self, count: int = 20, into: list[float] | None = None) -> None:
        self._once()  # warm
        (self.idle_ms if into is None else into).extend(self._once() for _ in range(count))

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._done.wait(0.25):
            self.loaded_ms.append(self._once())

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def summary(self) -> str:
        def p(values: list[float], q: float) -> float:
            ordered = sorted(values)
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else math.nan

        before, loaded, after = (p(v, 0.95) for v in (self.idle_ms, self.loaded_ms, self.after_ms))
        return (
            f"API p95       GET /api/v1/transactions {loaded:.1f} ms under load "
            f"({len(self.loaded_ms)} calls), {after:.1f} ms idle after it on the same data "
            f"({loaded / after:.1f}x), {before:.1f} ms idle before it; medians "
            f"{p(self.loaded_ms, 0.5):.1f} / {p(self.after_ms, 0.5):.1f} ms"
        )


@dataclass
class Measured:
    """One run of the load against one server."""

    workers: int
    connections: int
    result: Result
    server_cpu: float | None  # cores busy, all the server's processes
    backend_cpu: float | None  # cores busy in the chDB HTTP server, if we started one
    peak_mib: float | None
    lines: list[str]
    ok: bool


def run_once(
    args: argparse.Namespace,
    kinds: dict[str, Kind],
    driver: str,
    bodies: Bodies | None,
    wrk: str | None,
    workers: int,
) -> Measured:
    """Start a server (unless ``--server``), send the load, read back, summarize."""
    with ExitStack() as stack:
        if args.server:
            port = urlsplit(args.server).port or 80
            pid = args.server_pid or listener_pid(port)
            target = target_from_dsn(args.server, args.dsn, args.token, pid)
        else:
            target = stack.enter_context(
                own_server(args.keep_data, args.store, workers, args.serve_args)
            )
            require_loopback(target.ingest_url)
        print(
            f"sending to {target.ingest_url} for {args.duration:g} s with {driver}"
            f" (server pid {target.pid}, {workers} worker process{'es' if workers > 1 else ''})"
        )
        probe = ApiProbe(target) if args.probe_api else None
        if probe is not None:
            probe.idle()
            probe.start()
        cpu = (tree_cpu_seconds(target.pid), cpu_seconds(target.backend_pid))
        if bodies is not None and wrk is not None:
            result = run_wrk(args, target, kinds, bodies, wrk)
        else:
            result = run_python(args, target, kinds)
        if probe is not None:
            probe.stop()
            probe.idle(into=probe.after_ms)  # idle again, on the data the load left
        cpu_end = (tree_cpu_seconds(target.pid), cpu_seconds(target.backend_pid))
        busy = [
            None if a is None or b is None else (b - a) / result.elapsed
            for a, b in zip(cpu, cpu_end, strict=True)
        ]
        peak = tree_memory_mib(target.pid, "VmHWM")
        lines = summarize(args, result)
        if busy[0] is not None:
            lines.append(
                f"server CPU     {busy[0]:.0%} of one core (pid {target.pid} and its workers)"
            )
        lines.append(f"server peak    {fmt_mib(peak)} RSS (VmHWM, summed over its processes)")
        if probe is not None:
            lines.append(probe.summary())
        if target.backend_pid is not None:
            lines += [
                f"store          {args.store} with {workers} glasspane worker process(es), on"
                " tests/chdb_server.py: ONE chDB process behind ClickHouse's HTTP interface,",
                "               running one statement at a time; it may be the bottleneck,"
                " not glasspane",
                f"chDB CPU       {busy[1] or 0:.0%} of one core (pid {target.backend_pid})",
            ]
        found, asked, line = read_back(target, result.traces, args.verify)
        lines.append(f"read-back      {line}")
    ok = sum(result.acked.values()) > 0 and found == asked
    return Measured(workers, args.connections, result, busy[0], busy[1], peak, lines, ok)


def matrix_table(args: argparse.Namespace, measured: list[Measured]) -> list[str]:
    """The runs by connection count, as a Markdown table."""
    kind = "error events" if args.error_ratio >= 1 else "envelopes"
    lines = [
        "",
        f"glasspane ingest, {args.store} store, {args.duration:g} s per run, {args.encoding},"
        f" load average {os.getloadavg()[0]:.1f} at the end",
        "",
        f"| connections | {kind}/s | spans/s | p50 | p99 | non-2xx | server CPU | peak RSS |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in measured:
        r = m.result
        rate = sum(r.acked.values()) / r.elapsed
        cpu = "n/a" if m.server_cpu is None else f"{m.server_cpu:.0%}"
        lines.append(
            f"| {m.connections} | {rate:,.0f} | {r.spans / r.elapsed:,.0f} | {r.p50_ms:.1f} ms"
            f" | {r.p99_ms:.1f} ms | {sum(r.failures.values())} | {cpu} | {fmt_mib(m.peak_mib)} |"
        )
    return lines


def compare_workers(args: argparse.Namespace, measured: list[Measured]) -> list[str]:
    """The runs side by side, with throughput relative to the first."""
    base = sum(measured[0].result.acked.values()) / measured[0].result.elapsed
    lines = [
        "",
        f"glasspane ingest, {args.store} store, by worker processes"
        f" ({args.duration:g} s each, {args.connections} connections, fresh database each)",
        f"{'workers':>7}{'envelopes/s':>13}{'spans/s':>10}{'vs first':>10}{'p50 ms':>9}"
        f"{'p99 ms':>9}{'non-2xx':>9}{'glasspane CPU':>15}{'chDB CPU':>10}{'peak RSS':>12}",
    ]
    for m in measured:
        r = m.result
        rate = sum(r.acked.values()) / r.elapsed
        lines.append(
            f"{m.workers:>7}{rate:>13.1f}{r.spans / r.elapsed:>10.0f}{rate / base:>9.2f}x"
            f"{r.p50_ms:>9.1f}{r.p99_ms:>9.1f}{sum(r.failures.values()):>9}"
            f"{fmt_cores(m.server_cpu):>15}{fmt_cores(m.backend_cpu):>10}{fmt_mib(m.peak_mib):>12}"
        )
    lines.append(
        f"(CPU in cores busy; this machine has {os.cpu_count()} cores, load average"
        f" {os.getloadavg()[0]:.1f} now)"
    )
    if args.store == "clickhouse":
        lines.append(
            "note: the ClickHouse side here is one chDB process behind HTTP (tests/chdb_server.py),"
            " not a ClickHouse server: it runs one statement at a time and may be the bottleneck"
        )
    return lines


def fmt_cores(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


if __name__ == "__main__":
    sys.exit(main())
