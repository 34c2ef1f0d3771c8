"""Regenerate the README's screenshots (``docs/screenshots/*.png``) from real data.

Starts a glasspane server on a fresh data directory and six small Flask services
instrumented with the real sentry-sdk: the scenario's document upload, where
trust-platform calls auth-worker, document-service, data-service and
aaa-service, and aaa-service calls blockchain-indexer. Traffic runs for
``--seconds``; halfway through, blockchain-indexer's confirmation wait slows
down and some uploads time out, so there is a regression, a failing transaction
and an issue to look at. Then headless Chromium photographs the main pages.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--seconds 150] [--keep]

``--keep`` leaves the server running afterwards and prints its URL and token.
The same file is the services' program (``screenshots.py --service NAME``).
Needs Debian's ``chromium`` (``make system-deps``) and the test extra.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

#: service → (transaction endpoint, its own steps (op, description, ms), downstream services)
FLOW: dict[str, tuple[str, list[tuple[str, str, float]], list[str]]] = {
    "trust-platform": (
        "uploadDocument",
        [("http.server.parse", "Parse multipart upload", 18)],
        ["auth-worker", "document-service", "data-service", "aaa-service"],
    ),
    "auth-worker": ("verifyToken", [("db.query", "SELECT user FROM tokens", 45)], []),
    "document-service": (
        "processDocument",
        [("file.read", "Read PDF", 85), ("file.validate", "Check PDF structure", 42)],
        [],
    ),
    "data-service": (
        "extractMetadata",
        [("ai.extract", "GPT-4 extraction", 320), ("validation", "Validate fields", 28)],
        [],
    ),
    "aaa-service": (
        "createCase",
        [("db.insert", "Create case record", 22)],
        ["blockchain-indexer"],
    ),
    "blockchain-indexer": (
        "registerDocument",
        [
            ("blockchain.prepare", "Prepare tx data", 12),
            ("blockchain.send", "Submit to Base Sepolia", 89),
        ],
        [],
    ),
}
WAIT_MS = {"ok": 180, "slow": 900, "fail": 1500}
USERS = [
    ("demo@test.com", "US"),
    ("user@example.com", "US"),
    ("admin@integra.com", "DE"),
    ("user2@example.com", "GB"),
    ("ana@example.org", "BR"),
    ("kenji@example.jp", "JP"),
    ("li@example.cn", "SG"),
    ("marie@example.fr", "FR"),
]
AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
]
ALERTS = """\
alerts:
  - name: "Blockchain indexer degraded"
    conditions:
      - service: blockchain-indexer
      - error_rate: "> 5%"
      - window: 10 minutes
    actions:
      - webhook: http://127.0.0.1:9/hook
"""
SHOTS = [
    # (file, path, width, height, full page)
    ("performance", "/?period=5m", 1280, 640, False),
    (
        "transaction",
        "/transaction?name=registerDocument&service=blockchain-indexer&period=5m",
        1280,
        1000,
        False,
    ),
    ("services", "/services?period=5m", 1280, 480, False),
    ("regressions", "/regressions?period=5m", 1280, 420, False),
    ("impact", "/impact?period=5m", 1280, 560, False),
    ("spans", "/explore/spans?period=5m", 1280, 760, False),
    ("issues", "/issues?period=5m", 1280, 480, False),
    ("releases", "/releases?period=5m", 1280, 420, False),
    ("alerts", "/alerts", 1280, 520, False),
    ("alert-rule", "/alerts/Blockchain%20indexer%20degraded", 1280, 720, False),
    ("metrics", "/explore/metrics?period=5m", 1280, 640, False),
    ("web-vitals", "/web-vitals?period=5m", 1280, 420, False),
]


# -- the services ------------------------------------------------------------------
class TransactionTimeoutError(Exception):
    """The blockchain confirmation that never came."""


def _sampler(context: dict[str, Any]) -> float:
    """Trace everything but the driver's ``/flush`` calls."""
    environ = context.get("wsgi_environ") or {}
    return 0.0 if environ.get("PATH_INFO") == "/flush" else 1.0


def serve(name: str) -> None:
    """One service of the flow: its steps as spans, then its downstream calls."""
    import requests
    import sentry_sdk
    from flask import Flask, jsonify, request
    from sentry_sdk.integrations.flask import FlaskIntegration
    from werkzeug.serving import make_server

    sentry_sdk.init(
        dsn=os.environ["SENTRY_DSN"],
        traces_sampler=_sampler,
        integrations=[FlaskIntegration(transaction_style="endpoint")],
        release=f"{name}@2.4.1",
        environment="production",
    )
    endpoint, steps, calls = FLOW[name]
    urls = {
        k[len("URL_") :].lower().replace("_", "-"): v
        for k, v in os.environ.items()
        if k.startswith("URL_")
    }
    app = Flask(name)

    def jitter(ms: float) -> float:
        return ms * random.uniform(0.7, 1.4) / 1000

    def wait_for_confirmation(tx_hash: str, mode: str) -> None:
        time.sleep(jitter(WAIT_MS[mode]))
        if mode == "fail":
            raise TransactionTimeoutError(f"Transaction {tx_hash} not confirmed after 30 seconds")

    def handle() -> Any:
        args = request.args
        email, country = args.get("email", "demo@test.com"), args.get("country", "US")
        sentry_sdk.set_user(
            {"email": email, "id": email.split("@")[0], "geo": {"country_code": country}}
        )
        for op, description, ms in steps:
            with sentry_sdk.start_span(op=op, name=description) as span:
                span.set_data("service", name)
                time.sleep(jitter(ms))
        if name == "data-service" and random.random() < 0.04:
            try:
                raise ValueError("field 'caseType' is missing from the extracted metadata")
            except ValueError as exc:
                sentry_sdk.capture_exception(exc)
        if name == "blockchain-indexer":
            return register(args.get("mode", "ok"))
        headers = {"User-Agent": request.headers.get("User-Agent", "")}
        for target in calls:
            attempts = 2 if target == "blockchain-indexer" else 1
            for attempt in range(attempts):
                params = dict(args)
                if attempt and random.random() < 0.5:
                    params["mode"] = "ok"  # the retry went through
                answer = requests.get(
                    f"{urls[target]}/", params=params, headers=headers, timeout=30
                )
                if answer.ok:
                    break
            if not answer.ok:
                return jsonify(ok=False, failed=target), 502
        current = sentry_sdk.get_current_span()
        return jsonify(ok=True, trace_id=current.trace_id if current else None)

    def register(mode: str) -> Any:
        tx_hash = "0x" + os.urandom(16).hex()
        with sentry_sdk.start_span(op="blockchain.wait", name="Wait for confirmation") as span:
            span.set_data("txHash", tx_hash)
            span.set_data("confirmations", 2)
            try:
                wait_for_confirmation(tx_hash, mode)
            except TransactionTimeoutError as exc:
                span.set_status("deadline_exceeded")
                sentry_sdk.set_context(
                    "blockchain",
                    {
                        "network": "base-sepolia",
                        "contractAddress": "0x742d35Cc6634C0532925a3b844Bc9e7595f0bEb5",
                        "txHash": tx_hash,
                        "gasLimit": 500000,
                        "documentHash": "QmX4Fc7" + tx_hash[2:12],
                        "caseId": f"AAA-2025-{random.randint(100, 999):04d}",
                    },
                )
                sentry_sdk.capture_exception(exc)
                return jsonify(ok=False), 504
        return jsonify(ok=True, tx=tx_hash)

    app.add_url_rule("/", endpoint, handle)
    app.add_url_rule("/flush", "flush", lambda: (sentry_sdk.flush(timeout=10), "ok")[1])
    make_server("127.0.0.1", int(os.environ["PORT"]), app, threaded=True).serve_forever()


# -- the driver --------------------------------------------------------------------
class ServiceProcess:
    """One service of the flow, run as ``screenshots.py --service NAME``."""

    def __init__(self, name: str, env: dict[str, str]) -> None:
        from serverproc import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--service", name],
            env={**os.environ, **env, "PORT": str(self.port)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 30) -> ServiceProcess:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"service on port {self.port} exited")
            try:
                httpx.get(self.url + "/flush", timeout=5)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"service on port {self.port} did not start")

    def flush(self) -> None:
        import httpx

        httpx.get(self.url + "/flush", timeout=30)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def start_services(server: Any) -> dict[str, ServiceProcess]:
    started: dict[str, ServiceProcess] = {}
    for name in reversed(FLOW):  # downstream first, so their URLs are known
        env = {"SENTRY_DSN": server.project(name)["dsn"]}
        env.update({f"URL_{k.upper().replace('-', '_')}": s.url for k, s in started.items()})
        started[name] = ServiceProcess(name, env).wait_ready()
    return started


def traffic(entry: str, seconds: float, workers: int = 6) -> int:
    import httpx

    deadline = time.monotonic() + seconds
    change = time.monotonic() + seconds / 2

    def one(i: int) -> None:
        email, country = USERS[i % len(USERS)]
        mode = "ok"
        if time.monotonic() > change:
            mode = "fail" if random.random() < 0.12 else "slow"
        params = {"email": email, "country": country, "mode": mode}
        headers = {"User-Agent": AGENTS[i % len(AGENTS)]}
        httpx.get(entry + "/", params=params, headers=headers, timeout=60)

    count = 0
    with ThreadPoolExecutor(workers) as pool:
        while time.monotonic() < deadline:
            list(pool.map(one, range(count, count + workers)))
            count += workers
    return count


def shoot(server: Any, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from ui.browser import CHROMIUM, CHROMIUM_ARGS

    saved: list[Path] = []
    failed = server.api(
        "GET",
        "/api/v1/traces",
        params={
            "query": "transaction:uploadDocument trace.status:error",
            "period": "5m",
            "limit": 1,
        },
    ).json()["traces"]
    issue = server.api(
        "GET",
        "/api/v1/issues",
        params={"query": "error.type:TransactionTimeoutError", "period": "5m"},
    ).json()["issues"]
    slow = server.api(
        "GET",
        "/api/v1/traces",
        params={"query": "transaction:uploadDocument", "period": "5m", "sort": "-duration"},
    ).json()["traces"]
    shots = list(SHOTS)
    if len(slow) >= 2:
        a, b = slow[0]["trace_id"], slow[len(slow) // 2]["trace_id"]
        shots.append(("trace-compare", f"/traces/compare?a={a}&b={b}", 1280, 900, False))
    if failed:
        shots.insert(2, ("trace", f"/traces/{failed[0]['trace_id']}", 1280, 1480, False))
        shots.append(("trace-narrow", f"/traces/{failed[0]['trace_id']}", 420, 900, False))
    if issue:
        shots.insert(3, ("issue", f"/issues/{issue[0]['id']}?period=5m", 1280, 1000, False))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name, path, width, height, full in shots:
            context = browser.new_context(
                viewport={"width": width, "height": height}, device_scale_factor=1
            )
            page = context.new_page()
            page.goto(f"{server.url}/?token={server.token}")
            page.goto(server.url + path)
            target = out / f"{name}.png"
            page.screenshot(path=str(target), full_page=full)
            saved.append(target)
            context.close()
        browser.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--seconds", type=float, default=150.0)
    parser.add_argument("--keep", action="store_true", help="leave the server running")
    parser.add_argument("--service", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.service:
        serve(args.service)
        return

    from serverproc import RunningServer

    data = Path(tempfile.mkdtemp(prefix="glasspane-shots-")) / "data"
    data.mkdir(parents=True)
    (data / "alerts.yaml").write_text(ALERTS)
    server = RunningServer(data, None, "--alert-interval", "5").start()
    services: dict[str, ServiceProcess] = {}
    try:
        services = start_services(server)
        print(f"server {server.url}, services up; traffic for {args.seconds:g}s …", flush=True)
        sent = traffic(services["trust-platform"].url, args.seconds)
        for service in services.values():
            service.flush()
        time.sleep(8)  # let the writer commit and the alert engine run
        print(f"{sent} uploads sent", flush=True)
        args.out.mkdir(parents=True, exist_ok=True)
        for path in shoot(server, args.out):
            print("saved", path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    finally:
        for service in services.values():
            service.stop()
        if args.keep:
            print(
                f"server still running: {server.url}/?token={server.token} (pid "
                f"{server.process.pid if server.process else '?'})"
            )
        else:
            server.stop()


if __name__ == "__main__":
    main()
