"""``glasspane demo`` end to end: the scenario happens for real and is found the
way the scenario finds it, through the JSON API.

One demo run serves the module: its own server, the ten service processes
with the real sentry-sdk, the ``timeouts`` fault on from the start, time
compressed 10x (``--speed``: 30 s confirmation timeouts take 3 s, the alert
rules' 10-minute windows 60 s — long enough to hold some 40 sampled
registrations at 10% sampling, so the alert does not flap). After the
fault has run for a while the tests read the transactions table, a failing
trace, the issue, service health and throughput; then switch the fix on
through the control port and see registration recover and the alert resolve;
then stop the demo and check that no process it started is left.

A few pure tests of the demo's pieces (PDFs, the chain, the rules file, the
control routes) come first; they need no server.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from glasspane.demo import alert_rules
from glasspane.demo.chain import Chain, EndpointKnobs, RpcFailure, call
from glasspane.demo.control import route
from glasspane.demo.pdf import InvalidPdfError, make_pdf, read_pdf
from glasspane.demo.topology import SERVICES
from glasspane.demo.webapp import find_chromium, prepare
from serverproc import free_port
from waiting import wait_until

SPEED = 10
RATE = 300  # uploads per minute
FAULT_SECONDS = 35  # how long the fault runs before the tests look
ALERT_WINDOW = 600 / SPEED
SAMPLE_RATE = 0.1
TEN = {s.name for s in SERVICES}
BLOCKCHAIN_CONTEXT = {"network", "contractAddress", "txHash", "gasLimit", "documentHash", "caseId"}

e2e = pytest.mark.e2e


# -- the pieces, without a server -------------------------------------------------------
def test_generated_pdfs_validate_and_broken_ones_are_named() -> None:
    pdf = make_pdf(["Case type: Commercial", "Claimant: Acme (US)"])
    info = read_pdf(pdf)
    assert info.pages == 1 and info.lines == ("Case type: Commercial", "Claimant: Acme (US)")
    with pytest.raises(InvalidPdfError, match="truncated"):
        read_pdf(pdf[: len(pdf) // 2])
    with pytest.raises(InvalidPdfError, match="xref entry 3"):
        read_pdf(pdf.replace(b"3 0 obj", b"3 0 xxx"))


def test_underpriced_transactions_stay_pending_and_a_lagging_node_says_so() -> None:
    chain = Chain(now=0.0)
    chain.endpoints = {"primary": EndpointKnobs(lag_blocks=3, stale_gas_price=True)}

    def raw(gwei: float) -> str:
        body = {"to": "0x1", "gasLimit": 21000, "gasPrice": int(gwei * 1e9), "nonce": gwei}
        return "0x" + json.dumps(body).encode().hex()

    cheap = call(chain, "backup-1", "eth_sendRawTransaction", [raw(0.9)], 0.0)
    priced = call(chain, "backup-1", "eth_sendRawTransaction", [raw(1.0)], 0.0)
    chain.mine(2.0)
    assert call(chain, "backup-1", "eth_getTransactionReceipt", [cheap], 2.0) is None
    assert (
        call(chain, "backup-1", "eth_getTransactionReceipt", [priced], 2.0)["blockNumber"] == "0x1"
    )
    assert call(chain, "primary", "eth_getTransactionReceipt", [priced], 2.0) is None  # 3 behind
    assert call(chain, "backup-1", "eth_syncing", [], 2.0) is False
    assert call(chain, "primary", "eth_syncing", [], 2.0)["highestBlock"] == "0x3"
    chain.knobs = type(chain.knobs)(congestion=0.4)
    assert call(chain, "primary", "eth_gasPrice", [], 2.0) == hex(10**9)  # stale quote
    assert call(chain, "backup-1", "eth_gasPrice", [], 2.0) == hex(14 * 10**8)
    with pytest.raises(RpcFailure, match="does not exist"):
        call(chain, "primary", "eth_mine", [], 2.0)


def test_the_shipped_rules_file_is_the_scenarios_yaml_with_local_receivers() -> None:
    text = alert_rules.render("http://127.0.0.1:9999", 2525, speed=20)
    rules = yaml.safe_load(text)
    first, second = rules["alerts"]
    assert first["name"] == "Blockchain indexer degraded"
    assert {"service": "blockchain-indexer"} in first["conditions"]
    assert {"error_rate": "> 5%"} in first["conditions"]
    assert {"window": "30 seconds"} in first["conditions"]  # 10 minutes / 20
    assert {"slack": "#engineering-alerts"} in first["actions"]
    assert {"pagerduty": "blockchain-oncall"} in first["actions"]
    assert {"transaction": "uploadDocument"} in second["conditions"]
    settings = rules["settings"]
    assert settings["slack"]["#engineering-alerts"].startswith("http://127.0.0.1:9999/")
    assert settings["email"]["port"] == 2525
    assert "window: 10 minutes" in alert_rules.render("http://x", 1, speed=1)


def test_without_the_browser_kit_the_demo_says_what_is_missing(tmp_path: Path) -> None:
    app = prepare(tmp_path / "page", packages=tmp_path / "no-packages")
    assert not app.ready and not app.app_dir
    assert app.missing  # chromium, Playwright or the npm packages: whichever is absent first
    if find_chromium():
        assert "Playwright" in app.missing or "no @sentry/browser and esbuild in" in app.missing


def test_the_cli_offers_every_fault() -> None:
    from glasspane.cli.main import DEMO_FAULTS
    from glasspane.demo.faults import FAULTS

    assert list(DEMO_FAULTS) == list(FAULTS)


def test_control_routes_name_the_choices() -> None:
    class Controls:
        def status(self) -> dict[str, Any]:
            return {"fault": "none"}

        def set_fault(self, name: str) -> dict[str, Any]:
            raise ValueError(f"unknown fault {name!r}; choose one of none, timeouts")

        def set_fix(self, name: str) -> dict[str, Any]:
            return {"fix": name}

        def set_chain(self, knobs: dict[str, Any]) -> dict[str, Any]:
            return knobs

        def request_stop(self) -> dict[str, Any]:
            return {"stopping": True}

    controls = Controls()
    assert route(controls, "GET", "/status", b"") == (200, {"fault": "none"})
    assert route(controls, "POST", "/fix/rpc-fallback", b"") == (200, {"fix": "rpc-fallback"})
    status, answer = route(controls, "POST", "/fault/meteor", b"")
    assert status == 400 and "timeouts" in answer["detail"]
    assert route(controls, "POST", "/chain", b"[1]")[0] == 400
    assert route(controls, "DELETE", "/fault/x", b"")[0] == 404


# -- the demo, for real ------------------------------------------------------------------
@dataclass
class RunningDemo:
    process: subprocess.Popen[bytes]
    output: Path
    url: str
    data_dir: Path
    control: str
    ready_at: float

    @property
    def token(self) -> str:
        return (self.data_dir / "admin-token").read_text().strip()

    def api(self, path: str, **params: Any) -> Any:
        answer = httpx.get(
            self.url + path,
            params=params,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        assert answer.status_code == 200, f"{path}: {answer.status_code} {answer.text}"
        return answer.json()

    def status(self) -> dict[str, Any]:
        return dict(httpx.get(self.control + "/status", timeout=30).json())

    def printed(self) -> str:
        return self.output.read_text(errors="replace")


def _start(tmp: Path) -> RunningDemo:
    port, control = free_port(), free_port()
    output = tmp / "demo-output.txt"
    command = [
        sys.executable, "-m", "glasspane", "demo",
        "--data-dir", str(tmp / "data"), "--port", str(port), "--control-port", str(control),
        "--speed", str(SPEED), "--rate", str(RATE), "--fault", "timeouts",
        "--duration", "600", "--progress", "5",
    ]  # fmt: skip
    with open(output, "wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    run = RunningDemo(process, output, f"http://127.0.0.1:{port}", tmp / "data",
                      f"http://127.0.0.1:{control}", 0.0)  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"glasspane demo exited early:\n{run.printed()}")
        try:
            if httpx.get(run.control + "/status", timeout=2).status_code == 200:
                run.ready_at = time.monotonic()
                return run
        except httpx.HTTPError:
            time.sleep(0.5)
    process.kill()
    raise AssertionError(f"glasspane demo did not start:\n{run.printed()}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    run = _start(tmp_path_factory.mktemp("demo"))
    try:
        time.sleep(max(0.0, run.ready_at + FAULT_SECONDS - time.monotonic()))
        yield run
    finally:
        if run.process.poll() is None:
            run.process.terminate()
            try:
                run.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                run.process.kill()


@e2e
def test_it_prints_where_to_look(demo: RunningDemo) -> None:
    printed = demo.printed()
    assert f"Dashboard  {demo.url}/?token={demo.token}" in printed
    for spec in SERVICES:
        assert spec.name in printed
    assert printed.count(f"@127.0.0.1:{demo.url.rsplit(':', 1)[1]}/") >= 10  # the DSNs
    assert f"curl -X POST {demo.control}/fix/rpc-fallback" in printed
    assert "uploads" in printed  # progress lines


@e2e
def test_register_on_blockchain_has_the_highest_failure_rate(demo: RunningDemo) -> None:
    rows = demo.api("/api/v1/transactions", period="15m")["transactions"]
    measured = [r for r in rows if r["samples"] >= 5]  # not a 1-of-1 fluke
    worst = max(measured, key=lambda r: r["failure_rate"])
    assert (worst["transaction"], worst["service"]) == (
        "registerOnBlockchain",
        "blockchain-indexer",
    )
    assert worst["failure_rate"] > 0.15
    [upload] = [r for r in rows if r["transaction"] == "uploadDocument"]
    assert upload["failure_rate"] < worst["failure_rate"]  # aaa-service retried once


@e2e
def test_a_failing_trace_shows_blockchain_wait_timing_out_across_ten_services(
    demo: RunningDemo,
) -> None:
    query = "transaction:registerOnBlockchain trace.status:error"
    listed = demo.api("/api/v1/traces", query=query, period="15m", limit=100)["traces"]
    assert listed, "no failing trace"

    def complete(trace: dict[str, Any]) -> bool:
        kinds = {e["type"] for e in trace["errors"]}
        return "TransactionTimeoutError" in kinds and {s["service"] for s in trace["spans"]} == TEN

    found = None
    for row in sorted(listed, key=lambda r: r["timestamp"])[:20]:  # oldest: fully arrived
        trace = demo.api(f"/api/v1/traces/{row['trace_id']}")
        if complete(trace):
            found = trace
            break
    assert found is not None, "no failing trace with a timeout and spans from all ten services"
    assert found["status"] == "error"
    ops = {s["op"] for s in found["spans"]}
    assert {"blockchain.prepare", "blockchain.send", "blockchain.wait", "db.query"} <= ops
    failed_waits = {
        s["span_id"]: s
        for s in found["spans"]
        if s["op"] == "blockchain.wait" and s["status"] != "ok"
    }
    assert failed_waits and {s["status"] for s in failed_waits.values()} == {"deadline_exceeded"}
    [timeout, *_] = [e for e in found["errors"] if e["type"] == "TransactionTimeoutError"]
    assert timeout["span_id"] in failed_waits  # the error sits on the span that failed
    context = timeout["contexts"]["blockchain"]
    assert set(context) >= BLOCKCHAIN_CONTEXT
    assert context["network"] == "base-sepolia" and context["gasLimit"] == 500000
    assert "not confirmed after 30 seconds" in timeout["value"]


@e2e
def test_the_timeout_issue_has_events_and_affected_users(demo: RunningDemo) -> None:
    query = "error.type:TransactionTimeoutError"
    [issue] = demo.api("/api/v1/issues", query=query, period="15m")["issues"]
    assert issue["count"] >= 10  # errors are not sampled: every timeout is an event
    assert issue["users"] >= 5
    detail = demo.api(f"/api/v1/issues/{issue['id']}")
    latest = detail["latest_event"]
    assert set(latest["contexts"]["blockchain"]) >= BLOCKCHAIN_CONTEXT
    impact = demo.api("/api/v1/impact", query="transaction:uploadDocument", period="15m")
    assert impact["users"] >= 2 and impact["by_browser"]  # Chrome, Safari, Firefox users


@e2e
def test_the_services_log_through_the_sdk_and_each_line_carries_its_trace(
    demo: RunningDemo,
) -> None:
    def logs(query: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = demo.api("/api/v1/logs", query=query, period="15m")["logs"]
        return found

    started = wait_until(lambda: logs('"Upload started"'), 20, bool, 1.0, "upload logs")
    assert {line["service"] for line in started} == {"trust-platform"}
    assert {line["level"] for line in started} == {"info"}
    assert all(line["trace_id"] for line in started)
    assert started[0]["body"].startswith("Upload started: arbitration-case-")
    [timeout, *_] = wait_until(
        lambda: logs('level:error "Confirmation timed out"'), 20, bool, 1.0, "timeout logs"
    )
    assert timeout["service"] == "blockchain-indexer"
    assert timeout["body"].endswith("after 30 s") and "on primary" in timeout["body"]
    slow = logs('level:warn "RPC slow"')  # the fault's primary answers in ~1.5 s
    assert slow and {line["service"] for line in slow} <= {
        "blockchain-indexer",
        "smart-contract-service",
    }


@e2e
def test_the_scenarios_metrics_arrive_with_their_attributes(demo: RunningDemo) -> None:
    names = {m["name"]: m for m in demo.api("/api/v1/metrics/names", period="15m")["metrics"]}
    assert names["document.upload.started"]["type"] == "counter"
    assert names["blockchain.confirmation_time"]["type"] == "distribution"
    assert names["blockchain_rpc_response_time"]["unit"] == "millisecond"

    def series(name: str, group_by: str) -> dict[str, Any]:
        answer: dict[str, Any] = demo.api(
            "/api/v1/metrics", name=name, period="15m", group_by=group_by
        )
        return answer

    started = series("document.upload.started", "caseType")
    uploads = demo.status()["traffic"]["started"]
    # Metrics are not sampled: every upload counts (less those still in the SDK's batch).
    assert uploads * 0.5 <= started["totals"]["sum"] <= uploads
    assert {g["value"] for g in started["groups"]} >= {"Commercial", "Construction"}
    rpc = series("blockchain_rpc_response_time", "rpc.endpoint")
    [primary] = [g for g in rpc["groups"] if g["value"] == "primary"]
    assert primary["totals"]["p50"] > 1000  # the fault: ~1.5 s where ~80 ms is normal
    confirmed = series("blockchain.confirmation_time", "network")["totals"]
    assert confirmed["count"] >= 5 and 1000 < confirmed["p50"] < 30_000


@e2e
def test_release_health_cron_check_ins_and_feedback_on_failed_uploads(
    demo: RunningDemo,
) -> None:
    def releases() -> dict[str, dict[str, Any]]:
        rows = demo.api("/api/v1/releases", period="15m")["releases"]
        return {r["release"]: r for r in rows}

    both = ("react-app@2025.11.0", "trust-platform@2025.11.0")
    found = wait_until(releases, 30, lambda r: all(name in r for name in both), 1.0, "releases")
    browser = found["react-app@2025.11.0"]  # one session per upload, errored when it failed
    assert browser["sessions"] >= 20 and browser["errored"] >= 1 and browser["users"] >= 5
    assert 0 < browser["healthy"] < browser["sessions"]
    assert found["trust-platform@2025.11.0"]["sessions"] >= 20  # the SDK's request sessions

    [sync] = demo.api("/api/v1/monitors", period="15m")["monitors"]
    assert (sync["slug"], sync["project"]) == ("indexer-sync", "blockchain-indexer")
    assert sync["schedule"] == {"type": "crontab", "value": "* * * * *"}
    assert sync["ok"] >= 1 and sync["failed"] == 0  # the fault's primary still answers
    finished = [r for r in sync["recent_runs"] if r["status"] == "ok"]
    assert finished and finished[0]["duration_ms"] > 0  # the newest may still be in progress

    feedback = demo.api("/api/v1/feedback", period="15m")["feedback"]
    assert feedback, "no feedback on a failed upload"
    words = feedback[0]
    assert words["project"] == "react-app" and words["contact_email"]
    # The error the user wrote about is an event of an UploadError issue (the simulated
    # browsers' or, when the page in Chromium failed too, the real one's).
    issues = demo.api("/api/v1/issues", query="error.type:UploadError", period="15m")["issues"]
    paths = [f"/api/v1/issues/{i['id']}/events/{words['associated_event_id']}" for i in issues]
    headers = {"Authorization": f"Bearer {demo.token}"}
    found_in = [p for p in paths if httpx.get(demo.url + p, headers=headers).status_code == 200]
    assert len(found_in) == 1, (issues, words)
    assert demo.api(found_in[0])["event_id"] == words["associated_event_id"]


@e2e
def test_create_case_runs_an_n_plus_one_found_as_a_performance_issue(demo: RunningDemo) -> None:
    query = "issue.category:performance issue.type:n_plus_one_db_queries"
    [issue] = demo.api("/api/v1/issues", query=query, period="15m")["issues"]
    assert (issue["culprit"], issue["project"]) == ("createCase", "aaa-service")
    evidence = demo.api(f"/api/v1/issues/{issue['id']}")["latest_event"]["evidence"]
    assert "FROM filing_pages WHERE case_type = ? AND page = ?" in evidence["statement"]
    assert evidence["repeated"] == 8 and evidence["duration_ms"] >= 50
    errors = demo.api("/api/v1/issues", query="issue.category:error", period="15m")["issues"]
    assert all(e["type"] != "n_plus_one_db_queries" for e in errors)


@e2e
def test_real_chromium_users_come_back_as_session_replays(demo: RunningDemo) -> None:
    """Here Chromium, Playwright and tests/browser's npm packages are present (the UI and
    browser tests need them too), so the demo must drive real browsers."""
    assert "Replays    users one at a time in real Chromium" in demo.printed()

    def replays() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = demo.api("/api/v1/replays", period="15m")["replays"]
        return [r for r in found if r["project"] == "react-app"]

    def complete_visit() -> dict[str, Any] | None:
        """A replay whose segments so far hold the whole visit (the newest may still be
        arriving: its upload request is recorded once it has answered)."""
        for row in replays():
            replay = dict(demo.api(f"/api/v1/replays/{row['id']}"))
            if any(
                e["type"] == "network" and "/api/documents/upload" in e["url"]
                for e in replay["timeline"]
            ):
                return replay
        return None

    replay = wait_until(complete_visit, 60, bool, 1.0, "a replay of a whole visit")
    assert demo.status()["traffic"]["chromium_visits"] >= 1
    assert replay["user"]["id"].startswith("u-1") and "@" in replay["user"]["email"]
    timeline = replay["timeline"]
    assert timeline[0]["type"] == "navigation" and timeline[0]["url"].endswith("/documents")
    clicked = [e["text"] for e in timeline if e["type"] == "click"]
    assert clicked[:1] == ["Upload Document"] and "Submit" in clicked
    [post] = [e for e in timeline if e["type"] == "network" and "/api/documents/upload" in e["url"]]
    assert post["method"] == "POST" and post["status"] in (200, 502, 504)

    def failed_visit() -> dict[str, Any] | None:
        for row in replays():
            if row["count_errors"]:
                return dict(demo.api(f"/api/v1/replays/{row['id']}"))
        return None

    # Under `timeouts` about one upload in ten fails; with the primary endpoint down, every
    # one does, so the next visit fails for sure. Then back to the module's fault.
    assert httpx.post(demo.control + "/fault/rpc-down", timeout=30).status_code == 200
    try:
        failed = wait_until(failed_visit, 60, bool, 2.0, "a replay of a failed upload")
    finally:
        assert httpx.post(demo.control + "/fault/timeouts", timeout=30).status_code == 200
    shown = [t for e in failed["timeline"] if e["type"] == "dom" for t in e["texts"]]
    assert any(t.startswith("Upload failed (") for t in shown), shown
    errors = [e for e in failed["timeline"] if e["type"] == "error"]
    own = [e for e in errors if e["linked_by"] == "replay"]  # not those of its trace
    assert own and own[0]["title"].startswith("UploadError: Upload failed ("), errors


@e2e
def test_service_health_flags_blockchain_indexer(demo: RunningDemo) -> None:
    services = demo.api("/api/v1/services", period="15m")["services"]
    assert {s["service"] for s in services} == TEN
    worst = max(services, key=lambda s: s["error_rate"])
    assert worst["service"] == "blockchain-indexer"
    assert worst["error_rate"] > 0.05  # the alert rule's threshold


@e2e
def test_throughput_is_the_generators_real_rate_despite_10_percent_sampling(
    demo: RunningDemo,
) -> None:
    before = demo.status()["traffic"]
    [row] = demo.api("/api/v1/transactions", query="transaction:uploadDocument", period="15m")[
        "transactions"
    ]
    after = demo.status()["traffic"]
    real = (before["completed"] + after["completed"]) / 2
    # Each sampled upload stands for 1 / 0.1 = 10; the count is a sum of n Bernoulli(0.1) x 10.
    sigma = math.sqrt(real * (1 - SAMPLE_RATE) / SAMPLE_RATE)
    slack = 4 * sigma + after["in_flight"] + (after["completed"] - before["completed"])
    assert abs(row["count"] - real) <= slack, (row, before, after)
    assert row["count"] == pytest.approx(row["samples"] / SAMPLE_RATE)
    assert row["throughput_per_min"] == pytest.approx(row["count"] / 15, rel=1e-3)
    elapsed = time.monotonic() - demo.ready_at
    assert after["started"] / elapsed * 60 == pytest.approx(RATE, rel=0.35)  # Poisson arrivals


@e2e
def test_the_fix_recovers_registration_and_the_alert_fires_then_resolves(
    demo: RunningDemo,
) -> None:
    alerts = httpx.get(
        demo.url + "/api/v1/alerts", headers={"Authorization": f"Bearer {demo.token}"}
    )

    def rule() -> dict[str, Any]:
        rules = demo.api("/api/v1/alerts")["rules"]
        return next(r for r in rules if r["name"] == "Blockchain indexer degraded")

    assert alerts.status_code == 200, alerts.text
    wait_until(rule, 30, lambda r: r["state"] == "firing", 1.0, "the alert firing")

    answer = httpx.post(demo.control + "/fix/rpc-fallback", timeout=30)
    assert answer.status_code == 200 and answer.json()["fix"] == "rpc-fallback"
    fixed_at = time.time()
    time.sleep(10)  # registrations in flight at the switch finish (2 attempts x 3 s)

    def recent() -> list[dict[str, Any]]:
        query = "transaction:registerOnBlockchain"
        rows: list[dict[str, Any]] = demo.api("/api/v1/transactions", query=query, period="10s")[
            "transactions"
        ]
        return rows

    wait_until(recent, 40, lambda rows: bool(rows) and rows[0]["failure_rate"] == 0, 1.0)

    resolved = wait_until(  # once the window holds no failure: a window and some more
        rule,
        ALERT_WINDOW + 30,
        lambda r: any(h.get("state") == "resolved" and h["at"] > fixed_at for h in r["history"]),
        1.0,
    )
    transitions = [(h["state"], h["at"]) for h in resolved["history"] if "state" in h]
    assert any(state == "firing" and at < fixed_at for state, at in transitions), transitions
    assert any(state == "resolved" and at > fixed_at for state, at in transitions), transitions

    def delivered(received: list[dict[str, Any]]) -> bool:
        slack = [n for n in received if n["channel"] == "slack #engineering-alerts"]
        pagerduty = [n["summary"] for n in received if n["channel"] == "pagerduty"]
        return len(slack) >= 2 and any(s.startswith("resolve") for s in pagerduty)

    # Fired and resolved, on Slack and PagerDuty.
    received = wait_until(lambda: demo.status()["alerts"]["notifications"], 30, delivered, 1.0)
    pagerduty = [n["summary"] for n in received if n["channel"] == "pagerduty"]
    assert any(s.startswith("trigger") for s in pagerduty), received


@e2e
def test_it_stops_every_process_it_started(demo: RunningDemo) -> None:
    processes = demo.status()["processes"]
    assert len(processes) == 11 and all(p["alive"] for p in processes)  # 10 + the server
    answer = httpx.post(demo.control + "/stop", timeout=30)
    assert answer.status_code == 200
    assert demo.process.wait(timeout=90) == 0
    wait_until(lambda: [p for p in processes if _alive(p["pid"])], 10, lambda left: not left, 0.2)
    assert "glasspane demo stopped 11 processes" in demo.printed()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
