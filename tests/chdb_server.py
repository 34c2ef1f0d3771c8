"""ClickHouse's engine (chDB) behind the subset of ClickHouse's HTTP interface
that ``clickhouse-connect`` uses: a stand-in server for tests and benchmarks
on machines without ClickHouse (CI installs only from package registries).

Every statement runs in the one real ClickHouse engine of this process, so
several glasspane processes can share a database through
``clickhouse://127.0.0.1:PORT/db`` exactly as they share a server. What is
not ClickHouse here is only the HTTP framing: the query comes from the URL's
``query`` parameter and/or the body, results go back in the format asked
for, and ``INSERT ... FORMAT Arrow`` bodies are appended through chDB's
``Python()`` table function. When ``GLASSPANE_TEST_CLICKHOUSE_URL`` names a
real server, tests use that instead.

Run it alone: ``python tests/chdb_server.py --port 8123 --path DIR``.
"""

from __future__ import annotations

import argparse
import gzip
import re
import threading
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import lz4.frame
import pyarrow as pa
import zstandard

_FORMAT = re.compile(r"\s+FORMAT\s+(\w+)\s*;?\s*$", re.IGNORECASE)
_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+(.+?)\s+FORMAT\s+(\w+)\s*$", re.IGNORECASE | re.DOTALL)
_DECODERS = {
    "gzip": gzip.decompress,
    "deflate": zlib.decompress,
    "zstd": lambda b: zstandard.ZstdDecompressor().decompressobj().decompress(b),
    "lz4": lz4.frame.decompress,
}


class Engine:
    """One chDB session; statements run one at a time (chDB has one session per process)."""

    def __init__(self, path: Path) -> None:
        from chdb import session

        self.session = session.Session(str(path))
        self.lock = threading.Lock()

    def run(self, sql: str, fmt: str, database: str | None) -> bytes:
        with self.lock:
            if database:
                self.session.query(f"USE {database}")
            result = self.session.query(sql, fmt)
        return bytes(result.bytes()) if hasattr(result, "bytes") else bytes(result)

    def insert(self, target: str, fmt: str, body: bytes, database: str | None) -> None:
        if fmt.lower() != "arrow":
            raise ValueError(f"only FORMAT Arrow inserts are supported here, not {fmt}")
        incoming = (
            pa.ipc.open_stream(body).read_all()
            if body[:6] != b"ARROW1"
            else (pa.ipc.open_file(pa.BufferReader(body)).read_all())
        )
        names = ", ".join(f"`{n}`" for n in incoming.column_names)
        table = target.split("(")[0].strip()
        with self.lock:
            if database:
                self.session.query(f"USE {database}")
            self.session.query(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM Python(incoming)"
            )


class Handler(BaseHTTPRequestHandler):
    engine: Engine
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        if parts.path in ("/", "/ping"):
            self._reply(200, b"Ok.\n")
            return
        self._handle(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        encoding = (self.headers.get("Content-Encoding") or "").lower()
        if encoding in _DECODERS:
            body = _DECODERS[encoding](body)
        self._handle(body)

    def _handle(self, body: bytes) -> None:
        params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        database = params.get("database")
        query = params.get("query", "")
        try:
            insert = _INSERT.match(query) if query else None
            if insert:
                self.engine.insert(insert.group(1), insert.group(2), body, database)
                self._reply(200, b"")
                return
            sql = (query + ("\n" if query and body else "") + body.decode()).strip()
            fmt = params.get("default_format", "TabSeparated")
            match = _FORMAT.search(sql)
            if match:
                fmt, sql = match.group(1), sql[: match.start()]
            self._reply(200, self.engine.run(sql, fmt, database), fmt)
        except Exception as exc:  # the client reads ClickHouse's error text
            message = f"Code: 1000. DB::Exception: {exc}\n".encode()
            self._reply(500, message, exception=True)

    def _reply(self, status: int, data: bytes, fmt: str = "", exception: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Content-Type", "text/plain; charset=UTF-8")
        if fmt:
            self.send_header("X-ClickHouse-Format", fmt)
        self.send_header("X-ClickHouse-Server-Display-Name", "chdb")
        self.send_header("X-ClickHouse-Summary", '{"read_rows":"0","written_rows":"0"}')
        if exception:
            self.send_header("X-ClickHouse-Exception-Code", "1000")
        self.end_headers()
        self.wfile.write(data)


def serve(path: Path, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Start the server on a thread; ``server.server_address[1]`` is its port."""
    handler = type("BoundHandler", (Handler,), {"engine": Engine(path)})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="chdb-http", daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--path", type=Path, required=True)
    args = parser.parse_args()
    server = serve(args.path, args.host, args.port)
    print(f"ClickHouse (chDB) HTTP on {args.host}:{server.server_address[1]}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
