"""``glasspane serve`` on an embedded store (DuckDB, chDB): ingest on every core.

Only one process may open an embedded database, and one process runs Python
on one core at a time. So the work is split (docs/decisions/009):

* **ingest worker processes** (``ingest_workers``, one per core by default)
  share the port: each parses, normalises and scrubs what SDKs send, appends it
  to its journal segment and answers 200 once that is fsynced
  (:mod:`glasspane.ingest.worker`); every other request they pass on to
* **this process**, which owns the store: it serves the API and the UI on a
  Unix socket, evaluates alerts, and feeds the journal into the store in large
  groups (:mod:`glasspane.journal.feeder`).

At start, whatever the journal holds from before (a crash, a kill -9) is fed
into the store before ingest opens. A worker that dies is started again; if
this process dies, the workers die with it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import click
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from glasspane import server_metrics
from glasspane.ingest import worker
from glasspane.ingest.buckets import SharedBuckets
from glasspane.instance import Instance
from glasspane.journal.feeder import JournalFeeder
from glasspane.settings import Config
from glasspane.web.app import create_app

log = logging.getLogger(__name__)


class IngestWorkers:
    """Starts the worker processes on ``sock``, restarts any that die, stops them all."""

    def __init__(self, config: Config, sock: socket.socket, api_socket: Path, count: int) -> None:
        self.config = config
        self.sock = sock
        self.api_socket = api_socket
        self.count = count
        self.run_id = f"{int(time.time()):x}{os.getpid():x}"
        self._processes: dict[int, tuple[subprocess.Popen[bytes], str]] = {}
        self._generation = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def start(self) -> None:
        for index in range(self.count):
            self._spawn(index)
        threading.Thread(target=self._watch, name="ingest-workers", daemon=True).start()

    def _spawn(self, index: int) -> None:
        self._generation += 1
        writer = f"{self.run_id}.{index}.{self._generation}"
        command = worker.command(self.sock.fileno(), writer, self.api_socket)
        process = subprocess.Popen(
            command, pass_fds=[self.sock.fileno()], env=worker.environment(self.config)
        )
        with self._lock:
            self._processes[index] = (process, writer)

    def _watch(self) -> None:
        while not self._stopping.wait(0.5):
            with self._lock:
                dead = [i for i, (p, _) in self._processes.items() if p.poll() is not None]
            for index in dead:
                if self._stopping.is_set():
                    return
                process, _ = self._processes[index]
                server_metrics.mark_process_dead(process.pid)
                log.warning(
                    "ingest worker %d ended (exit %s); starting another", index, process.returncode
                )
                self._spawn(index)

    def live_writers(self) -> set[str]:
        with self._lock:
            return {w for p, w in self._processes.values() if p.poll() is None}

    def pids(self) -> list[int]:
        with self._lock:
            return [p.pid for p, _ in self._processes.values() if p.poll() is None]

    def stop(self, timeout: float = 15.0) -> None:
        self._stopping.set()
        with self._lock:
            processes = [p for p, _ in self._processes.values()]
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class FreshReads:
    """Reads see what was acknowledged before them: each API or UI request first waits
    (at most :data:`FRESH_WAIT`) until the journal, as it is when the request arrives,
    is in the store. Under heavy ingest that wait is about one feeding round, which is
    a DuckDB commit of everything that arrived meanwhile (tens of milliseconds);
    ``--fresh-reads false`` turns it off, and reads may then be that far behind.
    """

    def __init__(self, app: ASGIApp, feeder: JournalFeeder) -> None:
        self.app = app
        self.feeder = feeder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(_NO_WAIT):
            behind = self.feeder.behind()
            if behind:
                await asyncio.to_thread(self.feeder.wait_for, behind, FRESH_WAIT)
        await self.app(scope, receive, send)


#: Paths that never wait for the journal (static files, liveness, and the status,
#: which shows how far behind it is).
_NO_WAIT = ("/static/", "/healthz", "/metrics", "/api/v1/status")
#: Longest wait of a read for what was acknowledged before it.
FRESH_WAIT = 1.0


def bind(config: Config) -> socket.socket:
    """The listening socket on ``--host``/``--port``, to be shared by child processes."""
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((config.host, config.port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _replay(feeder: JournalFeeder) -> None:
    """Feed what the journal holds from before this start, showing progress when it is much."""
    unfed = feeder.unfed_bytes()
    if not unfed:
        return
    started = time.monotonic()
    click.echo(f"Feeding {unfed / 1e6:.1f} MB left in the ingest journal into the store...")

    def progress(done: int, total: int) -> None:
        if total > 8 << 20:
            click.echo(f"  {done / 1e6:.1f} / {total / 1e6:.1f} MB")

    records = feeder.replay(progress)
    click.echo(f"  {records} requests fed in {time.monotonic() - started:.1f} s")


def ingest_worker_count(config: Config) -> int:
    configured = config.ingest_workers
    return configured if configured > 0 else max(1, os.cpu_count() or 1)


def run(config: Config, banner: Callable[[Config, Instance, int, int], None]) -> None:
    instance = Instance(config)
    data_dir = config.data_path
    runtime = Path(tempfile.mkdtemp(prefix="glasspane-"))  # short path: sun_path is 108 bytes
    server_metrics.prepare_multiprocess(runtime / "metrics")  # before any worker starts
    api_socket = runtime / worker.API_SOCKET
    workers: IngestWorkers | None = None
    feeder: JournalFeeder | None = None
    try:
        sock = bind(config)
        workers = IngestWorkers(config, sock, api_socket, ingest_worker_count(config))
        feeder = JournalFeeder(
            data_dir / worker.JOURNAL_DIR,
            instance.store.write,
            instance.store.journal_positions(),
            workers.live_writers,
        )
        server_metrics.register_lag_source(feeder.lag)
        _replay(feeder)
        worker.publish_projects(data_dir, instance.projects())
        instance.on_projects_changed = lambda projects: worker.publish_projects(data_dir, projects)
        SharedBuckets.reset(data_dir / worker.BUCKETS_FILE)
        app: ASGIApp = create_app(instance)
        if config.fresh_reads:
            app = FreshReads(app, feeder)
        api = _api_server(config, app, api_socket)
        workers.start()
        feeder.start()
        banner(config, instance, 1, workers.count)
        signal.signal(signal.SIGHUP, lambda *_: instance.alerts.reload())
        instance.alerts.start()
        api.run()
    finally:
        if workers is not None:
            workers.stop()
        if feeder is not None:
            feeder.stop()
        instance.close()
        shutil.rmtree(runtime, ignore_errors=True)


def _api_server(config: Config, app: ASGIApp, path: Path) -> uvicorn.Server:
    del config
    return uvicorn.Server(
        uvicorn.Config(
            app,
            uds=str(path),
            timeout_keep_alive=int(worker.PROXY_KEEP_ALIVE),
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=10,
            server_header=False,
            proxy_headers=True,
            forwarded_allow_ips="*",
        )
    )
