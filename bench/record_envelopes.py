"""Record real envelopes from the unmodified Python ``sentry_sdk`` as test fixtures.

A standard-library HTTP server on 127.0.0.1 (random port) captures what the SDK
posts while it reports one ``uploadDocument`` transaction with exactly ten child
spans (two levels deep), during which a nested function inside the
``registerOnBlockchain`` span raises; that error is captured with the custom
``blockchain`` context. Both envelopes therefore share one trace, and the error
points at the span where it happened.

Writes, in ``tests/fixtures/envelopes/``:

* ``python-transaction.envelope`` and ``python-error.envelope``: decompressed bodies;
* ``python-error.envelope.<content-encoding>`` (``br`` when ``brotli`` is
  installed, else ``gzip``): the error's body exactly as it was on the wire.

Run: ``.venv/bin/python bench/record_envelopes.py`` (re-runnable; overwrites).
"""

from __future__ import annotations

import gzip
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import orjson
import sentry_sdk

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))
from bench.rewrite import parse_envelope  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "envelopes"
TRANSACTION_NAME = "uploadDocument"


class BlockchainTimeoutError(TimeoutError):
    """The fault of the scenario: the blockchain node never answers."""


class CaptureHandler(BaseHTTPRequestHandler):
    """Stores ``(content-encoding, raw body)`` of every POST and answers like Sentry."""

    captured: ClassVar[list[tuple[str, bytes]]] = []

    def do_POST(self) -> None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self._read_chunked()
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.captured.append((self.headers.get("Content-Encoding", "identity"), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"id":"recorded"}')

    def _read_chunked(self) -> bytes:
        chunks = []
        while size := int(self.rfile.readline().split(b";")[0], 16):
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        self.rfile.readline()
        return b"".join(chunks)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep the recorder's output to the summary


def decompress(encoding: str, body: bytes) -> bytes:
    if encoding == "br":
        import brotli

        return bytes(brotli.decompress(body))
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj().decompress(body)
    return body


def child(op: str, name: str, seconds: float, **data: object) -> sentry_sdk.tracing.Span:
    """Start a span under the current one, with some data and a little real duration."""
    span = sentry_sdk.start_span(op=op, name=name)
    for key, value in data.items():
        span.set_data(key, value)
    time.sleep(seconds)
    return span


def wait_for_receipt(tx_hash: str, timeout_s: float) -> dict[str, str]:
    raise BlockchainTimeoutError(f"no receipt for {tx_hash} after {timeout_s}s from rpc-node-2")


def submit_transaction(document_id: str) -> dict[str, str]:
    tx_hash = "0x5e1f" + document_id.replace("-", "")
    return wait_for_receipt(tx_hash, timeout_s=12.0)


def upload_document(document_id: str) -> None:
    """One transaction, ten child spans; the last one fails and reports the error."""
    with sentry_sdk.start_transaction(op="http.server", name=TRANSACTION_NAME) as txn:
        txn.set_tag("document.type", "pdf")
        with child("function", "validateDocument", 0.002, **{"document.id": document_id}):
            with child(
                "db.query",
                "SELECT id, email FROM users WHERE id = %s",
                0.004,
                **{"db.system": "postgresql", "db.name": "documents"},
            ):
                pass
            with child("cache.get", "quota:user:42", 0.001, **{"cache.hit": True}):
                pass
        with child(
            "db.query",
            "INSERT INTO documents (id, owner_id, size) VALUES (%s, %s, %s)",
            0.006,
            **{"db.system": "postgresql", "db.rows_affected": 1},
        ):
            pass
        with child(
            "http.client",
            "PUT https://storage.internal/documents/" + document_id,
            0.003,
            **{"http.request.method": "PUT", "http.response.status_code": 200},
        ):
            with child("serialize", "compress document", 0.002, **{"document.bytes": 48213}):
                pass
            with child(
                "http.client",
                "POST https://scanner.internal/scan",
                0.005,
                **{"http.request.method": "POST", "http.response.status_code": 200},
            ):
                pass
        with child("function", "registerOnBlockchain", 0.001) as register:
            with child(
                "db.query",
                "SELECT nonce FROM wallets WHERE owner_id = %s",
                0.002,
                **{"db.system": "postgresql"},
            ):
                pass
            with child(
                "http.client",
                "POST https://rpc.sepolia.example/",
                0.02,
                **{"http.request.method": "POST", "rpc.method": "eth_sendRawTransaction"},
            ) as rpc:
                try:
                    submit_transaction(document_id)
                except BlockchainTimeoutError:
                    sentry_sdk.capture_exception()
                    rpc.set_status("deadline_exceeded")
                    register.set_status("internal_error")
                    txn.set_status("internal_error")


def record() -> list[tuple[str, bytes]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), CaptureHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    sentry_sdk.init(
        dsn=f"http://publickey@127.0.0.1:{port}/1",
        traces_sample_rate=1.0,
        release="upload-api@1.4.2",
        environment="production",
        server_name="upload-api-7f9c",
        send_client_reports=False,
    )
    sentry_sdk.set_user({"id": "42", "email": "demo@test.com", "username": "demo"})
    sentry_sdk.set_tag("service", "upload-api")
    sentry_sdk.set_context(
        "blockchain",
        {
            "network": "sepolia",
            "node": "rpc-node-2",
            "contract": "0x8f3cf7ad23cd3cadbd9735aff958023239c6a063",
            "gas_limit": 210000,
            "confirmations_required": 3,
        },
    )
    upload_document("doc-7d1e4b2a")
    sentry_sdk.flush(timeout=10)
    server.shutdown()
    server.server_close()
    return CaptureHandler.captured


def pick(captured: list[tuple[str, bytes]], item_type: str) -> tuple[str, bytes, bytes]:
    """The first captured ``(encoding, raw, decompressed)`` envelope holding ``item_type``."""
    for encoding, raw in captured:
        body = decompress(encoding, raw)
        if item_type in {h.get("type") for h, _ in parse_envelope(body)[1]}:
            return encoding, raw, body
    raise SystemExit(f"the SDK sent no {item_type!r} envelope; captured {len(captured)} bodies")


def main() -> None:
    captured = record()
    FIXTURES.mkdir(parents=True, exist_ok=True)
    _, _, transaction = pick(captured, "transaction")
    encoding, raw, error = pick(captured, "event")
    for stale in FIXTURES.glob("python-error.envelope.*"):
        stale.unlink()
    outputs = {
        "python-transaction.envelope": transaction,
        "python-error.envelope": error,
        f"python-error.envelope.{encoding}": raw,
    }
    for name, data in outputs.items():
        (FIXTURES / name).write_bytes(data)
        print(f"wrote {FIXTURES / name} ({len(data)} B)")
    payload = next(p for h, p in parse_envelope(transaction)[1] if h["type"] == "transaction")
    if (count := len(orjson.loads(payload)["spans"])) != 10:
        raise SystemExit(f"expected 10 child spans, the SDK sent {count}")


if __name__ == "__main__":
    main()
