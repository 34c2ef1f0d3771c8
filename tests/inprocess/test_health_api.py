"""Release health, cron monitors, client reports, feedback and profiles, in-process."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from inprocess.conftest import App

FIXTURES = Path(__file__).parent.parent / "fixtures" / "envelopes"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def _envelope(*items: tuple[str, Any], header: dict | None = None) -> bytes:
    lines = [orjson.dumps(header or {})]
    for item_type, payload in items:
        lines += [orjson.dumps({"type": item_type}), orjson.dumps(payload)]
    return b"\n".join(lines)


def _post(app: App, body: bytes) -> dict:
    response = app.client.post(app.envelope_url(), content=body, headers=app.auth())
    assert response.status_code == 200, response.text
    return dict(response.json())


def _get(app: App, path: str) -> dict:
    response = app.client.get(path, headers=app.admin())
    assert response.status_code == 200, response.text
    return dict(response.json())


def _session(sid: str, status: str, did: str | None, errors: int = 0, **extra: Any) -> dict:
    now = time.time()
    return {
        "sid": sid,
        "did": did,
        "init": extra.pop("init", False),
        "started": _iso(now - 10),
        "timestamp": _iso(now),
        "status": status,
        "errors": errors,
        "attrs": {"release": "web@1.0.0", "environment": "prod"},
        **extra,
    }


def test_release_health_counts_each_session_by_its_worst_update(app: App) -> None:
    for payload in (
        _session("a", "ok", "u1", init=True),
        _session("a", "exited", "u1"),
        _session("b", "ok", "u2", init=True),
        _session("b", "ok", "u2", errors=1),  # a handled error: errored, not crashed
        _session("b", "exited", "u2", errors=1),
        _session("c", "ok", "u3", init=True),
        _session("c", "unhandled", "u3", errors=1),  # the browser's uncaught error
        _session("d", "crashed", "u3", errors=1),
    ):
        _post(app, _envelope(("session", payload)))
    started = _iso(time.time() - 30)
    aggregates = {
        "attrs": {"release": "web@1.0.0", "environment": "staging"},
        "aggregates": [{"started": started, "exited": 5, "crashed": 1}],
    }
    _post(app, _envelope(("sessions", aggregates)))
    [release] = _get(app, "/api/v1/releases")["releases"]
    assert release["release"] == "web@1.0.0" and release["project"] == "default"
    assert release["environments"] == ["prod", "staging"]
    assert (release["sessions"], release["healthy"], release["errored"]) == (10, 6, 1)
    assert (release["unhandled"], release["crashed"]) == (1, 2)
    assert release["crash_free_sessions"] == 0.7
    assert (release["users"], release["crashed_users"]) == (3, 1)
    assert round(release["crash_free_users"], 4) == 0.6667


def test_recorded_sessions_and_missing_release(app: App) -> None:
    _post(app, (FIXTURES / "python-sessions.envelope").read_bytes())
    _post(app, (FIXTURES / "browser-session.envelope").read_bytes())
    _post(app, (FIXTURES / "browser-session-unhandled.envelope").read_bytes())
    releases = {r["release"]: r for r in _get(app, "/api/v1/releases?period=400d")["releases"]}
    assert releases["upload-backend@1.0.0"]["healthy"] == 2
    browser = releases["browser-e2e@1.0.0"]
    assert (browser["sessions"], browser["unhandled"], browser["users"]) == (1, 1, 1)
    assert browser["crash_free_sessions"] == 0.0
    no_release = _session("e", "ok", None)
    no_release["attrs"] = {}
    body = _envelope(("session", no_release))
    answer = app.client.post(app.envelope_url(), content=body, headers=app.auth())
    assert answer.status_code == 400
    assert "release health is counted per release" in answer.json()["detail"]
    assert ("session", "missing_release") in {(o["category"], o["reason"]) for o in app.outcomes()}


def _check_in(slug: str, status: str, ts: float, check_in_id: str, **extra: Any) -> dict:
    return {
        "check_in_id": check_in_id,
        "monitor_slug": slug,
        "status": status,
        "timestamp": ts,
        "environment": "prod",
        **extra,
    }


def test_monitor_runs_failures_timeouts_and_missed_runs(app: App) -> None:
    now = time.time()
    config = {
        "schedule": {"type": "interval", "value": 10, "unit": "minute"},
        "checkin_margin": 1,
        "max_runtime": 5,
    }
    ids = [uuid.uuid4().hex for _ in range(4)]
    for payload in (
        # 60 minutes ago: ok; 50: error; 40: started, never finished (a timeout).
        _check_in("import", "in_progress", now - 3600, ids[0], monitor_config=config),
        _check_in("import", "ok", now - 3590, ids[0], duration=10.0, monitor_config=config),
        _check_in("import", "error", now - 3000, ids[1], duration=2.5),
        _check_in("import", "in_progress", now - 2400, ids[2]),
        # then silence: runs due at -30, -20 and -10 minutes were missed.
        _check_in("heartbeat", "ok", now - 5, ids[3]),
    ):
        _post(app, _envelope(("check_in", payload)))
    monitors = {m["slug"]: m for m in _get(app, "/api/v1/monitors")["monitors"]}
    job = monitors["import"]
    assert job["schedule"] == config["schedule"] and job["environment"] == "prod"
    assert (job["runs"], job["ok"], job["errors"], job["timeouts"]) == (3, 1, 1, 1)
    assert job["failed"] == 2 and job["missed"] == 3 and job["status"] == "missed"
    assert [round(t - now) for t in job["missed_at"]] == [-1800, -1200, -600]
    assert [r["status"] for r in job["recent_runs"]] == ["timeout", "error", "ok"]
    assert job["recent_runs"][2]["duration_ms"] == 10000.0
    assert monitors["heartbeat"]["missed"] is None and monitors["heartbeat"]["status"] == "ok"
    one = _get(app, "/api/v1/monitors/import")["monitor"]
    assert one["missed"] == 3
    missing = app.client.get("/api/v1/monitors/nope", headers=app.admin())
    assert missing.status_code == 404


def test_client_reports_by_reason(app: App) -> None:
    report = {
        "timestamp": time.time(),
        "discarded_events": [
            {"reason": "sample_rate", "category": "transaction", "quantity": 7},
            {"reason": "before_send", "category": "error", "quantity": 2},
            {"reason": "sample_rate", "category": "span", "quantity": 3},
        ],
    }
    _post(app, _envelope(("client_report", report)))
    reports = _get(app, "/api/v1/client-reports")
    assert reports["total"] == 12
    assert reports["by_reason"] == {"sample_rate": 10, "before_send": 2}
    assert reports["by_category"]["transaction"] == 7
    assert {(r["reason"], r["category"], r["quantity"]) for r in reports["client_reports"]} == {
        ("sample_rate", "transaction", 7),
        ("before_send", "error", 2),
        ("sample_rate", "span", 3),
    }


def test_feedback_is_listed_with_its_replay(app: App) -> None:
    body = (FIXTURES / "browser-feedback.envelope").read_bytes()
    header, item_header, payload = body.split(b"\n")
    data = orjson.loads(payload)
    data["timestamp"] = time.time()
    _post(app, b"\n".join([header, item_header, orjson.dumps(data)]))
    report = {
        "event_id": uuid.uuid4().hex,
        "name": "Ann",
        "email": "ann@x.io",
        "comments": "It broke",
    }
    _post(app, _envelope(("user_report", report)))
    feedback = _get(app, "/api/v1/feedback")["feedback"]
    assert [f["message"] for f in feedback] == ["It broke", "The upload spins forever"]
    browser = feedback[1]
    assert browser["replay_id"] == "7b8035352d4e4149bafe59ed0bf44c1c"
    assert browser["contact_email"] == "demo@test.com" and browser["user"]["id"] == "u-42"
    assert feedback[0]["associated_event_id"] == report["event_id"]
    by_replay = _get(app, f"/api/v1/feedback?replay_id={browser['replay_id']}")["feedback"]
    assert [f["event_id"] for f in by_replay] == [browser["event_id"]]
    empty = {"type": "feedback", "contexts": {"feedback": {"message": " "}}}
    body = _envelope(("feedback", empty), ("session", _session("f", "ok", "u9")))
    assert "no message" in _post(app, body)["errors"][0]


def _profile(transaction_id: str, trace_id: str) -> dict:
    frames = [
        {"function": "main", "module": "app", "filename": "app.py", "lineno": 1},
        {"function": "work", "module": "app", "filename": "app.py", "lineno": 5},
        {"function": "sleep", "module": "time", "filename": "time.py", "lineno": 9},
    ]
    # Stacks list the innermost frame first, as sentry-python sends them.
    stacks = [[1, 0], [2, 1, 0]]
    samples = [
        {"elapsed_since_start_ns": str(i * 10_000_000), "thread_id": "1", "stack_id": i % 2}
        for i in range(10)
    ]
    return {
        "event_id": uuid.uuid4().hex,
        "version": "1",
        "platform": "python",
        "timestamp": _iso(time.time()),
        "release": "jobs@2.0.0",
        "environment": "prod",
        "transactions": [
            {
                "id": transaction_id,
                "name": "nightly-report",
                "trace_id": trace_id,
                "relative_start_ns": "0",
                "relative_end_ns": "200000000",
                "active_thread_id": "1",
            }
        ],
        "profile": {
            "frames": frames,
            "stacks": stacks,
            "samples": samples,
            "thread_metadata": {"1": {"name": "MainThread"}},
        },
    }


def test_profile_is_kept_and_linked_to_its_transaction(app: App) -> None:
    from envelopes import transaction

    txn = transaction(name="nightly-report")
    trace_id = txn["contexts"]["trace"]["trace_id"]
    profile = _profile(txn["event_id"], trace_id)
    _post(app, _envelope(("transaction", txn), ("profile", profile)))
    listed = _get(app, f"/api/v1/profiles?transaction_id={txn['event_id']}")["profiles"]
    assert [p["id"] for p in listed] == [profile["event_id"]]
    assert _get(app, f"/api/v1/profiles?trace_id={trace_id}")["profiles"] == listed
    one = _get(app, f"/api/v1/profiles/{profile['event_id']}")
    assert one["transaction"] == {
        "event_id": txn["event_id"],
        "name": "nightly-report",
        "trace_id": trace_id,
    }
    assert (one["samples"], one["duration_ms"], one["release"]) == (10, 200.0, "jobs@2.0.0")
    top = {f["function"]: f for f in one["top_functions"]}
    assert top["app.main"]["total_samples"] == 10 and top["app.main"]["self_samples"] == 0
    assert top["time.sleep"]["self_samples"] == 5 and top["app.work"]["self_samples"] == 5
    assert one["profile"]["frames"][0]["function"] == "main"
    assert app.client.get(f"/api/v1/profiles/{'0' * 32}", headers=app.admin()).status_code == 404


def test_profile_chunk_is_kept(app: App) -> None:
    chunk = {
        "chunk_id": uuid.uuid4().hex,
        "profiler_id": uuid.uuid4().hex,
        "version": "2",
        "platform": "python",
        "profile": {
            "frames": [{"function": "f"}],
            "stacks": [[0]],
            "samples": [
                {"timestamp": time.time() - 1, "thread_id": "1", "stack_id": 0},
                {"timestamp": time.time(), "thread_id": "1", "stack_id": 0},
            ],
        },
    }
    _post(app, _envelope(("profile_chunk", chunk)))
    one = _get(app, f"/api/v1/profiles/{chunk['chunk_id']}")
    assert one["kind"] == "chunk" and one["profiler_id"] == chunk["profiler_id"]
    assert one["samples"] == 2 and 900 < one["duration_ms"] < 1100


def test_endpoints_need_the_admin_token(app: App) -> None:
    for path in (
        "/api/v1/releases",
        "/api/v1/monitors",
        "/api/v1/client-reports",
        "/api/v1/feedback",
        "/api/v1/profiles",
        "/api/v1/replays",
    ):
        assert app.client.get(path).status_code == 401, path
    bad = app.client.get("/api/v1/releases?period=forever", headers=app.admin())
    assert bad.status_code == 400 and "period" in bad.json()["detail"]
