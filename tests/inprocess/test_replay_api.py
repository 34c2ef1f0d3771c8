"""Session replay in-process: a recorded @sentry/browser replay, its timeline and links."""

from __future__ import annotations

import zlib
from pathlib import Path

import orjson

from inprocess.conftest import App

FIXTURES = Path(__file__).parent.parent / "fixtures" / "envelopes"
REPLAY_ID = "7b8035352d4e4149bafe59ed0bf44c1c"
TRACE_ID = "336e8130762e4265871025a9ab873b24"
ERROR_ID = "8c0d4abd0aca451d802db2f137e28a06"


def _post(app: App, name: str, **headers: str) -> dict:
    body = (FIXTURES / name).read_bytes()
    response = app.client.post(app.envelope_url(), content=body, headers={**app.auth(), **headers})
    assert response.status_code == 200, response.text
    return dict(response.json())


def _replay(app: App, replay_id: str = REPLAY_ID) -> dict:
    response = app.client.get(f"/api/v1/replays/{replay_id}", headers=app.admin())
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_recorded_replay_has_segments_links_and_timeline(app: App) -> None:
    answer = _post(app, "browser-replay.envelope", Origin="http://127.0.0.1:9413")
    assert answer == {"id": REPLAY_ID}
    _post(app, "browser-error.envelope")
    _post(app, "browser-feedback.envelope")
    replay = _replay(app)
    assert replay["user"] == {"id": "u-42", "email": "demo@test.com"}
    assert replay["browser"] == "HeadlessChrome" or replay["browser"].startswith("Chrome")
    assert [s["segment_id"] for s in replay["segments"]] == [0]
    assert replay["segments"][0]["events"] == 50 and replay["segments"][0]["has_recording"]
    assert replay["trace_ids"] == [TRACE_ID] and replay["error_ids"] == [ERROR_ID]
    [error] = replay["errors"]
    assert error["event_id"] == ERROR_ID and error["linked_by"] == "replay"
    assert replay["issue_ids"] == [error["issue_id"]]
    kinds = [e["type"] for e in replay["timeline"]]
    assert kinds == [
        "navigation",
        "click",
        "input",
        "click",
        "network",
        "dom",
        "dom",
        "error",
        "feedback",
    ]
    by_kind = {e["type"]: e for e in replay["timeline"]}
    clicks = [e for e in replay["timeline"] if e["type"] == "click"]
    assert clicks[1]["text"] == "Upload Document"
    assert clicks[1]["description"] == 'Clicked "Upload Document"'
    assert by_kind["input"]["masked"] is True and set(by_kind["input"]["value"]) == {"*"}
    assert by_kind["input"]["element_id"] == "case-name"
    network = by_kind["network"]
    assert (network["method"], network["status"]) == ("GET", 504)
    assert "/upload?fail=1" in network["url"] and network["duration_ms"] > 0
    assert by_kind["error"]["title"] == "Error: Blockchain confirmation timeout"
    assert by_kind["feedback"]["message"] == "The upload spins forever"
    assert replay["timeline"][0]["offset_ms"] == 0
    assert all(e["offset_ms"] >= 0 for e in replay["timeline"])
    assert replay["feedback"][0]["message"] == "The upload spins forever"


def test_replay_envelope_answer_allows_the_page_origin(app: App) -> None:
    body = (FIXTURES / "browser-replay.envelope").read_bytes()
    origin = "http://127.0.0.1:9413"
    response = app.client.post(
        app.envelope_url(), content=body, headers={**app.auth(), "Origin": origin}
    )
    assert response.headers["access-control-allow-origin"] == origin


def test_trace_and_issue_find_their_replays(app: App) -> None:
    _post(app, "browser-replay.envelope")
    _post(app, "browser-error.envelope")
    by_trace = app.client.get(f"/api/v1/replays?trace_id={TRACE_ID}", headers=app.admin())
    assert [r["id"] for r in by_trace.json()["replays"]] == [REPLAY_ID]
    issue_id = _replay(app)["issue_ids"][0]
    by_issue = app.client.get(f"/api/v1/replays?issue_id={issue_id}", headers=app.admin())
    [listed] = by_issue.json()["replays"]
    assert listed["id"] == REPLAY_ID and listed["error_ids"] == [ERROR_ID]
    issue = app.client.get(f"/api/v1/issues/{issue_id}", headers=app.admin()).json()
    assert issue["replay_ids"] == [REPLAY_ID]
    assert app.trace(TRACE_ID)["replay_ids"] == [REPLAY_ID]
    other = app.client.get(f"/api/v1/replays?trace_id={'0' * 32}", headers=app.admin())
    assert other.json() == {"replays": []}


def test_recording_endpoint_returns_rrweb_events(app: App) -> None:
    _post(app, "browser-replay.envelope")
    response = app.client.get(f"/api/v1/replays/{REPLAY_ID}/recording", headers=app.admin())
    [segment] = response.json()["segments"]
    assert segment["segment_id"] == 0 and len(segment["events"]) == 50
    assert segment["events"][0]["type"] == 0


def test_unknown_and_malformed_replay_ids(app: App) -> None:
    missing = app.client.get(f"/api/v1/replays/{'a' * 32}", headers=app.admin())
    assert missing.status_code == 404 and "No replay" in missing.json()["detail"]
    bad = app.client.get("/api/v1/replays/not-an-id", headers=app.admin())
    assert bad.status_code == 400 and "32 hex" in bad.json()["detail"]
    assert app.client.get(f"/api/v1/replays/{REPLAY_ID}").status_code == 401


def _replay_envelope(segment: int, events: list[dict], *, compress: bool = True) -> bytes:
    data = orjson.dumps(events)
    body = b'{"segment_id":%d}\n' % segment + (zlib.compress(data) if compress else data)
    event = {
        "type": "replay_event",
        "replay_id": REPLAY_ID,
        "segment_id": segment,
        "timestamp": 1795904790.0 + segment,
        "replay_start_timestamp": 1795904780.0,
        "trace_ids": [],
        "error_ids": [],
        "urls": [],
    }
    return b"\n".join(
        [
            orjson.dumps({"event_id": REPLAY_ID}),
            b'{"type":"replay_event"}',
            orjson.dumps(event),
            b'{"type":"replay_recording","length":%d}' % len(body),
            body,
        ]
    )


def test_segments_merge_in_order_and_resent_segments_count_once(app: App) -> None:
    click = {
        "type": 5,
        "timestamp": 1795904791000,
        "data": {
            "tag": "breadcrumb",
            "payload": {
                "timestamp": 1795904791.0,
                "category": "ui.click",
                "message": "button#go",
                "data": {"nodeId": 3, "node": {"tagName": "button", "textContent": "Go"}},
            },
        },
    }
    meta = {"type": 4, "timestamp": 1795904780500, "data": {"href": "http://app/documents"}}
    for body in (
        _replay_envelope(1, [click], compress=False),
        _replay_envelope(0, [meta]),
        _replay_envelope(1, [click]),
    ):
        response = app.client.post(app.envelope_url(), content=body, headers=app.auth())
        assert response.status_code == 200, response.text
    replay = _replay(app)
    assert [s["segment_id"] for s in replay["segments"]] == [0, 1]
    assert [(e["type"], e["offset_ms"]) for e in replay["timeline"]] == [
        ("navigation", 500),
        ("click", 11000),
    ]


def test_broken_recording_is_counted_and_the_event_kept(app: App) -> None:
    body = _replay_envelope(0, []).replace(b"\x78\x9c", b"\x00\x00")
    response = app.client.post(app.envelope_url(), content=body, headers=app.auth())
    assert response.status_code == 200, response.text
    assert "replay_recording" in response.json()["errors"][0]
    assert {(o["category"], o["reason"]) for o in app.outcomes()} == {("replay", "invalid")}
    assert _replay(app)["segments"] == [
        {
            "segment_id": 0,
            "timestamp": 1795904790.0,
            "received_at": _replay(app)["segments"][0]["received_at"],
            "urls": [],
            "trace_ids": [],
            "error_ids": [],
            "events": 0,
            "size_bytes": 0,
            "has_recording": False,
        }
    ]
