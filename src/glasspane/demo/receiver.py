"""The local receiver the demo's alert rules notify: Slack-style and generic
webhooks, the PagerDuty Events API, and SMTP. It prints a line per
notification and keeps the last ones for ``/status``.

Only 127.0.0.1. The SMTP side speaks just enough of RFC 5321 (HELO/EHLO, MAIL,
RCPT, DATA, RSET, NOOP, QUIT) for a client to deliver a message.
"""

from __future__ import annotations

import json
import socketserver
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_BODY = 1024 * 1024
MAX_SMTP_LINES = 20_000
KEPT = 200


@dataclass(frozen=True)
class Notification:
    at: float
    channel: str  # slack #engineering-alerts, pagerduty, webhook /blockchain, email
    summary: str


class Inbox:
    def __init__(self, on_arrival: Callable[[Notification], None]) -> None:
        self._items: deque[Notification] = deque(maxlen=KEPT)
        self._lock = threading.Lock()
        self.on_arrival = on_arrival

    def add(self, channel: str, summary: str) -> None:
        item = Notification(time.time(), channel, summary[:300])
        with self._lock:
            self._items.append(item)
        self.on_arrival(item)

    def items(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(n) for n in self._items]


def describe(path: str, body: bytes) -> tuple[str, str]:
    """The channel and a one-line summary of a webhook post (pure)."""
    try:
        payload: Any = json.loads(body)
    except ValueError:
        payload = None
    if path.startswith("/slack/"):
        channel = "slack #" + path.removeprefix("/slack/")
        text = payload.get("text") if isinstance(payload, dict) else None
        return channel, (str(text) if text else body.decode(errors="replace")).splitlines()[0]
    if path.startswith("/pagerduty") and isinstance(payload, dict):
        inner = payload.get("payload") or {}
        summary = inner.get("summary", "") if isinstance(inner, dict) else ""
        action = payload.get("event_action", "?")
        return "pagerduty", f"{action}: {summary} (dedup_key {payload.get('dedup_key')})"
    return "webhook " + path, json.dumps(payload)[:300] if payload is not None else body[
        :300
    ].decode(errors="replace")


class _Webhooks(BaseHTTPRequestHandler):
    inbox: Inbox

    def do_POST(self) -> None:
        length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
        channel, summary = describe(self.path, self.rfile.read(length))
        self.inbox.add(channel, summary)
        answer = b'{"status":"success"}' if self.path.startswith("/pagerduty") else b"ok"
        self.send_response(202 if self.path.startswith("/pagerduty") else 200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Smtp(socketserver.StreamRequestHandler):
    inbox: Inbox
    timeout = 30

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 glasspane-demo ESMTP")
        recipients: list[str] = []
        for _ in range(MAX_SMTP_LINES):
            line = self.rfile.readline(4096)
            if not line:
                return
            verb = line[:4].upper()
            if verb in (b"HELO", b"EHLO"):
                self.reply("250 glasspane-demo")
            elif verb == b"RCPT":
                recipients.append(line[8:].strip().decode(errors="replace").strip("<>"))
                self.reply("250 OK")
            elif verb == b"DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                self._message(recipients)
                recipients = []
                self.reply("250 OK: delivered")
            elif verb == b"QUIT":
                self.reply("221 Bye")
                return
            else:  # MAIL, RSET, NOOP and anything else
                self.reply("250 OK")

    def _message(self, recipients: list[str]) -> None:
        data = bytearray()
        for _ in range(MAX_SMTP_LINES):
            line = self.rfile.readline(65536)
            if not line or line in (b".\r\n", b".\n"):
                break
            data += line[1:] if line.startswith(b"..") else line
        subject = message_from_bytes(bytes(data)).get("Subject", "(no subject)")
        self.inbox.add("email " + ", ".join(recipients), str(subject))


class _SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class Receiver:
    """Both listeners on free 127.0.0.1 ports, served by daemon threads."""

    def __init__(self, inbox: Inbox) -> None:
        webhooks = type("Webhooks", (_Webhooks,), {"inbox": inbox})
        smtp = type("Smtp", (_Smtp,), {"inbox": inbox})
        self.inbox = inbox
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), webhooks)
        self._http.daemon_threads = True
        self._smtp = _SmtpServer(("127.0.0.1", 0), smtp)
        for server in (self._http, self._smtp):
            threading.Thread(target=server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    @property
    def smtp_port(self) -> int:
        return int(self._smtp.server_address[1])

    def close(self) -> None:
        for server in (self._http, self._smtp):
            server.shutdown()
            server.server_close()
