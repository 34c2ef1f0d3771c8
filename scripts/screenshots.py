"""Regenerate the README's screenshots (``docs/screenshots/*.png``) from the demo's data.

Runs ``glasspane demo`` on a fresh data directory (time compressed ``--speed``
times, the blockchain confirmation-timeout fault switched on after a healthy
baseline), waits until every signal has arrived through the JSON API (traces,
the timeout issue, the N+1 performance issue, logs, metrics, release sessions,
the cron check-in, feedback, replays from real Chromium, a regression and a
firing alert), then photographs every page of the navigation and the detail
pages in headless Chromium. A page that answers 404 in this checkout, or whose
data did not arrive in time, is skipped with a note. At the end it prints what
arrived and what was saved, stops the demo and every process it started.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--seconds 420]
        [--baseline 75] [--keep] [--readme]

``--seconds`` bounds the whole run (its last two minutes are for the
photographs, the rest for the signals to arrive); ``--keep`` leaves the demo
running and prints its dashboard link; ``--readme`` prints the README's gallery
table for the shots saved. Needs Debian's ``chromium`` (``make system-deps``),
the test extra, and for replays ``tests/browser``'s npm packages; ``make
screenshots`` installs them and runs this. ``optipng``, where installed,
shrinks the PNGs losslessly.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from string import Formatter
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
PERIOD = "5m"
RULE = "Blockchain indexer degraded"
SHOOTING = 120  # seconds of --seconds kept for the photographs (and optipng)


@dataclass(frozen=True)
class Shot:
    """One page to photograph; ``{name}`` fields of ``path`` are found in the demo's data."""

    name: str  # docs/screenshots/<name>.png
    path: str
    caption: str
    height: int = 760
    width: int = 1280


SHOTS = [
    Shot("performance", "/?period=5m", "Performance: every transaction, failure rate first", 640),
    Shot(
        "transaction",
        "/transaction?name=registerOnBlockchain&service=blockchain-indexer&period=5m",
        "Transaction summary: registerOnBlockchain over time, its tags and traces",
        1000,
    ),
    Shot("trace", "/traces/{trace}", "A failing trace across ten services", 1400),
    Shot("trace-narrow", "/traces/{trace}", "The same trace on a phone", 900, 420),
    Shot("trace-compare", "/traces/compare?a={slow}&b={fast}", "Two traces compared", 900),
    Shot("issues", "/issues?period=5m", "Issues: errors and performance issues", 560),
    Shot("issue", "/issues/{issue}?period=5m", "The timeout issue, blockchain context", 1000),
    Shot("event", "/issues/{issue}/events/{event}?period=5m", "One event of the issue, whole", 900),
    Shot(
        "n-plus-one",
        "/issues/{n_plus_one}?period=5m",
        "N+1 DB queries in createCase, with evidence",
        900,
    ),
    Shot("services", "/services?period=5m", "Service health: Apdex, error rate, p95", 560),
    Shot("regressions", "/regressions?period=5m", "Regressions: the step the fault made", 480),
    Shot("impact", "/impact?period=5m", "User impact by country, browser and OS", 640),
    Shot("web-vitals", "/web-vitals?period=5m", "Web vitals of the browser pages", 560),
    Shot("queries", "/queries?period=5m", "Queries: DB statements and HTTP calls by time", 640),
    Shot("logs", "/explore/logs?period=5m", "Logs, newest first, each with its trace", 760),
    Shot(
        "spans",
        "/explore/spans?period=5m&group_by=span.op",
        "Spans grouped by operation, with a chart per group",
        900,
    ),
    Shot(
        "metrics",
        "/explore/metrics?name=blockchain_rpc_response_time&group_by=rpc.endpoint&period=5m",
        "Metrics: blockchain_rpc_response_time by RPC endpoint",
        760,
    ),
    Shot("replays", "/replays?period=5m", "Session replays from real Chromium users", 560),
    Shot("replay", "/replays/{replay}", "One replay: the failed upload on its timeline", 900),
    Shot("releases", "/releases?period=5m", "Release health: crash-free sessions and users", 560),
    Shot("release", "/releases/{release}?period=5m", "One release: its sessions over time", 760),
    Shot("crons", "/crons?period=5m", "Crons: the indexer's sync job and its runs", 560),
    Shot("feedback", "/feedback?period=5m", "What users wrote after a failed upload", 560),
    Shot("profile", "/profiles/{profile}", "A profile's flame graph", 760),
    Shot("alerts", "/alerts", "Alerts: the scenario's rules and their state", 560),
    Shot("alert-rule", "/alerts/" + quote(RULE), "The firing rule: chart, threshold, users", 900),
    Shot("settings", "/settings", "Settings: users, tokens, projects, audit log", 760),
]


def fields(shot: Shot) -> list[str]:
    """The ``{name}`` fields the shot's path needs."""
    return [f for _, f, _, _ in Formatter().parse(shot.path) if f]


# -- the demo -----------------------------------------------------------------------
class Demo:
    """``glasspane demo`` in its own process group, so every child stops with it."""

    def __init__(self, work: Path, seconds: float, baseline: float, speed: float) -> None:
        from serverproc import free_port

        self.data = work / "data"
        self.log = work / "demo-output.txt"
        port, control = free_port(), free_port()
        self.url, self.control = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{control}"
        command = [
            sys.executable, "-m", "glasspane", "demo", "--data-dir", str(self.data),
            "--port", str(port), "--control-port", str(control), "--speed", f"{speed:g}",
            "--rate", "300", "--fault", "timeouts", "--fault-after", f"{baseline:g}s",
            "--duration", f"{seconds + 120:g}s", "--progress", "0",
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        with open(self.log, "wb") as sink:
            self.process = subprocess.Popen(
                command, stdout=sink, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )

    @property
    def token(self) -> str:
        return (self.data / "admin-token").read_text().strip()

    def wait_started(self, timeout: float) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"glasspane demo exited:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.control + "/status", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"glasspane demo did not start:\n{self.log.read_text()[-3000:]}")

    def get(self, path: str, **params: Any) -> Any:
        import httpx

        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.get(self.url + path, params=params, headers=headers, timeout=30)

    def api(self, path: str, **params: Any) -> Any:
        answer = self.get(path, **params)
        return answer.json() if answer.status_code == 200 else None

    def stop(self) -> None:
        """Ask the demo to stop; kill its process group if it has not within a minute."""
        import httpx

        if self.process.poll() is None:
            try:
                httpx.post(self.control + "/stop", timeout=10)
                self.process.wait(timeout=60)
            except (httpx.HTTPError, subprocess.TimeoutExpired):
                pass
        with contextlib.suppress(ProcessLookupError):  # the group this script started
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


# -- waiting for each signal ----------------------------------------------------------
class NoSuchApi(LookupError):
    """This checkout has no such listing (yet): it answered 404."""


def _rows(demo: Demo, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    answer = demo.get(path, period=PERIOD, **params)
    if answer.status_code == 404:
        raise NoSuchApi(path)
    return list(answer.json()[key]) if answer.status_code == 200 else []


def _listed(demo: Demo, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """:func:`_rows`, or none where the checkout has no such listing."""
    try:
        return _rows(demo, path, key, **params)
    except NoSuchApi:
        return []


def _firing(demo: Demo) -> list[dict[str, Any]]:
    answer = demo.api("/api/v1/alerts")
    return [r for r in (answer or {}).get("rules", []) if r.get("state") == "firing"]


def _failed_replays(demo: Demo) -> list[dict[str, Any]]:
    return [r for r in _rows(demo, "/api/v1/replays", "replays") if r.get("count_errors")]


def signals(demo: Demo) -> list[tuple[str, Callable[[], list[Any]]]]:
    """Each signal the pages show, with how to count it; waited for in this order."""
    performance = "issue.category:performance issue.type:n_plus_one_db_queries"
    return [
        ("traces", lambda: _rows(demo, "/api/v1/transactions", "transactions")),
        ("logs", lambda: _rows(demo, "/api/v1/logs", "logs")),
        ("metrics", lambda: _rows(demo, "/api/v1/metrics/names", "metrics")),
        ("release sessions", lambda: _rows(demo, "/api/v1/releases", "releases")),
        ("cron check-ins", lambda: _rows(demo, "/api/v1/monitors", "monitors")),
        ("N+1 issue", lambda: _rows(demo, "/api/v1/issues", "issues", query=performance)),
        ("replays", lambda: _rows(demo, "/api/v1/replays", "replays")),
        ("timeout issue", lambda: _rows(
            demo, "/api/v1/issues", "issues", query="error.type:TransactionTimeoutError")),
        ("feedback", lambda: _rows(demo, "/api/v1/feedback", "feedback")),
        ("replay of a failed upload", lambda: _failed_replays(demo)),
        ("regression", lambda: _rows(demo, "/api/v1/regressions", "regressions")),
        ("firing alert", lambda: _firing(demo)),
    ]  # fmt: skip


def wait_for_signals(demo: Demo, deadline: float) -> dict[str, int | str]:
    """Poll the signals not yet seen until all have arrived or the budget is spent,
    printing each as it arrives; a listing this checkout lacks is not waited for."""
    started, waiting = time.monotonic(), dict(signals(demo))
    counts: dict[str, int | str] = {label: "none: out of time" for label in waiting}
    print(f"  waiting for {len(waiting)} signals: {', '.join(waiting)}", flush=True)
    while waiting and time.monotonic() < deadline:
        for label, count in list(waiting.items()):
            try:
                found = count()
            except NoSuchApi as missing:
                found, counts[label] = [], f"none: no {missing} in this checkout"
                del waiting[label]
            if found:
                counts[label] = len(found)
                del waiting[label]
                took = time.monotonic() - started
                print(f"  {label:<28}{len(found):>5} at {took:4.0f} s", flush=True)
        time.sleep(2)
    return counts


# -- what the detail pages show -------------------------------------------------------
def find_ids(demo: Demo) -> dict[str, str]:
    """The ids the detail pages need, from the JSON API; a missing one skips its page."""
    ids: dict[str, str] = {}
    timed_out = "transaction:registerOnBlockchain trace.status:error"
    failing = _listed(demo, "/api/v1/traces", "traces", query=timed_out, limit=50)
    if failing:  # a confirmation timeout; the oldest, so all its services have reported
        ids["trace"] = min(failing, key=lambda t: t["timestamp"])["trace_id"]
    slow = _listed(demo, "/api/v1/traces", "traces",
                 query="transaction:uploadDocument", sort="-duration", limit=100)  # fmt: skip
    if len(slow) >= 2:
        ids["slow"], ids["fast"] = slow[0]["trace_id"], slow[-1]["trace_id"]
    timeouts = _listed(demo, "/api/v1/issues", "issues", query="error.type:TransactionTimeoutError")
    if timeouts:
        ids["issue"] = str(timeouts[0]["id"])
        detail = demo.api(f"/api/v1/issues/{ids['issue']}") or {}
        event = (detail.get("latest_event") or {}).get("event_id")
        if event:
            ids["event"] = event
    query = "issue.category:performance issue.type:n_plus_one_db_queries"
    n_plus_one = _listed(demo, "/api/v1/issues", "issues", query=query)
    if n_plus_one:
        ids["n_plus_one"] = str(n_plus_one[0]["id"])
    replays = _listed(demo, "/api/v1/replays", "replays")
    failed = [r for r in replays if r.get("count_errors")]
    if replays:  # one of a failed upload, where there is one
        ids["replay"] = (failed or replays)[0]["id"]
    releases = _listed(demo, "/api/v1/releases", "releases")
    if releases:  # the browser's, with its users (servers' request sessions have none)
        browser = max(releases, key=lambda r: (r.get("users") or 0, r.get("sessions") or 0))
        ids["release"] = quote(browser["release"], safe="@")
    profiles = _listed(demo, "/api/v1/profiles", "profiles")
    if profiles:
        ids["profile"] = profiles[0]["id"]
    return {k: v for k, v in ids.items() if v}


def shoot(demo: Demo, ids: dict[str, str], out: Path) -> tuple[list[Shot], list[str]]:
    """Photograph each shot whose ids were found and whose page exists here."""
    from playwright.sync_api import sync_playwright

    from ui.browser import CHROMIUM, CHROMIUM_ARGS

    saved: list[Shot] = []
    notes: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(f"{demo.url}/?token={demo.token}")  # logs in
        for shot in SHOTS:
            missing = [f for f in fields(shot) if f not in ids]
            if missing:
                notes.append(f"{shot.name}: skipped, no {', '.join(missing)} in the demo's data")
                continue
            page.set_viewport_size({"width": shot.width, "height": shot.height})
            answer = page.goto(demo.url + shot.path.format(**ids))
            if answer is None or answer.status == 404:
                notes.append(f"{shot.name}: skipped, {shot.path.split('?')[0]} is 404 here")
                continue
            page.wait_for_load_state("networkidle")
            target = out / f"{shot.name}.png"
            page.screenshot(path=str(target))
            optimise(target)
            saved.append(shot)
            print(f"  saved {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
        browser.close()
    return saved, notes


def optimise(png: Path) -> None:
    """Lossless recompression with optipng where Debian's package is installed."""
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run(["optipng", "-quiet", "-o2", str(png)], check=False, timeout=120)


def gallery(saved: list[Shot]) -> str:
    """The README's table: two shots a row, each with its caption."""
    lines = ["| | |", "|---|---|"]
    for i in range(0, len(saved), 2):
        pair = saved[i : i + 2]
        cells = [f"![{s.caption}](docs/screenshots/{s.name}.png)<br>{s.caption}" for s in pair]
        lines.append("| " + " | ".join(cells + [""] * (2 - len(cells))) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--seconds", type=float, default=420.0, help="budget of the whole run")
    parser.add_argument("--baseline", type=float, default=75.0, help="healthy seconds first")
    parser.add_argument("--speed", type=float, default=10.0, help="the demo's --speed")
    parser.add_argument("--keep", action="store_true", help="leave the demo running")
    parser.add_argument("--readme", action="store_true", help="print the README's gallery")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))

    began = time.monotonic()
    deadline = began + args.seconds
    work = Path(tempfile.mkdtemp(prefix="glasspane-shots-"))
    demo = Demo(work, args.seconds, args.baseline, args.speed)
    try:
        demo.wait_started(120)
        print(f"demo running at {demo.url} (output in {demo.log}); fault after {args.baseline:g} s")
        counts = wait_for_signals(demo, deadline - SHOOTING)
        args.out.mkdir(parents=True, exist_ok=True)
        saved, notes = shoot(demo, find_ids(demo), args.out)
    finally:
        if args.keep:
            print(f"demo still running: {demo.url}/?token={demo.token} (pid {demo.process.pid})")
        else:
            demo.stop()
    if not args.keep:  # its data (tens of MB) served its purpose; kept above on an error
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nin {time.monotonic() - began:.0f} s:")
    for label, n in counts.items():
        print(f"  {label:<28}{n}")
    print(f"  {len(saved)} pages saved in {args.out}")
    for note in notes:
        print(f"  {note}")
    if args.readme:
        print("\n" + gallery(saved))


if __name__ == "__main__":
    main()
