"""What the demo prints: where to look, progress, notifications (pure formatting)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from glasspane.demo.faults import FAULTS, FIXES, NONE


@dataclass(frozen=True)
class ServiceLine:
    name: str
    role: str
    url: str  # "" for the browsers, which listen to nothing but the demo
    pid: int
    dsn: str


@dataclass(frozen=True)
class Setup:
    server_url: str
    token: str
    server_note: str
    log_dir: str
    rate: float
    users: int
    sample_rate: float
    speed: float
    services: list[ServiceLine]
    fault: str
    fault_after: float
    fix: str
    fix_after: float
    control_url: str
    alerts_file: str
    receiver_url: str
    smtp_port: int
    alerts_api: bool | None  # None: could not tell
    duration: float | None
    replays: str = ""  # how the replays are made, or why there are none


def clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _link(setup: Setup, path: str, **params: str) -> str:
    query = f"?{urlencode(params)}" if params else ""
    return f"{setup.server_url}{path}{query}"


def banner(setup: Setup) -> str:
    lines = [
        "glasspane demo — the document-upload flow of the scenario, ten services traced "
        "with sentry-sdk",
        "",
        f"  Dashboard  {setup.server_url}/?token={setup.token}",
        f"  Server     {setup.server_note}",
        f"  Traffic    {setup.rate:g} uploads/min (real time) from {setup.users} users on "
        f"Chrome, Safari, Firefox in 11 countries; traces_sample_rate={setup.sample_rate:g}",
        f"  Speed      {setup.speed:g}x: latencies, block time, timeouts and alert windows "
        + ("as in the scenario" if setup.speed == 1 else f"divided by {setup.speed:g}"),
        *([f"  Replays    {setup.replays}"] if setup.replays else []),
        "",
        "  Services (one process and one glasspane project each)",
    ]
    width = max(len(s.name) for s in setup.services)
    for s in setup.services:
        where = s.url or "(no port: the traffic)"
        lines.append(f"    {s.name.ljust(width)}  pid {s.pid:<7} {where:<24} {s.role}")
    lines += ["", "  DSNs"]
    lines += [f"    {s.name.ljust(width)}  {s.dsn}" for s in setup.services]
    lines += ["", *_faults(setup), "", *_alerts(setup), "", *_where(setup), ""]
    lines.append(f"  Logs       {setup.log_dir}")
    stop = f"after {clock(setup.duration)}, or " if setup.duration else ""
    lines.append(f"  Stops      {stop}on Ctrl-C; every process it started stops with it")
    return "\n".join(lines)


def _faults(setup: Setup) -> list[str]:
    control = setup.control_url
    now = f"now {setup.fault}"
    if setup.fault != NONE and setup.fault_after > 0:
        now = f"now none; {setup.fault} at +{clock(setup.fault_after)}"
    fix = "off" if setup.fix == NONE else setup.fix
    if setup.fix != NONE and setup.fix_after > 0:
        fix = f"off; {setup.fix} at +{clock(setup.fix_after)}"
    return [
        f"  Fault      {now}   (fix: {fix})",
        *[f"             {name:<12} {f.summary}" for name, f in FAULTS.items() if name != NONE],
        f"             fix {', '.join(FIXES)}: {next(iter(FIXES.values()))}",
        "  Control    switch while it runs:",
        f"               curl -X POST {control}/fault/timeouts     (rpc-latency, rpc-down, none)",
        f"               curl -X POST {control}/fix/rpc-fallback   (none to undo)",
        f"               curl {control}/status",
        "             or type here: fault timeouts · fix rpc-fallback · status · quit",
    ]


def _alerts(setup: Setup) -> list[str]:
    lines = [
        f"  Alerts     rules {setup.alerts_file}",
        f"             notifications arrive at {setup.receiver_url} (webhooks) and "
        f"127.0.0.1:{setup.smtp_port} (SMTP) and are printed here",
    ]
    if setup.server_note.startswith("given"):
        lines.append(
            "             (that server evaluates the rules it was started with: for these, "
            f"start it with --alerts {setup.alerts_file})"
        )
    if setup.alerts_api is False:
        lines.append(
            "             NOTE: this glasspane has no alerts engine yet (GET /api/v1/alerts is "
            "404): the rules are not evaluated and nothing will arrive"
        )
    return lines


def _where(setup: Setup) -> list[str]:
    scenario = "user.email:demo@test.com transaction:uploadDocument timestamp:-15m"
    rows = [
        ("Transactions", _link(setup, "/", period="15m"), "registerOnBlockchain's failure rate"),
        (
            "Failing ones",
            _link(
                setup,
                "/transaction",
                name="registerOnBlockchain",
                service="blockchain-indexer",
                status="error",
                period="15m",
            ),
            "open a trace: blockchain.wait fails",
        ),
        ("The user", _link(setup, "/search", query=scenario), "the scenario's search"),
        (
            "Issues",
            _link(setup, "/issues", query="error.type:TransactionTimeoutError"),
            "events, affected users",
        ),
        ("Health", _link(setup, "/services", period="15m"), "blockchain-indexer degraded"),
        ("Regressions", _link(setup, "/regressions", period="1h"), "p95 of registerOnBlockchain"),
        ("Impact", _link(setup, "/impact", period="1h"), "users by country and browser"),
        ("Alerts", _link(setup, "/alerts"), "fired / resolved"),
        (
            "N+1 query",
            _link(setup, "/issues", query="issue.category:performance"),
            "createCase loads its filing page by page",
        ),
        ("Logs", _link(setup, "/explore/logs"), "upload started, RPC slow, confirmation timed out"),
        ("Replays", _link(setup, "/replays"), "the Chromium users' visits (when replays are on)"),
        (
            "Metrics",
            _link(
                setup,
                "/explore/metrics",
                name="blockchain_rpc_response_time",
                group_by="rpc.endpoint",
                period="15m",
            ),
            "RPC time now against normal; also document.upload.started",
        ),
        ("Releases", _link(setup, "/releases", period="1h"), "crash-free sessions per release"),
        ("Crons", _link(setup, "/crons", period="1h"), "the indexer's sync, its failed runs"),
        ("Feedback", _link(setup, "/feedback", period="1h"), "what users wrote on failed uploads"),
        (
            "Web vitals",
            _link(setup, "/web-vitals", period="1h"),
            "the upload page in Chromium (when replays are on)",
        ),
    ]
    lines = ["  Where to look (log in once with the Dashboard link)"]
    lines += [f"    {name:<13} {url}\n    {'':<13} {what}" for name, url, what in rows]
    lines.append(
        f"    Terminal      glasspane transactions --server {setup.server_url} --period 15m "
        "(token: --token or GLASSPANE_TOKEN)"
    )
    return lines


def progress(elapsed: float, traffic: dict[str, Any], fault: str, fix: str) -> str:
    started = traffic.get("started", 0)
    first = traffic.get("first_at")
    minutes = max(time.time() - first if first else elapsed, 1.0) / 60.0
    return (
        f"[{clock(elapsed)}] uploads {started} ({started / minutes:.0f}/min): "
        f"ok {traffic.get('ok', 0)}, failed {traffic.get('failed', 0)}, "
        f"in flight {traffic.get('in_flight', 0)} | fault {fault} | fix {fix}"
    )


def glimpse(transactions: list[dict[str, Any]], services: list[dict[str, Any]]) -> str | None:
    """One line of what glasspane shows: the worst transaction and the worst service."""
    if not transactions or not services:
        return None
    worst = max(transactions, key=lambda t: (t["failure_rate"], t["count"]))
    service = max(services, key=lambda s: (s["error_rate"], s["count"]))
    if worst["failure_rate"] == 0:
        return f"           glasspane: no failing transactions ({len(transactions)} kinds)"
    return (
        f"           glasspane: {worst['transaction']} fails {worst['failure_rate']:.1%} "
        f"(p95 {worst['p95_ms'] / 1000:.1f}s, {worst['throughput_per_min']:.0f}/min); "
        f"{service['service']} error rate {service['error_rate']:.1%}"
    )


def notification(channel: str, summary: str) -> str:
    return f"  >> {time.strftime('%H:%M:%S')} alert notification via {channel}: {summary}"
