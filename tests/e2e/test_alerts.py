"""Alerts end to end: real sentry-sdk traffic across a threshold and back, real
local receivers (an HTTP capture server, an aiosmtpd SMTP server)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from aiosmtpd.controller import Controller

from e2e.services import Service
from serverproc import RunningServer, free_port
from waiting import wait_until

pytestmark = pytest.mark.e2e


class Capture(BaseHTTPRequestHandler):
    posts: ClassVar[list[tuple[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Capture.posts.append((self.path, json.loads(body)))
        status = 500 if self.path == "/fail" else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


RULES = """
alerts:
  - name: "Blockchain indexer degraded"
    conditions:
      - service: alert-indexer
      - error_rate: "> 50%"
      - window: 8 seconds
    actions:
      - slack: "#engineering-alerts"
      - pagerduty: blockchain-oncall
      - email: oncall@example.com
      - webhook: "http://127.0.0.1:{http}/hook"
  - name: "Flaky receiver"
    conditions: [{{service: alert-indexer}}, {{error_rate: "> 50%"}}, {{window: 8 seconds}}]
    actions: [{{webhook: "http://127.0.0.1:{http}/fail"}}]
  - name: "Case creation failures"
    conditions: [{{service: alert-indexer}}, {{failure_rate: "> ten%"}}]
settings:
  slack: {{"#engineering-alerts": "http://127.0.0.1:{http}/slack"}}
  pagerduty: {{url: "http://127.0.0.1:{http}/pd", keys: {{blockchain-oncall: R0UTING}}}}
  email: {{host: 127.0.0.1, port: {smtp}, from: alerts@glasspane.test}}
"""


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("alerts")
    http = ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    rules = folder / "alerts.yaml"
    rules.write_text(RULES.format(http=http.server_address[1], smtp=smtp.port))
    server = RunningServer(
        folder / "data",
        None,
        "--alerts",
        str(rules),
        "--alert-interval",
        "1",
        "--alert-retry-delay",
        "0.1",
    ).start()
    project = server.project("alert-indexer")
    service = Service("flask_service.py", {"SENTRY_DSN": project["dsn"]}).wait_ready()
    yield {"server": server, "service": service, "mailbox": mailbox, "rules": rules}
    service.stop()
    server.stop()
    smtp.stop()
    http.shutdown()
    http.server_close()


def _alerts(server: RunningServer) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in server.api("GET", "/api/v1/alerts").json()["rules"]}


def _rule(server: RunningServer, name: str, until: Callable[[dict[str, Any]], Any]) -> Any:
    """The rule as ``GET /api/v1/alerts`` shows it, once ``until`` holds for it."""
    return wait_until(lambda: _alerts(server)[name], 30, until, 0.3, f"alert rule {name!r}")


def _traffic(service: Service, fail: bool, seconds: float) -> None:
    end = time.monotonic() + seconds
    with httpx.Client(timeout=10) as client:
        while time.monotonic() < end:
            client.post(f"{service.url}/process", params={"fail": int(fail)})
            time.sleep(0.1)
    httpx.get(service.url + "/flush", timeout=20)


def posts(path: str) -> list[Any]:
    return [body for where, body in Capture.posts if where == path]


def test_fires_then_resolves_with_one_notification_per_action(setup) -> None:
    server, service, mailbox = setup["server"], setup["service"], setup["mailbox"]
    broken = _alerts(server)["Case creation failures"]
    assert broken["state"] == "invalid"
    assert broken["error"] == (
        'Alert rule 3 ("Case creation failures"): failure_rate: '
        "'> ten%' is not a comparison; write e.g. failure_rate: \"> 5%\""
    )

    _traffic(service, fail=True, seconds=3)
    firing = _rule(server, "Blockchain indexer degraded", lambda r: r["state"] == "firing")
    # Every /process request failed; the service's own /flush transactions did not.
    assert 0.5 < firing["value"] <= 1.0 and firing["threshold"] == 0.5
    wait_until(
        lambda: [posts("/slack"), posts("/pd"), posts("/hook"), mailbox.messages], 30, all, 0.3
    )
    [slack] = posts("/slack")
    assert "*Blockchain indexer degraded* is FIRING" in slack["text"]
    shown = re.search(
        r"error_rate (\d+\.\d)% \(threshold > 50\.0%\) over 8 seconds for service alert-indexer",
        slack["text"],
    )
    assert shown and float(shown.group(1)) > 50, slack["text"]
    assert "TransactionTimeoutError" in slack["text"]  # the recent errors
    [trigger] = posts("/pd")
    assert trigger["event_action"] == "trigger" and trigger["routing_key"] == "R0UTING"
    assert trigger["payload"]["custom_details"]["value"] > 0.5
    [hook] = posts("/hook")
    assert hook["state"] == "firing" and hook["rule"] == "Blockchain indexer degraded"
    [mail] = mailbox.messages
    assert mail.rcpt_tos == ["oncall@example.com"]
    assert b"Subject: [glasspane] Blockchain indexer degraded is firing" in mail.content

    _traffic(service, fail=False, seconds=10)
    resolved = _rule(server, "Blockchain indexer degraded", lambda r: r["state"] == "ok")
    assert [h["state"] for h in resolved["history"] if "state" in h] == ["firing", "resolved"]
    wait_until(
        lambda: [len(posts(p)) for p in ("/pd", "/slack", "/hook")] + [len(mailbox.messages)],
        30,
        lambda counts: counts == [2, 2, 2, 2],
        0.3,
        "two notifications on every channel",
    )
    resolve = posts("/pd")[1]
    assert resolve["event_action"] == "resolve" and resolve["dedup_key"] == trigger["dedup_key"]
    assert "is RESOLVED" in posts("/slack")[1]["text"]


def test_a_failing_receiver_is_retried_and_recorded(setup) -> None:
    server = setup["server"]
    flaky = _rule(server, "Flaky receiver", lambda r: r["last_notification"])
    note = flaky["last_notification"]
    assert note["ok"] is False and note["attempts"] == 5
    assert "500" in note["error"]
    assert len(posts("/fail")) >= 5


def test_reload_reports_a_broken_file_and_keeps_the_rules(setup) -> None:
    server, rules = setup["server"], setup["rules"]
    good = rules.read_text()
    try:
        # As the scenario prints it, unquoted: loads, read as meant.
        rules.write_text(good.replace('error_rate: "> 50%"', "error_rate: > 50%", 1))
        answer = server.api("POST", "/api/v1/alerts/reload").json()
        assert answer["reloaded"] is True, answer
        assert _alerts(server)["Blockchain indexer degraded"]["conditions"][0] == "error_rate > 50%"
        # A YAML mistake outside the rules refuses the file, naming the line.
        lines = len(good.splitlines())
        rules.write_text(good.rstrip("\n") + "\nextra: {a: [b}\n")
        answer = server.api("POST", "/api/v1/alerts/reload").json()
        assert answer["reloaded"] is False
        assert f"is not valid YAML: line {lines + 1}, column" in answer["error"]
        assert "Blockchain indexer degraded" in _alerts(server)
    finally:
        rules.write_text(good)
        server.api("POST", "/api/v1/alerts/reload")


def test_state_survives_a_restart(setup, tmp_path: Path) -> None:
    server = setup["server"]
    before = _alerts(server)["Blockchain indexer degraded"]
    server.stop()
    server.start()
    after = _alerts(server)["Blockchain indexer degraded"]
    assert after["state"] == before["state"] and after["history"] == before["history"]
