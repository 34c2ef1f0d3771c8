"""Roles, credentials, the login throttle and the accounts service (on a DuckDB store)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from glasspane.access import credentials, roles
from glasspane.access.accounts import SESSION_SECONDS, Accounts, Principal
from glasspane.access.throttle import LoginThrottle
from glasspane.errors import (
    AuthError,
    Conflict,
    ForbiddenError,
    NotFound,
    ProtocolError,
    RateLimited,
)
from glasspane.store.duckdb.store import DuckDBStore

ADMIN_TOKEN = "the-admin-token-" + "x" * 27


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBStore]:
    opened = DuckDBStore(tmp_path / "store.duckdb")
    yield opened
    opened.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(store: DuckDBStore, clock: Clock) -> Accounts:
    return Accounts(store, ADMIN_TOKEN, LoginThrottle(clock=clock), clock)


def test_roles_are_ordered() -> None:
    assert roles.allows("admin", "member") and roles.allows("member", "member")
    assert not roles.allows("viewer", "member") and not roles.allows("nobody", "viewer")
    assert roles.lower("admin", "viewer") == "viewer" == roles.lower("viewer", "member")
    with pytest.raises(ProtocolError, match="viewer, member, admin"):
        roles.checked("owner")


def test_passwords_are_argon2id_and_tokens_high_entropy() -> None:
    hashed = credentials.hash_password("correct horse")
    assert hashed.startswith("$argon2id$") and "correct horse" not in hashed
    assert credentials.verify_password(hashed, "correct horse")
    assert not credentials.verify_password(hashed, "correct hors")
    assert not credentials.verify_password("not a hash", "correct horse")
    assert not credentials.needs_rehash(hashed)
    token = credentials.new_token()
    assert token.startswith("glsp_") and len(token) >= 45
    assert credentials.new_token() != token and len(credentials.new_password()) == 20
    assert (
        credentials.digest(token) == credentials.digest(token) and len(credentials.digest("")) == 64
    )
    with pytest.raises(ProtocolError, match="8 to 1024"):
        credentials.checked_password("short")


def test_the_throttle_counts_per_name_and_per_address() -> None:
    clock = Clock(0.0)
    throttle = LoginThrottle(per_name=3, per_address=5, window=60, clock=clock)
    for i in range(3):
        assert throttle.retry_after("alice", "10.0.0.1") == 0
        clock.now = i
        throttle.failed("alice", "10.0.0.1")
    assert throttle.retry_after("alice", "10.0.0.9") == 58  # the name, from anywhere
    assert throttle.retry_after("bob", "10.0.0.1") == 0
    throttle.failed("bob", "10.0.0.1")
    throttle.failed("carol", "10.0.0.1")
    assert throttle.retry_after("dave", "10.0.0.1") == 58  # the address, for any name
    assert throttle.retry_after("dave", "10.0.0.2") == 0
    clock.now = 60.5
    assert throttle.retry_after("alice", "10.0.0.9") == 0  # the oldest failure aged out
    throttle.failed("erin", "10.0.0.3")
    throttle.succeeded("erin")
    assert throttle.retry_after("erin", None) == 0


def test_the_throttle_forgets_the_oldest_keys_first(monkeypatch: pytest.MonkeyPatch) -> None:
    from glasspane.access import throttle as module

    monkeypatch.setattr(module, "MAX_KEYS", 4)
    limited = LoginThrottle(per_name=1, per_address=100, clock=Clock(0.0))
    for name in "abc":
        limited.failed(name, None)
    limited.failed("d", "1.2.3.4")  # two keys: "a" goes
    assert limited.retry_after("a", None) == 0 and limited.retry_after("b", None) > 0


def test_logging_in_makes_a_session_that_expires_or_ends(accounts: Accounts, clock: Clock) -> None:
    admin = accounts.admin()
    accounts.create_user(admin, "alice", "member", "alice-password")
    principal, secret = accounts.log_in("alice", "alice-password", "10.0.0.1")
    assert (principal.name, principal.role, principal.via) == ("alice", "member", "password")
    assert "alice-password" not in secret and len(secret) >= 43
    again = accounts.by_session(secret)
    assert again is not None and again.name == "alice"
    assert accounts.by_session("forged") is None
    clock.now += SESSION_SECONDS + 1
    assert accounts.by_session(secret) is None
    clock.now -= SESSION_SECONDS
    _, second = accounts.log_in("alice", "alice-password", None)
    accounts.log_out(second, principal)
    assert accounts.by_session(second) is None


def test_wrong_logins_are_refused_alike_and_then_throttled(accounts: Accounts) -> None:
    admin = accounts.admin()
    accounts.create_user(admin, "alice", "viewer", "alice-password")
    with pytest.raises(AuthError, match="Wrong name or password") as known:
        accounts.log_in("alice", "wrong-password", "10.0.0.1")
    with pytest.raises(AuthError, match="Wrong name or password") as unknown:
        accounts.log_in("mallory", "wrong-password", "10.0.0.2")
    assert str(known.value) == str(unknown.value)
    with pytest.raises(AuthError, match="not the admin token"):
        accounts.log_in("", "wrong-token", "10.0.0.3")
    for _ in range(4):
        with pytest.raises(AuthError):
            accounts.log_in("alice", "wrong-password", "10.0.0.4")
    with pytest.raises(RateLimited) as limited:
        accounts.log_in("alice", "alice-password", "10.0.0.5")  # right, but refused
    assert 0 < limited.value.retry_after <= 300
    actions = [e.action for e in accounts.audit(admin)]
    assert actions.count("login.failed") == 7 and "login" not in actions


def test_admin_token_sessions_end_when_the_token_changes(store: DuckDBStore, clock: Clock) -> None:
    first = Accounts(store, ADMIN_TOKEN, clock=clock)
    principal, secret = first.log_in("", f" {ADMIN_TOKEN} ", None)
    assert principal.role == "admin" and principal.user_id == 0
    assert first.by_session(secret) is not None
    replaced = Accounts(store, "another-admin-token-" + "y" * 24, clock=clock)
    assert replaced.by_session(secret) is None


def test_tokens_act_as_their_owner_capped_by_their_role(accounts: Accounts) -> None:
    admin = accounts.admin()
    user, _ = accounts.create_user(admin, "alice", "admin", "alice-password")
    alice = Principal("alice", "admin", user.id, "password")
    full, full_secret = accounts.create_token(alice, "deploy")
    _, capped_secret = accounts.create_token(alice, "dashboards", "viewer")
    as_full = accounts.by_token(full_secret, "10.0.0.1")
    as_capped = accounts.by_token(capped_secret)
    assert as_full is not None and (as_full.name, as_full.role, as_full.token_id) == (
        "alice",
        "admin",
        full.id,
    )
    assert as_full.address == "10.0.0.1"
    assert as_capped is not None and as_capped.role == "viewer"
    accounts.update_user(admin, user.id, role="member")
    demoted = accounts.by_token(full_secret)
    assert demoted is not None and demoted.role == "member"
    assert accounts.by_token("glsp_unknown") is None
    admin_as_bearer = accounts.by_token(ADMIN_TOKEN)
    assert admin_as_bearer is not None and admin_as_bearer.role == "admin"
    listed = accounts.list_tokens(alice)
    assert [t.name for t in listed] == ["deploy", "dashboards"]
    assert listed[0].last_used_at is not None  # used once above
    assert all(full_secret not in repr(t) for t in listed)


def test_revoked_tokens_and_deleted_users_stop_at_once(accounts: Accounts) -> None:
    admin = accounts.admin()
    user, _ = accounts.create_user(admin, "bob", "member", "bob-password")
    bob = Principal("bob", "member", user.id, "password")
    token, secret = accounts.create_token(bob, "ci")
    _, other_secret = accounts.create_token(bob, "laptop")
    assert accounts.by_token(secret) is not None
    accounts.revoke_token(bob, token.id)
    assert accounts.by_token(secret) is None
    with pytest.raises(NotFound):
        accounts.revoke_token(bob, token.id)
    _, session = accounts.log_in("bob", "bob-password", None)
    accounts.delete_user(admin, user.id)
    assert accounts.by_token(other_secret) is None and accounts.by_session(session) is None
    with pytest.raises(NotFound):
        accounts.delete_user(admin, user.id)


def test_what_each_role_may_do_here(accounts: Accounts) -> None:
    admin = accounts.admin()
    viewer_user, _ = accounts.create_user(admin, "vera", "viewer", "vera-password")
    viewer = Principal("vera", "viewer", viewer_user.id, "password")
    member = Principal("mo", "member", 99, "password")
    with pytest.raises(ForbiddenError, match="needs the admin role; vera is a viewer"):
        accounts.create_user(viewer, "x", "viewer")
    with pytest.raises(ForbiddenError, match="needs the member role"):
        accounts.create_token(viewer, "ci")
    with pytest.raises(ForbiddenError, match="more than its owner's role"):
        accounts.create_token(member, "ci", "admin")
    with pytest.raises(ForbiddenError):
        accounts.audit(member)
    with pytest.raises(Conflict):
        accounts.create_user(admin, "vera", "member")
    with pytest.raises(ProtocolError, match="role must be"):
        accounts.create_user(admin, "zed", "root")
    with pytest.raises(ProtocolError, match="user name"):
        accounts.create_user(admin, "line\nbreak", "viewer")


def test_changing_a_password_ends_every_session(accounts: Accounts) -> None:
    admin = accounts.admin()
    user, generated = accounts.create_user(admin, "carol", "viewer")
    carol, secret = accounts.log_in("carol", generated, None)
    with pytest.raises(ForbiddenError, match="current password is wrong"):
        accounts.change_own_password(carol, "nope", "a-new-password")
    accounts.change_own_password(carol, generated, "a-new-password")
    assert accounts.by_session(secret) is None
    with pytest.raises(AuthError):
        accounts.log_in("carol", generated, None)
    assert accounts.log_in("carol", "a-new-password", None)[0].user_id == user.id


def test_a_huge_name_is_cut_before_it_is_kept(accounts: Accounts) -> None:
    with pytest.raises(AuthError):
        accounts.log_in("x" * 60_000, "wrong-password", "10.0.0.1")
    [entry] = accounts.audit(accounts.admin())
    assert entry.action == "login.failed" and len(entry.target) == 101
