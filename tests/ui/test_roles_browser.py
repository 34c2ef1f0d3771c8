"""Users and roles clicked through in Chromium, on the shared server: a viewer, a
member and an admin log in with name and password and meet their boundaries;
a personal token made on the settings page works until it is revoked there.

The shared server serves every test of the run, so nothing here fails a login
(failed logins count against 127.0.0.1): throttling has its own server in
``tests/e2e/test_accounts.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from envelopes import envelope_bytes, error_event, transaction
from serverproc import RunningServer

pytestmark = pytest.mark.e2e


def make_user(server: RunningServer, role: str) -> dict[str, Any]:
    name = f"{role}-{uuid.uuid4().hex[:8]}"
    answer = server.api("POST", "/api/v1/users", json={"name": name, "role": role})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


@pytest.fixture(scope="module")
def issue(server: RunningServer) -> int:
    """An unresolved error issue of its own on the shared server."""
    project = server.project("ui-roles")
    tx = transaction(name="rolesCheckout")
    trace = tx["contexts"]["trace"]
    event = error_event(trace["trace_id"], trace["span_id"])
    event["exception"]["values"][0]["value"] = f"roles test {uuid.uuid4().hex}"
    answer = httpx.post(
        f"{server.url}/api/{project['id']}/envelope/",
        content=envelope_bytes(tx, event),
        headers={"X-Sentry-Auth": f"Sentry sentry_key={project['public_key']}"},
        timeout=20,
    )
    assert answer.status_code == 200, answer.text
    found = server.wait_for_trace(trace["trace_id"], lambda t: bool(t["errors"]))
    return int(found["errors"][0]["issue_id"])


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    opened = browser.new_context(viewport={"width": 1280, "height": 900})
    opened.set_default_timeout(15_000)
    yield opened
    opened.close()


def log_in(context: Any, server: RunningServer, user: dict[str, Any]) -> Any:
    page = context.new_page()
    page.goto(server.url + "/settings")
    assert "/login" in page.url
    page.fill("#name", user["name"])
    page.fill("#password", user["password"])
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/settings")
    return page


def post_form(page: Any, path: str, fields: dict[str, str]) -> int:
    """POST a form from the page itself (with its CSRF token), as a hand-made request."""
    script = """async ([path, fields]) => {
        const body = new URLSearchParams(fields);
        body.set("csrf", document.querySelector("input[name=csrf]").value);
        return (await fetch(path, {method: "POST", body})).status;
    }"""
    return int(page.evaluate(script, [path, fields]))


def test_a_viewer_reads_and_is_offered_nothing_to_change(
    server: RunningServer, issue: int, context: Any, artifacts: Path
) -> None:
    viewer = make_user(server, "viewer")
    page = log_in(context, server, viewer)
    assert page.locator("#me-role").inner_text() == "viewer"
    assert page.locator("a.account").inner_text().startswith(viewer["name"])
    assert page.locator("#users").count() == 0 and page.locator("#audit").count() == 0
    assert page.locator("#new-token-form").count() == 0
    assert page.locator("text=Rotate key").count() == 0
    assert page.locator("#project-list .dsn").count() >= 1
    page.screenshot(path=str(artifacts / "settings-viewer.png"), full_page=True)
    page.goto(f"{server.url}/issues/{issue}")
    assert page.locator("#issue-status").inner_text() == "unresolved"
    assert page.locator(".actions button").count() == 0
    assert post_form(page, f"/issues/{issue}/status", {"status": "resolved"}) == 403
    assert post_form(page, "/settings/tokens", {"name": "sneaky"}) == 403
    assert server.api("GET", f"/api/v1/issues/{issue}").json()["status"] == "unresolved"
    # The JSON API with the session cookie: reads yes, changes no.
    reads = page.evaluate("async () => (await fetch('/api/v1/issues')).status")
    write = page.evaluate(
        """async (id) => (await fetch('/api/v1/issues/' + id, {method: 'POST',
            headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({status: 'resolved'})})).status""",
        issue,
    )
    assert (reads, write) == (200, 403)


def test_a_member_resolves_and_makes_a_token_that_stops_when_revoked(
    server: RunningServer, issue: int, context: Any, artifacts: Path
) -> None:
    member = make_user(server, "member")
    page = log_in(context, server, member)
    assert page.locator("#users").count() == 0 and page.locator("text=Rotate key").count() == 0
    page.fill("#new-token-form input[name=name]", "ci-sourcemaps")
    page.click("#new-token-form button[type=submit]")
    secret = page.locator("#new-token .secret").inner_text().strip()
    assert secret.startswith("glsp_")
    page.screenshot(path=str(artifacts / "settings-new-token.png"), full_page=True)
    headers = {"Authorization": f"Bearer {secret}"}
    me = httpx.get(server.url + "/api/v1/me", headers=headers, timeout=10)
    assert me.status_code == 200 and me.json()["name"] == member["name"]
    page.goto(server.url + "/settings")
    assert secret not in page.content()
    row = page.locator("#token-list tr", has_text="ci-sourcemaps")
    assert row.count() == 1
    row.locator("button", has_text="Revoke").click()
    page.wait_for_url("**/settings?done=token-revoked*")
    assert page.locator("#token-list tr", has_text="ci-sourcemaps").count() == 0
    assert httpx.get(server.url + "/api/v1/me", headers=headers, timeout=10).status_code == 401

    page.goto(f"{server.url}/issues/{issue}")
    page.click(".actions button:has-text('Resolve')")
    page.wait_for_url(f"**/issues/{issue}?updated=resolved")
    assert page.locator("#issue-status").inner_text() == "resolved"
    assert post_form(page, "/settings/users", {"name": "sneaky", "role": "admin"}) == 403
    # The JSON API with the session cookie, from glasspane's own page: a member may.
    reopened = page.evaluate(
        """async (id) => (await fetch('/api/v1/issues/' + id, {method: 'POST',
            headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({status: 'unresolved'})})).status""",
        issue,
    )
    assert reopened == 200
    assert server.api("GET", f"/api/v1/issues/{issue}").json()["status"] == "unresolved"


def test_an_admin_creates_a_user_who_then_logs_in_with_the_role_given(
    server: RunningServer, browser: Any, context: Any, artifacts: Path
) -> None:
    admin = make_user(server, "admin")
    page = log_in(context, server, admin)
    name = f"new-{uuid.uuid4().hex[:8]}"
    page.fill("#new-user-form input[name=name]", name)
    page.select_option("#new-user-form select[name=role]", "viewer")
    page.click("#new-user-form button[type=submit]")
    password = page.locator("#new-password .secret").inner_text().strip()
    assert len(password) >= 16
    row = page.locator(f"#user-list tr[data-user='{name}']")
    row.locator("select[name=role]").select_option("member")
    row.locator("button", has_text="Change").click()
    page.wait_for_url("**/settings?done=role-changed*")
    assert page.locator(f"#user-list tr[data-user='{name}'] select").input_value() == "member"
    assert page.locator("#audit-list tr[data-action='user.role']").count() >= 1
    page.screenshot(path=str(artifacts / "settings-admin.png"), full_page=True)

    other = browser.new_context()
    try:
        other.set_default_timeout(15_000)
        theirs = log_in(other, server, {"name": name, "password": password})
        assert theirs.locator("#me-role").inner_text() == "member"
        page.goto(server.url + "/settings")
        page.locator(f"#user-list tr[data-user='{name}'] button", has_text="Delete").click()
        page.wait_for_url("**/settings?done=user-deleted*")
        theirs.goto(server.url + "/settings")
        assert "/login" in theirs.url  # deleted: the session ended with the user
    finally:
        other.close()


def test_the_admin_token_logs_in_with_the_name_left_empty(
    server: RunningServer, context: Any
) -> None:
    page = context.new_page()
    page.goto(server.url + "/login")
    page.fill("#password", server.token)
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/")
    page.goto(server.url + "/settings")
    assert page.locator("#me-name").inner_text() == "admin token"
    assert page.locator("#users").count() == 1


def test_an_admin_changes_a_projects_performance_thresholds_in_the_form(
    server: RunningServer, context: Any
) -> None:
    """The form of one project: min_repeats 3 and the slow-query detector off are
    saved, shown again, and are the project's thresholds in the API."""
    project = server.project(f"thresholds-{uuid.uuid4().hex[:8]}")
    page = log_in(context, server, make_user(server, "admin"))
    details = page.locator(f"#performance-thresholds details[data-project='{project['name']}']")
    details.locator("summary").click()
    repeats = details.locator("input[name='n_plus_one_db_queries.min_repeats']")
    assert repeats.input_value() == "5"
    repeats.fill("3")
    details.locator("input[name='slow_db_query.enabled']").uncheck()
    details.locator("button", has_text="Save thresholds").click()
    page.wait_for_url("**/settings?done=thresholds-changed*")
    assert "Performance issue thresholds saved" in page.locator("p.notice").first.inner_text()
    again = page.locator(f"#performance-thresholds details[data-project='{project['name']}']")
    assert "(2 changed)" in again.locator("summary").inner_text()
    assert again.locator("input[name='n_plus_one_db_queries.min_repeats']").input_value() == "3"
    assert not again.locator("input[name='slow_db_query.enabled']").is_checked()
    listed = server.api("GET", "/api/v1/projects").json()["projects"]
    [mine] = [p for p in listed if p["id"] == project["id"]]
    assert mine["performance_thresholds"] == {
        "n_plus_one_db_queries": {"min_repeats": 3},
        "slow_db_query": {"enabled": False},
    }
