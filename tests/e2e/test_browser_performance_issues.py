"""Asset and payload performance issues from @sentry/browser in real headless Chromium.

The page (``tests/browser/src/heavy.html``, its script bundled with esbuild) runs
the SDK with browser tracing. Its server sends a 600 KB script uncompressed and
slowly, beside a gzip-compressed stylesheet, and a 400 KB JSON report the page
fetches. The SDK reports the sizes it reads from the Resource Timing API and the
fetch's Content-Length; glasspane must open an ``uncompressed_asset`` and a
``large_http_payload`` issue for the page load, with the sizes as evidence.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from e2e.test_browser_replay import BROWSER_DIR, _npm_ci
from serverproc import RunningServer, free_port
from ui.browser import CHROMIUM

pytestmark = [pytest.mark.e2e, pytest.mark.node]

PROJECT = "heavy-page"
KB = 1024
BIG_SCRIPT = ("/* padding */ var x = 1;\n" * (600 * KB // 25 + 1)).encode()
STYLESHEET = gzip.compress(("body { color: #222; }\n" * 2000).encode())
REPORT = (
    b'{"rows": ['
    + b",".join(b'{"id": %d, "text": "%s"}' % (i, b"x" * 380) for i in range(1000))
    + b"]}"
)


class _HeavyHandler(http.server.SimpleHTTPRequestHandler):
    """The built page, plus the three heavy answers the test needs."""

    def do_GET(self) -> None:
        path = self.path.partition("?")[0]
        if path == "/big.js":  # uncompressed, in chunks over about 0.8 s
            self._answer("application/javascript", BIG_SCRIPT, chunks=10, pause=0.08)
        elif path == "/site.css":
            self._answer("text/css", STYLESHEET, encoding="gzip")
        elif path == "/report.json":
            time.sleep(0.25)
            self._answer("application/json", REPORT)
        else:
            super().do_GET()

    def _answer(
        self, kind: str, body: bytes, chunks: int = 1, pause: float = 0.0, encoding: str = ""
    ) -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.end_headers()
        step = len(body) // chunks + 1
        for start in range(0, len(body), step):
            self.wfile.write(body[start : start + step])
            self.wfile.flush()
            time.sleep(pause)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def heavy_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (make system-deps)")
    _npm_ci()
    out = tmp_path_factory.mktemp("heavy")
    esbuild = BROWSER_DIR / "node_modules" / ".bin" / "esbuild"
    command = [
        str(esbuild),
        "src/heavy.js",
        "--bundle",
        "--format=iife",
        "--target=es2020",
        f"--outfile={out / 'heavy.js'}",
        "--log-level=error",
    ]
    done = subprocess.run(command, cwd=BROWSER_DIR, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    shutil.copy(BROWSER_DIR / "src" / "heavy.html", out / "heavy.html")
    handler = functools.partial(_HeavyHandler, directory=str(out))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/heavy.html"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def _found(body: dict[str, Any]) -> bool:
    kinds = {issue["type"] for issue in body["issues"]}
    return {"uncompressed_asset", "large_http_payload"} <= kinds


def test_a_heavy_page_load_opens_asset_and_payload_issues(
    server: RunningServer, heavy_page: str, browser: Any
) -> None:
    dsn = server.project(PROJECT)["dsn"]
    context = browser.new_context()  # a fresh profile: nothing cached
    try:
        page = context.new_page()
        page.goto(f"{heavy_page}?{urlencode({'dsn': dsn})}")
        page.wait_for_function("document.getElementById('status').textContent.includes('rows')")
        assert page.text_content("#status") == "1000 rows"
        # The page load ends when the page has been idle for a second; then it is sent.
        page.wait_for_timeout(2500)
        page.evaluate("window.__glasspane.flush()")
    finally:
        context.close()
    query = urlencode({"query": f"project:{PROJECT} issue.category:performance", "period": "1h"})
    body = server.poll(f"/api/v1/issues?{query}", _found, 30)
    found = {issue["type"]: issue for issue in body["issues"]}
    asset = found["uncompressed_asset"]
    # @sentry/browser 11 names resource spans by domain; the issue names the URL.
    assert asset["title"] == "Uncompressed Asset"
    assert asset["value"] == heavy_page.replace("heavy.html", "big.js")
    payload = found["large_http_payload"]
    assert payload["title"] == "Large HTTP Payload"
    assert payload["value"] == "GET " + heavy_page.replace("heavy.html", "report.json")
    detail = server.api("GET", f"/api/v1/issues/{payload['id']}").json()
    evidence = detail["latest_event"]["evidence"]
    assert evidence["size_bytes"] == len(REPORT)
    assert evidence["duration_ms"] >= 250
    asset_detail = server.api("GET", f"/api/v1/issues/{asset['id']}").json()
    assert asset_detail["latest_event"]["evidence"]["size_bytes"] == len(BIG_SCRIPT)
    assert "site.css" not in str(body)  # the compressed stylesheet is no issue
