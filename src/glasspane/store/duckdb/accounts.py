"""The DuckDB store's users, personal tokens, login sessions and audit log.

A mixin of :class:`~glasspane.store.duckdb.store.DuckDBStore` (the contract is
``store/accounts.py``): writes run as tasks on the store's writer thread, so
they are ordered with the batches and durable on return; reads use a cursor of
their own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import duckdb

from glasspane.errors import Conflict
from glasspane.store.accounts import ApiToken, AuditEntry, LoginSession, User

Conn = duckdb.DuckDBPyConnection
T = TypeVar("T")

_USER = "SELECT id, name, role, password_hash, created_at FROM users"
_TOKEN = (
    "SELECT id, user_id, name, role, digest, created_at, last_used_at, revoked_at FROM api_tokens"
)
_SESSION = "SELECT digest, user_id, via, created_at, expires_at, revoked_at FROM login_sessions"


def _next_id(conn: Conn, table: str) -> int:
    row = conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()
    return int(row[0]) if row else 1


class AccountsMixin:
    #: Provided by the store this is mixed into.
    _read: Callable[..., list[tuple[Any, ...]]]
    _run: Callable[..., Any]

    # -- users -------------------------------------------------------------
    def create_user(self, name: str, role: str, password_hash: str) -> User:
        def task(conn: Conn) -> User:
            taken = conn.execute(
                "SELECT 1 FROM users WHERE name = ? AND deleted_at IS NULL", [name]
            ).fetchone()
            if taken:
                raise Conflict(f"A user named {name!r} already exists; choose another name")
            user = User(_next_id(conn, "users"), name, role, password_hash, time.time())
            conn.execute(
                "INSERT INTO users VALUES (?, ?, ?, ?, ?, NULL)",
                [user.id, user.name, user.role, user.password_hash, user.created_at],
            )
            return user

        created: User = self._run(task)
        return created

    def list_users(self) -> list[User]:
        rows = self._read(f"{_USER} WHERE deleted_at IS NULL ORDER BY id")
        return [User(*row) for row in rows]

    def update_user(
        self, user_id: int, role: str | None = None, password_hash: str | None = None
    ) -> User | None:
        def task(conn: Conn) -> User | None:
            row = conn.execute(
                "UPDATE users SET role = coalesce(?, role), "
                "password_hash = coalesce(?, password_hash) "
                "WHERE id = ? AND deleted_at IS NULL "
                "RETURNING id, name, role, password_hash, created_at",
                [role, password_hash, user_id],
            ).fetchone()
            return User(*row) if row else None

        updated: User | None = self._run(task)
        return updated

    def delete_user(self, user_id: int) -> bool:
        def task(conn: Conn) -> bool:
            now = time.time()
            row = conn.execute(
                "UPDATE users SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL RETURNING id",
                [now, user_id],
            ).fetchone()
            if row is None:
                return False
            conn.execute(
                "UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                [now, user_id],
            )
            _end_sessions(conn, user_id, now)
            return True

        deleted: bool = self._run(task)
        return deleted

    # -- personal tokens ---------------------------------------------------------
    def create_token(self, user_id: int, name: str, role: str | None, digest: str) -> ApiToken:
        def task(conn: Conn) -> ApiToken:
            token = ApiToken(_next_id(conn, "api_tokens"), user_id, name, role, digest, time.time())
            conn.execute(
                "INSERT INTO api_tokens VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)",
                [token.id, user_id, name, role, digest, token.created_at],
            )
            return token

        created: ApiToken = self._run(task)
        return created

    def list_tokens(self, user_id: int | None = None) -> list[ApiToken]:
        rows = self._read(
            f"{_TOKEN} WHERE revoked_at IS NULL AND (? IS NULL OR user_id = ?) ORDER BY id",
            [user_id, user_id],
        )
        return [ApiToken(*row) for row in rows]

    def token_by_digest(self, digest: str) -> ApiToken | None:
        rows = self._read(f"{_TOKEN} WHERE digest = ?", [digest])
        return ApiToken(*rows[0]) if rows else None

    def revoke_token(self, token_id: int) -> ApiToken | None:
        def task(conn: Conn) -> ApiToken | None:
            row = conn.execute(
                "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL "
                "RETURNING id, user_id, name, role, digest, created_at, last_used_at, revoked_at",
                [time.time(), token_id],
            ).fetchone()
            return ApiToken(*row) if row else None

        revoked: ApiToken | None = self._run(task)
        return revoked

    def touch_token(self, token_id: int, when: float) -> None:
        self._run(
            lambda conn: conn.execute(
                "UPDATE api_tokens SET last_used_at = greatest(coalesce(last_used_at, 0), ?) "
                "WHERE id = ?",
                [when, token_id],
            )
        )

    # -- login sessions ----------------------------------------------------------
    def create_session(self, session: LoginSession) -> None:
        def task(conn: Conn) -> None:
            # Expired sessions go when a new one comes: the table stays the size of
            # the sessions in use.
            conn.execute("DELETE FROM login_sessions WHERE expires_at < ?", [time.time()])
            conn.execute(
                "INSERT INTO login_sessions VALUES (?, ?, ?, ?, ?, NULL)",
                [
                    session.digest,
                    session.user_id,
                    session.via,
                    session.created_at,
                    session.expires_at,
                ],
            )

        self._run(task)

    def get_session(self, digest: str) -> LoginSession | None:
        rows = self._read(f"{_SESSION} WHERE digest = ?", [digest])
        return LoginSession(*rows[0]) if rows else None

    def revoke_session(self, digest: str) -> None:
        self._run(
            lambda conn: conn.execute(
                "UPDATE login_sessions SET revoked_at = ? WHERE digest = ? AND revoked_at IS NULL",
                [time.time(), digest],
            )
        )

    def revoke_user_sessions(self, user_id: int) -> None:
        self._run(lambda conn: _end_sessions(conn, user_id, time.time()))

    # -- audit ----------------------------------------------------------------------
    def add_audit(self, entry: AuditEntry) -> None:
        self._run(
            lambda conn: conn.execute(
                "INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?)",
                [
                    entry.timestamp,
                    entry.actor,
                    entry.action,
                    entry.target,
                    entry.detail,
                    entry.address,
                ],
            )
        )

    def audit_log(self, limit: int) -> list[AuditEntry]:
        rows = self._read(
            'SELECT "timestamp", actor, action, target, detail, address FROM audit_log '
            'ORDER BY "timestamp" DESC LIMIT ?',
            [limit],
        )
        return [AuditEntry(*row) for row in rows]


def _end_sessions(conn: Conn, user_id: int, now: float) -> None:
    conn.execute(
        "UPDATE login_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
        [now, user_id],
    )
