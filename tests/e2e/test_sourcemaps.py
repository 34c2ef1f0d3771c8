"""Readable JavaScript stack traces: sentry-cli uploads a minified bundle's source
map, @sentry/browser reports an error thrown in it, and the issue shows the
original function, file and line.

Everything is the real thing: the page (``tests/browser/src/checkout.js``) is
bundled and minified by esbuild with a source map, ``sentry-cli sourcemaps
inject`` gives both files a debug id, ``sentry-cli sourcemaps upload`` sends
them to glasspane with a member's personal token, and headless Chromium runs
the page with @sentry/browser, which names the debug id in the event. The
release flow builds without debug ids: ``sentry-cli releases new`` and
``sourcemaps upload --release --url-prefix '~/'``, matched by release and URL.
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
import pytest

from e2e.test_browser_replay import BROWSER_DIR, _npm_ci, _QuietHandler
from serverproc import RunningServer, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.node]

SOURCE = BROWSER_DIR / "src" / "checkout.js"
BIN = BROWSER_DIR / "node_modules" / ".bin"
#: Both CLIs install a ``sentry-cli`` into .bin, so each is named by its package.
CLI = BROWSER_DIR / "node_modules" / "@sentry" / "cli" / "bin" / "sentry-cli"
#: sentry-cli 2.x, installed under the npm alias ``sentry-cli-2``.
CLI2 = BROWSER_DIR / "node_modules" / "sentry-cli-2" / "bin" / "sentry-cli"
T = TypeVar("T")
PAGE = '<!doctype html><p id="total"></p><script src="checkout.min.js"></script>\n'


def _run(command: list[str], env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        command, cwd=BROWSER_DIR, capture_output=True, text=True, timeout=180, env=env
    )
    assert done.returncode == 0, f"{command[0]} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def build(out: Path, *esbuild_flags: str) -> Path:
    """checkout.js bundled into ``out`` as checkout.min.js with its source map."""
    _npm_ci()
    if not (CLI.exists() and CLI2.exists()):
        pytest.fail(f"sentry-cli is missing: run `npm ci` in {BROWSER_DIR} (make does)")
    _run(
        [
            str(BIN / "esbuild"),
            str(SOURCE),
            "--bundle",
            "--sourcemap",
            "--format=iife",
            "--target=es2020",
            f"--outfile={out / 'checkout.min.js'}",
            "--log-level=error",
            *esbuild_flags,
        ]
    )
    (out / "index.html").write_text(PAGE)
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """checkout.js minified with its source map, both injected with a debug id."""
    out = build(tmp_path_factory.mktemp("checkout"), "--minify")
    _run([str(CLI), "sourcemaps", "inject", str(out)])
    return out


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two builds of checkout.js without debug ids, served side by side: ``v1/``
    minified, ``v2/`` with a banner and whitespace only minified (other columns,
    other lines, other function names)."""
    root = tmp_path_factory.mktemp("releases")
    build(root / "v1", "--minify")
    build(root / "v2", "--minify-whitespace", "--banner:js=/* build two */ var build=2;")
    return root


def _serve(folder: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def page_url(built: Path) -> Iterator[str]:
    for root in _serve(built):
        yield root + "index.html"


@pytest.fixture(scope="module")
def builds_url(builds: Path) -> Iterator[str]:
    yield from _serve(builds)


def _member_token(server: RunningServer) -> str:
    body = {"name": f"ci-{uuid.uuid4().hex[:8]}", "role": "member"}
    answer = server.api("POST", "/api/v1/tokens", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


def _cli(server: RunningServer, project: str, *args: str, cli: Path = CLI) -> str:
    env = {
        **os.environ,
        "SENTRY_URL": server.url,
        "SENTRY_AUTH_TOKEN": _member_token(server),
        "SENTRY_ORG": "glasspane",
        "SENTRY_PROJECT": project,
    }
    return _run([str(cli), *args], env)


def upload(server: RunningServer, project: str, built: Path) -> str:
    return _cli(server, project, "sourcemaps", "upload", str(built))


def upload_release(server: RunningServer, project: str, release: str, folder: Path) -> str:
    """The release flow of sentry-cli 3: the files keyed by their URL, ``~/`` for any host."""
    created = _cli(server, project, "releases", "new", release)
    assert f"Created release {release}" in created
    args = ["sourcemaps", "upload", "--release", release, str(folder)]
    return _cli(server, project, *args, "--url-prefix", f"~/{folder.name}")


def upload_release_v2(server: RunningServer, project: str, release: str, folder: Path) -> str:
    """The release flow as pipelines pinned to sentry-cli 2 run it: ``releases new``,
    ``releases files VERSION upload-sourcemaps`` with ``~/`` for any host, ``releases
    files VERSION list`` showing what was kept, then ``releases finalize``."""
    created = _cli(server, project, "releases", "new", release, cli=CLI2)
    assert f"Created release {release}" in created
    args = ["releases", "files", release, "upload-sourcemaps", str(folder)]
    report = _cli(server, project, *args, "--url-prefix", f"~/{folder.name}", cli=CLI2)
    listed = _cli(server, project, "releases", "files", release, "list", cli=CLI2)
    prefix = f"~/{folder.name}/checkout.min.js"
    assert f"| {prefix} " in listed and "| checkout.min.js.map |" in listed
    assert f"| {prefix}.map " in listed
    assert f"Finalized release {release}" in _cli(
        server, project, "releases", "finalize", release, cli=CLI2
    )
    return report


def _throw(browser: Any, url: str, dsn: str, until: Callable[[], T], **params: str) -> T:
    """Open the page so it throws, and keep it open until ``until`` has what it reported."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{url}?{urlencode({'dsn': dsn, **params})}")
        return until()
    finally:
        context.close()


def _issue_of(server: RunningServer, code: str) -> dict[str, Any]:
    def found(answer: dict[str, Any]) -> bool:
        return any(code in (row.get("title") or "") for row in answer["issues"])

    listed = server.poll("/api/v1/issues?period=1h", found, 30)
    issue_id = next(r["id"] for r in listed["issues"] if code in (r.get("title") or ""))
    return dict(server.api("GET", f"/api/v1/issues/{issue_id}").json())


def test_the_issue_shows_the_original_function_file_and_line(
    server: RunningServer, browser: Any, built: Path, page_url: str
) -> None:
    project = server.project("checkout-web")
    report = upload(server, "checkout-web", built)
    assert "checkout.min.js.map" in report
    code = f"CODE{uuid.uuid4().hex[:6].upper()}"
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{page_url}?{urlencode({'dsn': project['dsn'], 'code': code})}")
        issue = _issue_of(server, code)
    finally:
        context.close()
    frames = issue["latest_event"]["exceptions"][-1]["frames"]
    crash, caller = frames[-1], frames[-2]
    source = SOURCE.read_text().splitlines()
    throw_line = next(i for i, line in enumerate(source, 1) if "throw new Error" in line)
    assert crash["file"].endswith("src/checkout.js")
    assert (crash["function"], crash["line"]) == ("applyDiscount", throw_line)
    assert "throw new Error(`Unknown discount code" in crash["context_line"]
    assert 'if (code !== "SAVE10") {' in crash["pre_context"][-1]
    assert caller["function"] == "checkoutTotal" and caller["file"].endswith("src/checkout.js")
    assert crash["raw"]["filename"] == page_url.replace("index.html", "checkout.min.js")
    assert crash["raw"]["colno"] > 1000  # far along one long minified line
    assert crash["raw"]["function"] != "applyDiscount"  # minified away
    _the_issue_page_shows_it(server, issue["id"], throw_line)


def _the_issue_page_shows_it(server: RunningServer, issue_id: int, line: int) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        login = client.post("/login", data={"name": "", "password": server.token})
        assert login.status_code in (200, 303), login.text
        page = client.get(f"/issues/{issue_id}")
    assert page.status_code == 200, page.text
    text = " ".join(page.text.split())
    where = f'src/checkout.js</span><span class="muted">:{line}</span>'
    assert f'{where} in <b class="mono">applyDiscount</b>' in text
    assert "Mapped by a source map from" in text and "/checkout.min.js:" in text


def _throw_line() -> int:
    source = SOURCE.read_text().splitlines()
    return next(i for i, line in enumerate(source, 1) if "throw new Error" in line)


def test_a_release_upload_maps_frames_by_release_and_url(
    server: RunningServer, browser: Any, builds: Path, builds_url: str
) -> None:
    project = server.project("checkout-release")
    release = f"checkout@{uuid.uuid4().hex[:8]}"
    report = upload_release(server, "checkout-release", release, builds / "v1")
    assert "~/v1/checkout.min.js (sourcemap at checkout.min.js.map)" in report
    assert "debug id" not in (builds / "v1" / "checkout.min.js").read_text()[-300:].lower()
    code = f"REL{uuid.uuid4().hex[:6].upper()}"
    page = builds_url + "v1/index.html"
    issue = _throw(
        browser, page, project["dsn"], lambda: _issue_of(server, code), code=code, release=release
    )
    frames = issue["latest_event"]["exceptions"][-1]["frames"]
    crash, caller = frames[-1], frames[-2]
    assert issue["latest_event"]["release"] == release
    assert crash["file"].endswith("src/checkout.js")
    assert (crash["function"], crash["line"]) == ("applyDiscount", _throw_line())
    assert "throw new Error(`Unknown discount code" in crash["context_line"]
    assert caller["function"] == "checkoutTotal"
    assert crash["raw"]["filename"] == builds_url + "v1/checkout.min.js"
    assert crash["raw"]["function"] != "applyDiscount"
    _the_trace_shows_it(server, issue["latest_event"])


def test_sentry_cli_2_release_files_map_frames_by_release_and_url(
    server: RunningServer, browser: Any, builds: Path, builds_url: str
) -> None:
    project = server.project("checkout-cli2")
    release = f"checkout@cli2-{uuid.uuid4().hex[:8]}"
    report = upload_release_v2(server, "checkout-cli2", release, builds / "v1")
    assert "~/v1/checkout.min.js (sourcemap at checkout.min.js.map)" in report
    assert "sentry-cli 2." in _run([str(CLI2), "--version"])
    code = f"OLD{uuid.uuid4().hex[:6].upper()}"
    page = builds_url + "v1/index.html"
    issue = _throw(
        browser, page, project["dsn"], lambda: _issue_of(server, code), code=code, release=release
    )
    frames = issue["latest_event"]["exceptions"][-1]["frames"]
    crash, caller = frames[-1], frames[-2]
    assert issue["latest_event"]["release"] == release
    assert crash["file"].endswith("src/checkout.js")
    assert (crash["function"], crash["line"]) == ("applyDiscount", _throw_line())
    assert "throw new Error(`Unknown discount code" in crash["context_line"]
    assert caller["function"] == "checkoutTotal"
    assert crash["raw"]["filename"] == builds_url + "v1/checkout.min.js"
    assert crash["raw"]["function"] != "applyDiscount"
    _the_issue_page_shows_it(server, issue["id"], _throw_line())


def _the_trace_shows_it(server: RunningServer, event: dict[str, Any]) -> None:
    """The trace's error is located in the original source too, in JSON and on the page."""
    trace = server.api("GET", f"/api/v1/traces/{event['trace_id']}").json()
    [error] = [e for e in trace["errors"] if e["event_id"] == event["event_id"]]
    assert error["location"]["function"] == "applyDiscount"
    assert error["location"]["file"].endswith("src/checkout.js")
    assert error["location"]["line"] == _throw_line()
    assert error["raw_location"]["file"].endswith("/v1/checkout.min.js")
    with httpx.Client(base_url=server.url, timeout=30) as client:
        login = client.post("/login", data={"name": "", "password": server.token})
        assert login.status_code in (200, 303), login.text
        page = client.get(f"/traces/{event['trace_id']}")
    assert page.status_code == 200, page.text
    assert f"src/checkout.js:{_throw_line()} in applyDiscount" in page.text


def test_one_bug_in_two_builds_is_one_issue(
    server: RunningServer, browser: Any, builds: Path, builds_url: str
) -> None:
    project = server.project("checkout-builds")
    code = f"TWO{uuid.uuid4().hex[:6].upper()}"
    releases = []
    for events, name in enumerate(("v1", "v2"), 1):
        release = f"checkout@{name}-{uuid.uuid4().hex[:6]}"
        releases.append(release)
        upload_release(server, "checkout-builds", release, builds / name)
        page = f"{builds_url}{name}/index.html"
        until = functools.partial(_events_of, server, code, events)
        rows = _throw(browser, page, project["dsn"], until, code=code, release=release)
    assert len(rows) == 1, rows  # one issue, with both events
    issue = server.api("GET", f"/api/v1/issues/{rows[0]['id']}").json()
    assert sorted(e["release"] for e in issue["events"]) == sorted(releases)
    crash = issue["latest_event"]["exceptions"][-1]["frames"][-1]
    assert crash["raw"]["filename"] == builds_url + "v2/checkout.min.js"
    assert (crash["function"], crash["line"]) == ("applyDiscount", _throw_line())
    v1 = (builds / "v1" / "checkout.min.js").read_text()
    assert (
        "applyDiscount" not in v1
        and "applyDiscount" in (builds / "v2" / "checkout.min.js").read_text()
    )


def _events_of(server: RunningServer, code: str, events: int) -> list[dict[str, Any]]:
    """The issues titled with ``code``, once they hold ``events`` events in all."""

    def arrived(answer: dict[str, Any]) -> bool:
        rows = [r for r in answer["issues"] if code in (r.get("title") or "")]
        return sum(r["count"] for r in rows) >= events

    listed = server.poll("/api/v1/issues?period=1h", arrived, 30)
    return [r for r in listed["issues"] if code in (r.get("title") or "")]
