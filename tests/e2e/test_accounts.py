"""Users and personal tokens on a real ``glasspane serve`` of their own: the CLI,
login throttling in Chromium (through the ingest workers' proxy, by the real
client address), and no password or token left in the data directory or the
server log.

A server of its own because the throttle counts failures per client address,
and every test here comes from 127.0.0.1: on the shared server they would slow
down everyone else's logins.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from serverproc import STORES, RunningServer, store_flags

pytestmark = pytest.mark.e2e

#: Every password, token and session id this module sees; none may be left behind.
SECRETS: list[str] = []


@pytest.fixture(scope="module", params=STORES)
def running(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp(f"accounts-{request.param}")
    server = RunningServer(folder / "data", None, *store_flags(request.param, folder)).start()
    SECRETS.clear()
    yield server
    server.stop()


def glasspane(
    server: RunningServer, *args: str, token: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "glasspane",
            *args,
            "--server",
            server.url,
            "--token",
            token or server.token,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_users_and_tokens_from_the_cli(running: RunningServer) -> None:
    made = glasspane(running, "users", "create", "alice", "--role", "member")
    assert made.returncode == 0, made.stderr
    password = made.stdout.strip()
    assert len(password) >= 16 and "\n" not in password and "shown once" in made.stderr
    SECRETS.append(password)
    with httpx.Client(base_url=running.url, timeout=20) as browser:
        login = browser.post(
            "/login", data={"name": "alice", "password": password}, follow_redirects=False
        )
        assert login.status_code == 303
        SECRETS.append(str(browser.cookies.get("glasspane_session")))
        me = browser.get("/api/v1/me").json()
        assert (me["name"], me["role"], me["via"]) == ("alice", "member", "password")
        made_token = browser.post("/api/v1/tokens", json={"name": "alice-ci"})
        assert made_token.status_code == 201
        alice_token = made_token.json()["token"]
        SECRETS.append(alice_token)

    listed = glasspane(running, "users", "list")
    assert listed.returncode == 0 and "alice" in listed.stdout and "member" in listed.stdout
    assert password not in listed.stdout

    changed = glasspane(running, "users", "set-role", "alice", "viewer")
    assert changed.returncode == 0 and "alice is now a viewer" in changed.stdout
    as_alice = glasspane(running, "users", "list", token=alice_token)
    assert as_alice.returncode == 1
    assert "needs the admin role; alice is a viewer" in as_alice.stderr
    assert as_alice.stderr.strip().count("\n") == 0

    token = glasspane(running, "tokens", "create", "deploy")
    assert token.returncode == 0, token.stderr
    secret = token.stdout.strip()
    assert secret.startswith("glsp_")
    SECRETS.append(secret)
    assert httpx.get(running.url + "/api/v1/users", headers=bearer(secret)).status_code == 200
    shown = glasspane(running, "tokens", "list")
    assert "deploy" in shown.stdout and secret not in shown.stdout
    token_id = next(
        line.split()[0] for line in shown.stdout.splitlines() if " deploy " in f" {line} "
    )
    assert token_id.isdigit()
    revoked = glasspane(running, "tokens", "revoke", "deploy")  # by name; by id works too
    assert revoked.returncode == 0 and f"Revoked token {token_id}" in revoked.stdout
    assert httpx.get(running.url + "/api/v1/me", headers=bearer(secret)).status_code == 401
    with_revoked = glasspane(running, "users", "list", token=secret)
    assert with_revoked.returncode == 1 and "Wrong admin token or personal token" in (
        with_revoked.stderr
    )

    unknown = glasspane(running, "users", "set-role", "nobody", "admin")
    assert unknown.returncode == 1 and "no user named 'nobody'" in unknown.stderr
    deleted = glasspane(running, "users", "delete", "alice")
    assert deleted.returncode == 0 and "Deleted alice" in deleted.stdout
    assert httpx.get(running.url + "/api/v1/me", headers=bearer(alice_token)).status_code == 401


def test_repeated_wrong_passwords_are_throttled_in_the_browser(
    running: RunningServer, browser: Any
) -> None:
    made = running.api("POST", "/api/v1/users", json={"name": "bob", "role": "viewer"})
    password = made.json()["password"]
    SECRETS.append(password)
    context = browser.new_context()
    try:
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.goto(running.url + "/login")
        for _ in range(5):
            page.fill("#name", "bob")
            page.fill("#password", "not-bobs-password")
            with page.expect_response("**/login") as answer:
                page.click("button[type=submit]")
            assert answer.value.status == 401
            assert "Wrong name or password" in page.locator(".notice.bad").inner_text()
        page.fill("#password", password)  # the name is kept in the form
        with page.expect_response("**/login") as answer:
            page.click("button[type=submit]")
        assert answer.value.status == 429
        assert 0 < int(answer.value.headers["retry-after"]) <= 300
        assert "Too many failed logins" in page.locator(".notice.bad").inner_text()
    finally:
        context.close()
    audit = running.api("GET", "/api/v1/audit").json()["entries"]
    failed = [e for e in audit if e["action"] == "login.failed" and e["target"] == "bob"]
    assert len(failed) == 5 and {e["address"] for e in failed} == {"127.0.0.1"}


def test_no_secret_in_the_data_directory_or_the_server_log(running: RunningServer) -> None:
    """Runs last: stops the server, then reads every file it wrote."""
    assert len(SECRETS) >= 5
    running.stop()
    folder = running.data_dir.parent
    files = [p for p in folder.rglob("*") if p.is_file() and p.name != "admin-token"]
    assert running.log_path in files
    everything = b"".join(p.read_bytes() for p in files)
    assert b"$argon2id$" in everything  # the hashes are there, where the grep looks
    for path in files:
        content = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in content, (path, secret[:6])
