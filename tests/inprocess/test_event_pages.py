"""The event page: one event of an issue in full, reached from the issue's events
list and the trace page, with links to its newer and older events; and the API's
read of one event, which answers 404 for an event of another issue."""

from __future__ import annotations

import re
import time
from typing import Any

from fastapi.testclient import TestClient

from envelopes import envelope_bytes, error_event, new_trace_id
from inprocess.conftest import App


def send(app: App, event: dict[str, Any]) -> None:
    answer = app.client.post(app.envelope_url(), content=envelope_bytes(event), headers=app.auth())
    assert answer.status_code == 200, answer.text


def three_events(app: App, trace_id: str) -> tuple[int, list[str]]:
    """Three events of one issue, oldest first, each with its own message, tag and crumb."""
    now = time.time()
    ids = []
    for n in (1, 2, 3):
        event = error_event(
            trace_id=trace_id if n == 2 else None,
            timestamp=now - 40 + 10 * n,
            tags={"attempt": f"attempt-{n}"},
            breadcrumbs={"values": [{"category": "rpc", "message": f"crumb number {n}"}]},
        )
        event["exception"]["values"][0]["value"] = f"upload failed at step {n}"
        send(app, event)
        ids.append(event["event_id"])
    [issue] = app.client.get("/api/v1/issues", headers=app.admin()).json()["issues"]
    return issue["id"], ids


def logged_in(app: App) -> TestClient:
    client = TestClient(app.client.app)
    answer = client.post("/login", data={"name": "", "password": app.token}, follow_redirects=False)
    assert answer.status_code == 303
    return client


def event_section(html: str) -> str:
    """The page's main column: the event in full, without the issue's header."""
    return html.split('class="col-main"', 1)[1].split('class="col-side"', 1)[0]


def test_the_event_page_shows_that_event_not_the_latest(app: App) -> None:
    trace_id = new_trace_id()
    issue_id, (first, middle, last) = three_events(app, trace_id)
    client = logged_in(app)

    page = client.get(f"/issues/{issue_id}/events/{middle}")
    assert page.status_code == 200, page.text
    main = event_section(page.text)
    assert "upload failed at step 2" in main and "crumb number 2" in main
    assert "step 3" not in main and "crumb number 3" not in main
    assert "attempt-2" in page.text and "attempt-3" not in page.text
    assert f'href="/traces/{trace_id}' in main
    assert re.search(rf'class="newer-event" href="/issues/{issue_id}/events/{last}"', page.text)
    assert re.search(rf'class="older-event" href="/issues/{issue_id}/events/{first}"', page.text)
    assert f'href="/issues/{issue_id}"' in page.text  # the issue's header links back

    oldest = client.get(f"/issues/{issue_id}/events/{first}").text
    assert "upload failed at step 1" in event_section(oldest)
    assert 'class="older-event"' not in oldest and 'class="newer-event"' in oldest


def test_event_ids_link_to_the_event_page(app: App) -> None:
    trace_id = new_trace_id()
    issue_id, ids = three_events(app, trace_id)
    client = logged_in(app)
    issue_page = client.get(f"/issues/{issue_id}").text
    for event_id in ids:
        assert f'href="/issues/{issue_id}/events/{event_id}"' in issue_page
    trace_page = client.get(f"/traces/{trace_id}")
    assert trace_page.status_code == 200, trace_page.text
    assert f'href="/issues/{issue_id}/events/{ids[1]}"' in trace_page.text


def test_unknown_events_and_events_of_another_issue_are_404(app: App) -> None:
    issue_id, ids = three_events(app, new_trace_id())
    other = error_event()
    other["exception"]["values"][0]["type"] = "KeyError"
    send(app, other)
    client = logged_in(app)
    for event_id in ("0" * 32, other["event_id"], "not-an-event"):
        page = client.get(f"/issues/{issue_id}/events/{event_id}")
        assert page.status_code == 404
        assert f"No event {event_id} in issue {issue_id}" in page.text
        api = app.client.get(f"/api/v1/issues/{issue_id}/events/{event_id}", headers=app.admin())
        assert api.status_code == 404
        assert api.json()["detail"] == f"No event {event_id} in issue {issue_id}"
    assert client.get(f"/issues/999/events/{ids[0]}").status_code == 404
    single = app.client.get(f"/api/v1/issues/{issue_id}/events/{ids[0]}", headers=app.admin())
    assert single.status_code == 200 and single.json()["event_id"] == ids[0]
    assert single.json()["exceptions"][0]["value"] == "upload failed at step 1"
