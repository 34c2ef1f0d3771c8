"""An ingest worker process: HTTP ingest on the shared port, into the journal.

``glasspane serve`` on an embedded store (DuckDB, chDB) starts one of these per
core (``ingest_workers``). Each accepts connections on the port the server
process bound, and for ingest paths does everything a request needs (limits,
decompression, parsing, normalising, scrubbing) on its own core, appends the
resulting batch to its own journal segment and answers 200 once that is
fsynced. The server process, which alone may open the database, feeds the
journal into the store (``glasspane.journal.feeder``).

Any other path (the API, the UI, ``/healthz``) is passed on unchanged to the
server process over a Unix socket in the data directory, so the one port
serves everything. Projects (DSN keys) come from the file the server process
publishes on every change (``projects.json``), re-read when it changes.

The worker dies with the server process (``PR_SET_PDEATHSIG``): what it has
acknowledged is in the journal, and the next start replays it.
"""

from __future__ import annotations

import argparse
import ctypes
import dataclasses
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from concurrent.futures import Future
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from glasspane.domain import Batch, Project
from glasspane.ingest.app import create_ingest_app
from glasspane.ingest.buckets import SharedBuckets
from glasspane.ingest.cors import is_ingest_path
from glasspane.journal.segments import encode
from glasspane.journal.writer import JournalWriter
from glasspane.settings import Config
from glasspane.store.rows import span_row

log = logging.getLogger(__name__)

PROJECTS_FILE = "projects.json"
BUCKETS_FILE = "ratelimits.bin"
API_SOCKET = "api.sock"
JOURNAL_DIR = "journal"
#: How much lower the workers' scheduling priority is than the server process's.
WORKER_NICENESS = 5
#: Seconds the server process keeps an idle proxied connection open.
PROXY_KEEP_ALIVE = 300.0
#: Environment variable carrying the resolved settings to a worker (JSON).
SETTINGS_ENV = "GLASSPANE_WORKER_SETTINGS"


# -- projects ------------------------------------------------------------------
def publish_projects(data_dir: Path, projects: list[Project]) -> None:
    """Write the projects file the workers read (atomically: write, then rename)."""
    path = data_dir / PROJECTS_FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(json.dumps([asdict(p) for p in projects]).encode())
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


class ProjectsFile:
    """The projects, from the file the server process publishes.

    Re-read when its modification time changes: checked once a second, and
    on every unknown key (a ``stat``; random keys cannot turn into a read each,
    as the file is read only when it changed).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._by_key: dict[str, Project] = {}
        self._stamp: int | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self._load()

    def _load(self) -> None:
        self._checked = time.monotonic()
        try:
            stamp = self.path.stat().st_mtime_ns
            if stamp == self._stamp:
                return
            projects = [Project(**p) for p in json.loads(self.path.read_bytes())]
        except (OSError, ValueError, TypeError) as exc:
            log.warning("cannot read %s: %s", self.path, exc)
            return
        with self._lock:
            self._by_key = {p.public_key: p for p in projects}
            self._stamp = stamp

    def project_by_key(self, key: str) -> Project | None:
        age = time.monotonic() - self._checked
        if age > 1.0:
            self._load()
        found = self._by_key.get(key)
        if found is None:
            self._load()
            found = self._by_key.get(key)
        return found


class WorkerTarget:
    """Ingest in a worker: projects from the file, batches into the journal."""

    def __init__(self, config: Config, projects: ProjectsFile, journal: JournalWriter) -> None:
        self.config = config
        self._projects = projects
        self._journal = journal

    def project_by_key(self, key: str) -> Project | None:
        return self._projects.project_by_key(key)

    def write(self, batch: Batch) -> Future[None]:
        # Spans travel as store rows: cheaper to pickle than the objects, and the
        # server process, which every request's data passes through, need not build them.
        now = time.time()
        rows = [span_row(span, now) for span in batch.spans]
        return self._journal.append(encode(dataclasses.replace(batch, spans=[], span_rows=rows)))


# -- everything else goes to the server process ---------------------------------------------
_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)


class ServerProxy:
    """Passes a request to the server process's Unix socket and streams the answer back."""

    def __init__(self, socket_path: Path) -> None:
        self.socket_path = socket_path
        # The transport, not a client: a client would keep the cookies of one
        # browser's answers and send them with everyone's requests. Idle connections
        # are closed here long before the server process would close them
        # (PROXY_KEEP_ALIVE), so a request never goes out on a closing connection.
        self._transport = httpx.AsyncHTTPTransport(
            uds=str(socket_path),
            retries=1,
            limits=httpx.Limits(keepalive_expiry=PROXY_KEEP_ALIVE / 10),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _HOP_BY_HOP]
        client = scope.get("client")
        if client:
            headers.append((b"x-forwarded-for", client[0].encode()))
        headers.append((b"x-forwarded-proto", scope.get("scheme", "http").encode()))
        url = "http://glasspane" + scope.get("root_path", "") + scope["path"]
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")
        # The Host header goes along as the client sent it: links and the forms'
        # same-origin check in the server process depend on it.
        request = httpx.Request(
            scope["method"],
            url,
            headers=headers,
            content=bytes(body),
            extensions={"timeout": {"connect": 5.0, "read": 300.0, "write": 60.0, "pool": 60.0}},
        )
        try:
            response = await self._send(request, scope["method"])
        except httpx.HTTPError as exc:
            await _unavailable(send, f"The glasspane server process does not answer: {exc}")
            return
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [  # uvicorn adds its own Date
                        (k, v)
                        for k, v in response.headers.raw
                        if k.lower() not in _HOP_BY_HOP and k.lower() != b"date"
                    ],
                }
            )
            assert isinstance(response.stream, httpx.AsyncByteStream)
            async for chunk in response.stream:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await response.aclose()

    async def _send(self, request: httpx.Request, method: str) -> httpx.Response:
        try:
            return await self._transport.handle_async_request(request)
        except httpx.RemoteProtocolError:
            if method not in ("GET", "HEAD", "OPTIONS"):
                raise
            # once more, on a new connection
            return await self._transport.handle_async_request(request)


async def _unavailable(send: Send, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"retry-after", b"1")]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class WorkerApp:
    """Ingest paths here, everything else to the server process."""

    def __init__(self, ingest: ASGIApp, proxy: ServerProxy) -> None:
        self.ingest = ingest
        self.proxy = proxy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_ingest_path(scope["path"]):
            await self.ingest(scope, receive, send)
        elif scope["type"] == "lifespan":
            while True:
                message = await receive()
                kind = message["type"].replace("lifespan.", "")
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        else:
            await self.proxy(scope, receive, send)


# -- the process -------------------------------------------------------------------
def _die_with_parent() -> None:
    """Ask Linux to kill this process when the server process ends, however it ends."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the parent terminates us on exit
        pass


def run(config: Config, fd: int, writer: str, parent: int, api_socket: Path) -> None:
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before we asked
        return
    # Below the server process in the scheduler's eyes: when the cores are busy, the
    # API and the feeder (which keeps the journal short) go first; ingest takes the rest.
    os.nice(WORKER_NICENESS)
    data_dir = config.data_path
    sock = socket.socket(fileno=fd)
    journal = JournalWriter(data_dir / JOURNAL_DIR, writer)
    buckets = SharedBuckets(data_dir / BUCKETS_FILE)
    target = WorkerTarget(config, ProjectsFile(data_dir / PROJECTS_FILE), journal)
    app = WorkerApp(create_ingest_app(target, buckets), ServerProxy(api_socket))
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=10,
            server_header=False,
            lifespan="on",
        )
    )
    try:
        server.run(sockets=[sock])
    finally:
        journal.close()
        buckets.close()


def command(fd: int, writer: str, api_socket: Path) -> list[str]:
    """The command line that starts a worker (the settings travel in the environment)."""
    module = "glasspane.ingest.worker"
    return [sys.executable, "-m", module, str(fd), writer, str(os.getpid()), str(api_socket)]


def environment(config: Config) -> dict[str, str]:
    return {**os.environ, SETTINGS_ENV: json.dumps(dict(config.values))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="glasspane ingest worker (started by serve)")
    parser.add_argument("fd", type=int)
    parser.add_argument("writer")
    parser.add_argument("parent", type=int)
    parser.add_argument("api_socket", type=Path)
    args = parser.parse_args(argv)
    values: dict[str, Any] = json.loads(os.environ[SETTINGS_ENV])
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    run(Config.from_values(values), args.fd, args.writer, args.parent, args.api_socket)


if __name__ == "__main__":
    main()
