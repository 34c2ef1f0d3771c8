"""Users, roles and personal tokens over HTTP: every role boundary of the API, with a
personal token and with a session cookie; login throttling; revocation; and no
secret left in the data directory."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from envelopes import envelope_bytes, error_event, transaction
from glasspane.web.auth import COOKIE
from inprocess.conftest import App

ROLES = ("viewer", "member", "admin")
_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


def make_user(app: App, role: str, password: str | None = None) -> dict[str, Any]:
    body = {"name": unique(role), "role": role, **({"password": password} if password else {})}
    answer = app.client.post("/api/v1/users", json=body, headers=app.admin())
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def user_token(app: App, user: dict[str, Any], role: str | None = None) -> str:
    """A personal token of ``user`` (made by logging in as them: tokens are their owner's)."""
    client = browser(app, user)
    answer = client.post("/api/v1/tokens", json={"name": unique("token"), "role": role})
    if answer.status_code == 403:  # a viewer cannot make one: make it a member for a moment
        app.client.patch(
            f"/api/v1/users/{user['id']}", json={"role": "member"}, headers=app.admin()
        )
        answer = client.post("/api/v1/tokens", json={"name": unique("token"), "role": role})
        app.client.patch(
            f"/api/v1/users/{user['id']}", json={"role": user["role"]}, headers=app.admin()
        )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


def browser(app: App, user: dict[str, Any]) -> TestClient:
    """A client logged in with the user's name and password (a session cookie)."""
    client = TestClient(app.client.app)
    answer = client.post(
        "/login",
        data={"name": user["name"], "password": user["password"]},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return client


def an_issue(app: App) -> int:
    tx = transaction()
    trace_id = tx["contexts"]["trace"]["trace_id"]
    body = envelope_bytes(tx, error_event(trace_id, tx["contexts"]["trace"]["span_id"]))
    assert app.client.post(app.envelope_url(), content=body, headers=app.auth()).status_code == 200
    return int(app.trace(trace_id)["errors"][0]["issue_id"])


def requests_by_role(app: App) -> list[tuple[str, str, str, dict[str, Any] | None]]:
    """(role needed, method, path, JSON body) for each kind of request of the API."""
    issue = an_issue(app)
    scratch = app.client.post(
        "/api/v1/projects", json={"name": unique("scratch")}, headers=app.admin()
    ).json()["id"]
    victim = make_user(app, "viewer")["id"]
    return [
        ("viewer", "GET", "/api/v1/transactions", None),
        ("viewer", "GET", "/api/v1/traces", None),
        ("viewer", "GET", "/api/v1/services", None),
        ("viewer", "GET", "/api/v1/issues", None),
        ("viewer", "GET", f"/api/v1/issues/{issue}", None),
        ("viewer", "GET", "/api/v1/projects", None),
        ("viewer", "GET", "/api/v1/alerts", None),
        ("viewer", "GET", "/api/v1/status", None),
        ("viewer", "GET", "/api/v1/outcomes", None),
        ("viewer", "GET", "/api/v1/logs", None),
        ("viewer", "GET", "/api/v1/releases", None),
        ("viewer", "GET", "/metrics", None),
        ("viewer", "GET", "/api/v1/me", None),
        ("viewer", "GET", "/api/v1/tokens", None),
        ("member", "POST", f"/api/v1/issues/{issue}", {"status": "resolved"}),
        ("member", "POST", "/api/v1/tokens", {"name": "ci"}),
        ("admin", "POST", "/api/v1/projects", {"name": "{unique}"}),
        ("admin", "PATCH", f"/api/v1/projects/{scratch}", {"apdex_threshold_ms": 450}),
        (
            "admin",
            "PATCH",
            f"/api/v1/projects/{scratch}",
            {"performance_thresholds": {"slow_db_query": {"min_duration_ms": 900}}},
        ),
        ("admin", "POST", f"/api/v1/projects/{scratch}/rotate-key", None),
        ("admin", "POST", "/api/v1/alerts/reload", None),
        ("admin", "GET", "/api/v1/users", None),
        ("admin", "POST", "/api/v1/users", {"name": "{unique}", "role": "viewer"}),
        ("admin", "PATCH", f"/api/v1/users/{victim}", {"role": "member"}),
        ("admin", "GET", "/api/v1/audit", None),
        ("admin", "GET", "/api/v1/tokens?all=true", None),
        ("admin", "DELETE", f"/api/v1/users/{victim}", None),  # last: it deletes
    ]


def send(client: TestClient, method: str, path: str, body: dict[str, Any] | None, **kw: Any) -> Any:
    if body is not None:
        body = {k: unique("made") if v == "{unique}" else v for k, v in body.items()}
    return client.request(method, path, json=body, **kw)


@pytest.mark.parametrize("how", ["token", "cookie"])
def test_every_role_boundary_of_the_api(app: App, how: str) -> None:
    requests = requests_by_role(app)
    for role in ROLES:
        user = make_user(app, role)
        if how == "token":
            client, headers = app.client, bearer(user_token(app, user))
        else:
            client, headers = browser(app, user), {}
        for needed, method, path, body in requests:
            if method == "DELETE" and role == "admin":
                continue  # the deleting request runs once, below
            answer = send(client, method, path, body, headers=headers)
            allowed = ROLES.index(role) >= ROLES.index(needed)
            where = (role, how, method, path)
            if allowed:
                assert answer.status_code < 300, (*where, answer.text)
            else:
                assert answer.status_code == 403, (*where, answer.text)
                detail = answer.json()["detail"]
                assert f"needs the {needed} role" in detail and f"is a {role}" in detail
    admin = make_user(app, "admin")
    headers = bearer(user_token(app, admin))
    _, method, path, body = requests[-1]
    assert send(app.client, method, path, body, headers=headers).status_code == 204


def test_the_admin_token_is_an_admin_everywhere(app: App) -> None:
    for _, method, path, body in requests_by_role(app):
        answer = send(app.client, method, path, body, headers=app.admin())
        assert answer.status_code < 300, (method, path, answer.text)
    me = app.client.get("/api/v1/me", headers=app.admin()).json()
    assert (me["name"], me["role"], me["via"]) == ("admin token", "admin", "admin token")


def test_users_are_created_with_a_password_shown_once(app: App) -> None:
    made = app.client.post(
        "/api/v1/users", json={"name": "alice", "role": "member"}, headers=app.admin()
    )
    assert made.status_code == 201
    alice = made.json()
    assert set(alice) >= {"id", "name", "role", "password"} and len(alice["password"]) >= 16
    listed = app.client.get("/api/v1/users", headers=app.admin()).json()["users"]
    assert listed == [
        {"id": alice["id"], "name": "alice", "role": "member", "created_at": alice["created_at"]}
    ]
    given = make_user(app, "viewer", password="a chosen password")
    assert given["password"] == "a chosen password"
    again = app.client.post(
        "/api/v1/users", json={"name": "alice", "role": "viewer"}, headers=app.admin()
    )
    assert again.status_code == 409 and "alice" in again.json()["detail"]
    bad = app.client.post(
        "/api/v1/users", json={"name": "bob", "role": "owner"}, headers=app.admin()
    )
    assert bad.status_code == 400 and "viewer, member, admin" in bad.json()["detail"]
    short = app.client.post(
        "/api/v1/users",
        json={"name": "bob", "role": "viewer", "password": "x"},
        headers=app.admin(),
    )
    assert short.status_code == 400 and "8 to 1024" in short.json()["detail"]
    changed = app.client.patch(
        f"/api/v1/users/{alice['id']}", json={"role": "admin"}, headers=app.admin()
    )
    assert changed.status_code == 200 and changed.json()["role"] == "admin"
    assert "password" not in changed.json()
    missing = app.client.patch("/api/v1/users/999", json={"role": "admin"}, headers=app.admin())
    assert missing.status_code == 404
    assert app.client.delete("/api/v1/users/999", headers=app.admin()).status_code == 404


def test_a_session_cookie_reaches_the_api_but_not_from_another_site(app: App) -> None:
    member = make_user(app, "member")
    client = browser(app, member)
    assert client.get("/api/v1/me").json()["name"] == member["name"]
    issue = an_issue(app)
    cross = client.post(
        f"/api/v1/issues/{issue}",
        json={"status": "resolved"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert cross.status_code == 403 and "another site" in cross.json()["detail"]
    evil = client.post(
        f"/api/v1/issues/{issue}",
        json={"status": "resolved"},
        headers={"Origin": "http://evil.example"},
    )
    assert evil.status_code == 403
    same = client.post(
        f"/api/v1/issues/{issue}",
        json={"status": "resolved"},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert same.status_code == 200 and same.json()["status"] == "resolved"
    reads = client.get("/api/v1/issues", headers={"Sec-Fetch-Site": "cross-site"})
    assert reads.status_code == 200  # reading is not what a forged request can exploit


def test_login_and_logout_with_name_and_password(app: App) -> None:
    user = make_user(app, "viewer")
    client = TestClient(app.client.app)
    answer = client.post(
        "/login",
        data={"name": user["name"], "password": user["password"], "next": "/issues"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/issues"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    assert user["password"] not in cookie
    page = client.get("/issues")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    value = client.cookies.get(COOKIE)
    out = client.post("/logout", data={"csrf": csrf.group(1)}, follow_redirects=False)
    assert out.status_code == 303
    replay = TestClient(app.client.app, cookies={COOKIE: value})
    assert replay.get("/api/v1/me").status_code == 401
    assert replay.get("/issues", follow_redirects=False).status_code == 303
    wrong = client.post("/login", data={"name": user["name"], "password": "wrong password"})
    assert wrong.status_code == 401 and "Wrong name or password" in wrong.text


def test_the_admin_token_logs_in_with_the_name_left_empty(app: App) -> None:
    client = TestClient(app.client.app)
    answer = client.post("/login", data={"name": "", "password": app.token}, follow_redirects=False)
    assert answer.status_code == 303 and app.token not in answer.headers["set-cookie"]
    assert client.get("/api/v1/me").json()["role"] == "admin"


def test_the_session_cookie_is_secure_behind_an_https_public_url(tmp_path: Path) -> None:
    app = App(tmp_path / "data", public_url="https://glasspane.example.com")
    with app.client:
        answer = app.client.post(
            "/login", data={"name": "", "password": app.token}, follow_redirects=False
        )
        assert answer.status_code == 303 and "Secure" in answer.headers["set-cookie"]
    app.instance.close()


def test_repeated_wrong_passwords_for_one_name_are_throttled(app: App) -> None:
    user = make_user(app, "viewer")
    client = TestClient(app.client.app)
    for _ in range(5):
        answer = client.post("/login", data={"name": user["name"], "password": "wrong guess"})
        assert answer.status_code == 401
    refused = client.post("/login", data={"name": user["name"], "password": user["password"]})
    assert refused.status_code == 429 and "Too many failed logins" in refused.text
    assert 0 < int(refused.headers["Retry-After"]) <= 300
    other = make_user(app, "viewer")  # another name from the same address still logs in
    assert browser(app, other).get("/api/v1/me").status_code == 200
    audit = app.client.get("/api/v1/audit", headers=app.admin()).json()["entries"]
    failed = [e for e in audit if e["action"] == "login.failed"]
    assert len(failed) == 5 and all(e["target"] == user["name"] for e in failed)
    assert all("wrong guess" not in str(e) for e in audit)


def test_repeated_failures_from_one_address_are_throttled(app: App) -> None:
    client = TestClient(app.client.app)
    for i in range(10):
        answer = client.post("/login", data={"name": f"guess-{i}", "password": "wrong guess"})
        assert answer.status_code == 401
    refused = client.post("/login", data={"name": "", "password": app.token})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    # Bearer tokens are not passwords: the admin token still works for scripts.
    assert app.client.get("/api/v1/me", headers=app.admin()).status_code == 200


def test_tokens_are_listed_without_the_secret_and_revoked_at_once(app: App) -> None:
    member = make_user(app, "member")
    client = browser(app, member)
    made = client.post("/api/v1/tokens", json={"name": "ci-sourcemaps"})
    assert made.status_code == 201
    token = made.json()
    assert token["token"].startswith("glsp_") and token["name"] == "ci-sourcemaps"
    secret = token["token"]
    assert app.client.get("/api/v1/me", headers=bearer(secret)).json()["name"] == member["name"]
    listed = client.get("/api/v1/tokens").json()["tokens"]
    assert [(t["id"], t["name"], t["user"]) for t in listed] == [
        (token["id"], "ci-sourcemaps", member["name"])
    ]
    assert listed[0]["last_used_at"] is not None and "token" not in listed[0]
    assert secret not in str(listed)
    assert app.client.get("/api/v1/tokens", headers=app.admin()).json()["tokens"] == []
    everyone = app.client.get("/api/v1/tokens?all=true", headers=app.admin()).json()["tokens"]
    assert [t["id"] for t in everyone] == [token["id"]]
    other = make_user(app, "member")
    stranger = browser(app, other).delete(f"/api/v1/tokens/{token['id']}")
    assert stranger.status_code == 404  # not theirs, and not told it exists
    assert client.delete(f"/api/v1/tokens/{token['id']}").status_code == 204
    refused = app.client.get("/api/v1/me", headers=bearer(secret))
    assert (
        refused.status_code == 401
        and "Wrong admin token or personal token" in (refused.json()["detail"])
    )
    assert client.get("/api/v1/tokens").json()["tokens"] == []
    assert client.delete(f"/api/v1/tokens/{token['id']}").status_code == 404


def test_a_capped_token_and_a_demoted_owner(app: App) -> None:
    admin = make_user(app, "admin")
    client = browser(app, admin)
    capped = client.post("/api/v1/tokens", json={"name": "read-only", "role": "viewer"}).json()
    full = client.post("/api/v1/tokens", json={"name": "all"}).json()
    assert app.client.get("/api/v1/users", headers=bearer(capped["token"])).status_code == 403
    assert app.client.get("/api/v1/users", headers=bearer(full["token"])).status_code == 200
    app.client.patch(f"/api/v1/users/{admin['id']}", json={"role": "viewer"}, headers=app.admin())
    demoted = app.client.get("/api/v1/users", headers=bearer(full["token"]))
    assert demoted.status_code == 403 and "is a viewer" in demoted.json()["detail"]
    app.client.delete(f"/api/v1/users/{admin['id']}", headers=app.admin())
    assert app.client.get("/api/v1/me", headers=bearer(full["token"])).status_code == 401
    assert client.get("/api/v1/me").status_code == 401  # the session ended too


def test_the_audit_log_says_who_did_what(app: App) -> None:
    user = make_user(app, "member")
    app.client.patch(f"/api/v1/users/{user['id']}", json={"role": "admin"}, headers=app.admin())
    client = browser(app, user)
    made = client.post("/api/v1/tokens", json={"name": "deploy"}).json()
    client.delete(f"/api/v1/tokens/{made['id']}")
    client.post(f"/api/v1/projects/{app.default.id}/rotate-key")
    entries = app.client.get("/api/v1/audit", headers=app.admin()).json()["entries"]
    seen = [(e["actor"], e["action"], e["target"]) for e in reversed(entries)]
    assert seen == [
        ("admin token", "user.create", user["name"]),
        ("admin token", "user.role", user["name"]),
        (user["name"], "login", user["name"]),
        (user["name"], "token.create", "deploy"),
        (user["name"], "token.revoke", "deploy"),
        (user["name"], "project.rotate-key", "default"),
    ]
    assert entries[-2]["detail"] == "member → admin"
    assert all(e["address"] == "testclient" for e in entries)


def test_no_secret_is_kept_in_the_data_directory(app: App) -> None:
    """The passwords, tokens and session ids used here appear in no file of the data
    directory (the store, its WAL, the journal), while a user name is found there."""
    secrets: list[str] = []
    admin = make_user(app, "admin", password="Correct-Horse-Battery-7")
    secrets.append(admin["password"])
    member = make_user(app, "member")
    secrets.append(member["password"])
    for user in (admin, member):
        client = browser(app, user)
        secrets.append(str(client.cookies.get(COOKIE)))
        made = client.post("/api/v1/tokens", json={"name": unique("ci")}).json()
        secrets.append(made["token"])
        assert app.client.get("/api/v1/me", headers=bearer(made["token"])).status_code == 200
    changed = "Another-Password-42"
    app.client.patch(
        f"/api/v1/users/{member['id']}", json={"password": changed}, headers=app.admin()
    )
    secrets.append(changed)
    app.instance.close()
    folder = app.instance.config.data_path.parent  # the data directory, and chDB's beside it
    files = [p for p in folder.rglob("*") if p.is_file() and p.name != "admin-token"]
    contents = b"".join(path.read_bytes() for path in files)
    assert b"$argon2id$" in contents  # what is kept instead: found where it is
    for path in files:
        content = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in content, (path, secret)


def test_a_login_posted_from_another_site_is_refused(app: App) -> None:
    client = TestClient(app.client.app)
    answer = client.post(
        "/login",
        data={"password": app.token},
        headers={"Sec-Fetch-Site": "cross-site"},
        follow_redirects=False,
    )
    assert answer.status_code == 403 and COOKIE not in answer.headers.get("set-cookie", "")
