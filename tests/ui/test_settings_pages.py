"""The settings page and the role boundaries of the pages, in-process: what each role
is offered, and that a hand-made form of a role too low is refused all the same."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from envelopes import envelope_bytes, error_event, transaction
from glasspane.detectors import DEFAULTS
from inprocess.conftest import App


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    running = App(tmp_path / "data")
    with running.client:
        yield running
    running.instance.close()


def make_user(app: App, name: str, role: str) -> dict[str, Any]:
    answer = app.client.post(
        "/api/v1/users", json={"name": name, "role": role}, headers=app.admin()
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def logged_in(app: App, user: dict[str, Any]) -> TestClient:
    client = TestClient(app.client.app)
    answer = client.post(
        "/login", data={"name": user["name"], "password": user["password"]}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    return client


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def secret_on(html: str) -> str:
    found = re.search(r"data-secret>([^<]+)<", html)
    assert found, "no secret shown"
    return found.group(1)


def an_issue(app: App) -> int:
    tx = transaction()
    trace = tx["contexts"]["trace"]
    body = envelope_bytes(tx, error_event(trace["trace_id"], trace["span_id"]))
    assert app.client.post(app.envelope_url(), content=body, headers=app.auth()).status_code == 200
    return int(app.trace(trace["trace_id"])["errors"][0]["issue_id"])


def test_a_viewer_reads_but_is_offered_no_changes(app: App) -> None:
    issue = an_issue(app)
    client = logged_in(app, make_user(app, "vera", "viewer"))
    page = client.get(f"/issues/{issue}")
    assert page.status_code == 200 and "Resolve" not in page.text
    settings = client.get("/settings")
    assert settings.status_code == 200
    assert 'id="me-role">viewer' in settings.text and "vera" in settings.text
    for absent in ('id="users"', 'id="audit"', 'id="new-token-form"', "Rotate key"):
        assert absent not in settings.text, absent
    assert "Making tokens needs the member role" in settings.text
    assert app.instance.dsn(app.default) in settings.text  # viewers read DSNs
    token = csrf(settings.text)
    forced = client.post(f"/issues/{issue}/status", data={"csrf": token, "status": "resolved"})
    assert forced.status_code == 403 and "needs the member role" in forced.text
    for path in (
        "/settings/tokens",
        "/settings/users",
        f"/settings/projects/{app.default.id}/rotate-key",
    ):
        refused = client.post(path, data={"csrf": token, "name": "x", "role": "viewer"})
        assert refused.status_code == 403, path
    assert app.client.get(f"/api/v1/issues/{issue}", headers=app.admin()).json()["status"] == (
        "unresolved"
    )


def test_a_member_resolves_issues_and_makes_tokens_shown_once(app: App) -> None:
    issue = an_issue(app)
    client = logged_in(app, make_user(app, "mo", "member"))
    page = client.get(f"/issues/{issue}")
    assert "Resolve" in page.text
    done = client.post(
        f"/issues/{issue}/status", data={"csrf": csrf(page.text), "status": "resolved"}
    )
    assert done.status_code == 200 and "Marked resolved" in done.text
    settings = client.get("/settings")
    assert 'id="users"' not in settings.text and "Rotate key" not in settings.text
    made = client.post(
        "/settings/tokens", data={"csrf": csrf(settings.text), "name": "laptop", "role": ""}
    )
    assert made.status_code == 201 and "shown this once" in made.text
    secret = secret_on(made.text)
    me = app.client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.json()["name"] == "mo"
    again = client.get("/settings")
    assert secret not in again.text and "laptop" in again.text
    token_id = re.search(r'data-token="(\d+)"', again.text)
    assert token_id
    revoked = client.post(
        f"/settings/tokens/{token_id.group(1)}/revoke",
        data={"csrf": csrf(again.text)},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    assert (
        app.client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 401
    )
    forced = client.post(
        f"/settings/projects/{app.default.id}/rotate-key", data={"csrf": csrf(again.text)}
    )
    assert forced.status_code == 403 and "needs the admin role" in forced.text


def test_an_admin_manages_users_projects_and_reads_the_audit_log(app: App) -> None:
    client = logged_in(app, make_user(app, "ada", "admin"))
    page = client.get("/settings")
    token = csrf(page.text)
    made = client.post("/settings/users", data={"csrf": token, "name": "bob", "role": "viewer"})
    assert made.status_code == 201 and "Their password, shown this once" in made.text
    password = secret_on(made.text)
    bob = next(
        u
        for u in app.client.get("/api/v1/users", headers=app.admin()).json()["users"]
        if u["name"] == "bob"
    )
    duplicate = client.post(
        "/settings/users", data={"csrf": token, "name": "bob", "role": "viewer"}
    )
    assert duplicate.status_code == 409 and "already exists" in duplicate.text
    changed = client.post(
        f"/settings/users/{bob['id']}/role",
        data={"csrf": token, "role": "member"},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    as_bob = logged_in(app, {"name": "bob", "password": password})
    assert 'id="me-role">member' in as_bob.get("/settings").text
    key = app.default.public_key
    rotated = client.post(f"/settings/projects/{app.default.id}/rotate-key", data={"csrf": token})
    assert rotated.status_code == 200 and "old one is refused" in rotated.text
    assert key not in rotated.text
    apdex = client.post(
        f"/settings/projects/{app.default.id}/apdex",
        data={"csrf": token, "apdex_threshold_ms": "1200"},
    )
    assert apdex.status_code == 200 and 'value="1200"' in apdex.text
    bad = client.post(
        f"/settings/projects/{app.default.id}/apdex",
        data={"csrf": token, "apdex_threshold_ms": "-5"},
    )
    assert bad.status_code == 400 and "apdex_threshold_ms" in bad.text
    created = client.post("/settings/projects", data={"csrf": token, "name": "checkout"})
    assert created.status_code == 200 and 'data-project="checkout"' in created.text
    deleted = client.post(f"/settings/users/{bob['id']}/delete", data={"csrf": token})
    assert deleted.status_code == 200 and 'data-user="bob"' not in deleted.text
    assert as_bob.get("/settings", follow_redirects=False).status_code == 303
    audit = client.get("/settings").text
    for action in ("user.create", "user.role", "login", "project.rotate-key", "user.delete"):
        assert f'data-action="{action}"' in audit, action
    assert password not in audit
    assert (
        client.post(
            "/settings/users", data={"csrf": "forged", "name": "x", "role": "viewer"}
        ).status_code
        == 403
    )


def test_a_user_changes_their_password_and_logs_in_again(app: App) -> None:
    user = make_user(app, "cy", "viewer")
    client = logged_in(app, user)
    token = csrf(client.get("/settings").text)
    differ = client.post(
        "/settings/password",
        data={"csrf": token, "current": user["password"], "new": "new-password-1", "repeat": "x"},
    )
    assert differ.status_code == 400 and "differ" in differ.text
    wrong = client.post(
        "/settings/password",
        data={
            "csrf": token,
            "current": "nope",
            "new": "new-password-1",
            "repeat": "new-password-1",
        },
    )
    assert wrong.status_code == 403
    done = client.post(
        "/settings/password",
        data={
            "csrf": token,
            "current": user["password"],
            "new": "new-password-1",
            "repeat": "new-password-1",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/login?changed=1"
    assert client.get("/settings", follow_redirects=False).status_code == 303
    assert "password was changed" in client.get("/login?changed=1").text
    logged_in(app, {"name": "cy", "password": "new-password-1"})


def test_the_admin_token_session_shows_no_password_form(app: App) -> None:
    client = TestClient(app.client.app)
    client.post("/login", data={"password": app.token})
    page = client.get("/settings")
    assert (
        "logged in with the admin token" in page.text
        and 'action="/settings/password"' not in page.text
    )
    assert 'id="users"' in page.text and 'id="audit"' in page.text


def _thresholds_form(token: str, **changed: str) -> dict[str, str]:
    """The performance thresholds form as the page fills it: every detector on, every
    threshold at its default, then ``changed`` (``detector__threshold``: value)."""
    data = {"csrf": token}
    for kind, defaults in DEFAULTS.items():
        data[f"{kind}.enabled"] = "on"
        data.update({f"{kind}.{name}": f"{value:g}" for name, value in defaults.items()})
    for key, value in changed.items():
        kind, name = key.split("__")
        if value == "off":
            data.pop(f"{kind}.{name}")
        else:
            data[f"{kind}.{name}"] = value
    return data


def test_an_admin_sets_a_projects_performance_thresholds_on_the_page(app: App) -> None:
    client = logged_in(app, make_user(app, "ada", "admin"))
    page = client.get("/settings").text
    assert "Performance issue thresholds" in page
    assert (
        'name="n_plus_one_db_queries.min_repeats" type="number" min="0" step="any" value="5"'
        in page
    )
    action = f"/settings/projects/{app.default.id}/performance-thresholds"
    saved = client.post(
        action,
        data=_thresholds_form(
            csrf(page), n_plus_one_db_queries__min_repeats="3", slow_db_query__enabled="off"
        ),
    )
    assert saved.status_code == 200 and "Performance issue thresholds saved" in saved.text
    assert (
        'name="n_plus_one_db_queries.min_repeats" type="number" min="0" step="any" value="3"'
        in saved.text
    )
    assert re.search(r'name="slow_db_query.enabled" value="on" aria-label', saved.text)
    [project] = app.client.get("/api/v1/projects", headers=app.admin()).json()["projects"]
    assert project["performance_thresholds"] == {
        "n_plus_one_db_queries": {"min_repeats": 3},
        "slow_db_query": {"enabled": False},
    }
    bad = client.post(
        action, data=_thresholds_form(csrf(page), n_plus_one_db_queries__min_repeats="2.5")
    )
    assert bad.status_code == 400
    assert "n_plus_one_db_queries.min_repeats must be a whole number" in bad.text
    word = client.post(
        action, data=_thresholds_form(csrf(page), slow_db_query__min_duration_ms="x")
    )
    assert word.status_code == 400 and "slow_db_query min_duration_ms must be a number" in word.text
    assert 'data-action="project.settings"' in client.get("/settings").text
    viewer = logged_in(app, make_user(app, "vic", "viewer"))
    viewer_page = viewer.get("/settings").text
    assert "Performance issue thresholds" not in viewer_page
    refused = viewer.post(action, data=_thresholds_form(csrf(viewer_page)))
    assert refused.status_code == 403
