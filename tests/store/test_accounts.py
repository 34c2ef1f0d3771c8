"""Users, personal tokens, login sessions and the audit log, on every backend."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from glasspane.errors import Conflict
from glasspane.store.accounts import AuditEntry, LoginSession
from glasspane.store.api import Store
from store.backends import open_backend


def test_users_are_created_listed_changed_and_deleted(store: Store) -> None:
    assert store.list_users() == []
    alice = store.create_user("alice", "viewer", "$argon2id$alice")
    bob = store.create_user("bob", "admin", "$argon2id$bob")
    assert (alice.id, bob.id) == (1, 2) and alice.created_at <= time.time()
    with pytest.raises(Conflict, match="alice"):
        store.create_user("alice", "member", "$argon2id$other")
    changed = store.update_user(alice.id, role="member")
    assert changed is not None and (changed.role, changed.password_hash) == (
        "member",
        "$argon2id$alice",
    )
    rehashed = store.update_user(alice.id, password_hash="$argon2id$new")
    assert rehashed is not None and (rehashed.role, rehashed.password_hash) == (
        "member",
        "$argon2id$new",
    )
    assert [(u.name, u.role) for u in store.list_users()] == [("alice", "member"), ("bob", "admin")]
    assert store.delete_user(bob.id) and not store.delete_user(bob.id)
    assert store.update_user(bob.id, role="viewer") is None
    assert store.update_user(99, role="viewer") is None and not store.delete_user(99)
    assert [u.name for u in store.list_users()] == ["alice"]


def test_a_deleted_users_name_is_free_but_its_id_is_never_reused(store: Store) -> None:
    first = store.create_user("carol", "admin", "h1")
    assert store.delete_user(first.id)
    again = store.create_user("carol", "viewer", "h2")
    assert again.id == first.id + 1
    assert [(u.id, u.role) for u in store.list_users()] == [(again.id, "viewer")]


def test_tokens_are_found_by_digest_touched_and_revoked(store: Store) -> None:
    alice = store.create_user("alice", "member", "h")
    first = store.create_token(alice.id, "ci", None, "d" * 64)
    second = store.create_token(alice.id, "laptop", "viewer", "e" * 64)
    admins = store.create_token(0, "script", None, "f" * 64)
    assert (first.id, second.id, admins.id) == (1, 2, 3)
    assert [t.name for t in store.list_tokens(alice.id)] == ["ci", "laptop"]
    assert [t.name for t in store.list_tokens(0)] == ["script"]
    assert [t.id for t in store.list_tokens()] == [1, 2, 3]
    found = store.token_by_digest("e" * 64)
    assert found is not None and (found.name, found.role, found.user_id) == (
        "laptop",
        "viewer",
        alice.id,
    )
    assert found.last_used_at is None and found.revoked_at is None
    assert store.token_by_digest("0" * 64) is None
    store.touch_token(first.id, 1000.0)
    store.touch_token(first.id, 2000.0)
    store.touch_token(first.id, 1500.0)  # a later use wins, whatever the order
    used = store.token_by_digest("d" * 64)
    assert used is not None and used.last_used_at == 2000.0
    revoked = store.revoke_token(first.id)
    assert revoked is not None and revoked.revoked_at is not None
    assert store.revoke_token(first.id) is None and store.revoke_token(99) is None
    gone = store.token_by_digest("d" * 64)
    assert gone is not None and gone.revoked_at is not None
    assert [t.name for t in store.list_tokens(alice.id)] == ["laptop"]
    assert store.create_token(alice.id, "new", None, "a" * 64).id == 4


def test_deleting_a_user_revokes_its_tokens_and_sessions(store: Store) -> None:
    alice = store.create_user("alice", "member", "h")
    bob = store.create_user("bob", "member", "h")
    store.create_token(alice.id, "ci", None, "d" * 64)
    store.create_token(bob.id, "ci", None, "e" * 64)
    now = time.time()
    store.create_session(LoginSession("s1", alice.id, "password", now, now + 60))
    store.create_session(LoginSession("s2", bob.id, "password", now, now + 60))
    assert store.delete_user(alice.id)
    token = store.token_by_digest("d" * 64)
    session = store.get_session("s1")
    assert token is not None and token.revoked_at is not None
    assert session is not None and session.revoked_at is not None
    kept = store.get_session("s2")
    assert kept is not None and kept.revoked_at is None
    assert [t.user_id for t in store.list_tokens()] == [bob.id]


def test_sessions_are_read_back_and_ended_one_by_one_or_per_user(store: Store) -> None:
    now = time.time()
    session = LoginSession("a" * 64, 3, "password", now, now + 3600)
    store.create_session(session)
    store.create_session(LoginSession("b" * 64, 3, "password", now, now + 3600))
    store.create_session(LoginSession("c" * 64, 0, "admin-token:1234", now, now + 3600))
    assert store.get_session("a" * 64) == session
    assert store.get_session("x" * 64) is None
    store.revoke_session("a" * 64)
    ended = store.get_session("a" * 64)
    assert ended is not None and ended.revoked_at is not None
    store.revoke_user_sessions(3)
    other = store.get_session("b" * 64)
    admin = store.get_session("c" * 64)
    assert other is not None and other.revoked_at is not None
    assert admin is not None and admin.revoked_at is None and admin.via == "admin-token:1234"


def test_the_audit_log_is_newest_first(store: Store) -> None:
    store.add_audit(AuditEntry(100.0, "admin token", "user.create", "alice", "role viewer", None))
    store.add_audit(AuditEntry(200.0, "alice", "login", "alice", "", "10.0.0.7"))
    store.add_audit(AuditEntry(150.0, "admin token", "user.role", "alice", "viewer → member"))
    log = store.audit_log(10)
    assert [e.action for e in log] == ["login", "user.role", "user.create"]
    assert log[0] == AuditEntry(200.0, "alice", "login", "alice", "", "10.0.0.7")
    assert [e.timestamp for e in store.audit_log(1)] == [200.0]


def test_accounts_survive_reopening(store: Store, backend: str, url: str, tmp_path: Path) -> None:
    alice = store.create_user("alice", "admin", "h")
    store.create_token(alice.id, "ci", None, "d" * 64)
    store.close()
    reopened = open_backend(backend, tmp_path, url)
    try:
        assert [u.name for u in reopened.list_users()] == ["alice"]
        token = reopened.token_by_digest("d" * 64)
        assert token is not None and token.user_id == alice.id
    finally:
        reopened.close()
