"""The ClickHouse store's users, personal tokens, login sessions and audit log.

A mixin of :class:`~glasspane.store.clickhouse.store.ClickHouseStore` (the
contract is ``store/accounts.py``). Rows are ``ReplacingMergeTree`` versions
read with ``FINAL``: a change is a new row with a higher ``version``. Writes
run on the store's writer thread; ids are the next after the highest, as for
projects (two processes creating a user at the same instant could pick the
same id: the later row wins, as for projects).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from glasspane.errors import Conflict
from glasspane.store.accounts import ApiToken, AuditEntry, LoginSession, User
from glasspane.store.clickhouse.connection import Connection

_USER = "SELECT id, name, role, password_hash, created_at FROM users FINAL"
_TOKEN = (
    "SELECT t.id, t.user_id, t.name, t.role, t.digest, t.created_at, "
    "if(u.token_id = 0, NULL, u.last_used_at), t.revoked_at "
    "FROM api_tokens AS t FINAL "
    "LEFT JOIN (SELECT token_id, max(last_used_at) AS last_used_at FROM token_uses "
    "GROUP BY token_id) AS u ON u.token_id = t.id"
)
_SESSION = (
    "SELECT digest, user_id, via, created_at, expires_at, revoked_at FROM login_sessions FINAL"
)


def _next_id(conn: Connection, table: str) -> int:
    row = conn.execute(f"SELECT max(id) FROM {table} FINAL").fetchone()
    return int(row[0]) + 1 if row and row[0] else 1


def _save_user(conn: Connection, user: User, deleted_at: float | None = None) -> None:
    conn.execute(
        "INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            user.id,
            user.name,
            user.role,
            user.password_hash,
            user.created_at,
            deleted_at,
            time.time(),
        ],
    )


def _save_token(conn: Connection, token: ApiToken) -> None:
    conn.execute(
        "INSERT INTO api_tokens VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            token.id,
            token.user_id,
            token.name,
            token.role,
            token.digest,
            token.created_at,
            token.revoked_at,
            time.time(),
        ],
    )


def _save_session(conn: Connection, session: LoginSession) -> None:
    conn.execute(
        "INSERT INTO login_sessions VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            session.digest,
            session.user_id,
            session.via,
            session.created_at,
            session.expires_at,
            session.revoked_at,
            time.time(),
        ],
    )


def _live_user(conn: Connection, user_id: int) -> User | None:
    row = conn.execute(f"{_USER} WHERE id = ? AND deleted_at IS NULL", [user_id]).fetchone()
    return User(*row) if row else None


def _end_sessions(conn: Connection, user_id: int, now: float) -> None:
    rows = conn.execute(
        f"{_SESSION} WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?",
        [user_id, now],
    ).fetchall()
    for row in rows:
        session = LoginSession(*row)
        session.revoked_at = now
        _save_session(conn, session)


class AccountsMixin:
    #: Provided by the store this is mixed into.
    _read: Callable[..., list[tuple[Any, ...]]]
    _run: Callable[..., Any]

    # -- users -------------------------------------------------------------
    def create_user(self, name: str, role: str, password_hash: str) -> User:
        def task(conn: Connection) -> User:
            taken = conn.execute(
                "SELECT 1 FROM users FINAL WHERE name = ? AND deleted_at IS NULL", [name]
            ).fetchone()
            if taken:
                raise Conflict(f"A user named {name!r} already exists; choose another name")
            user = User(_next_id(conn, "users"), name, role, password_hash, time.time())
            _save_user(conn, user)
            return user

        created: User = self._run(task)
        return created

    def list_users(self) -> list[User]:
        return [User(*row) for row in self._read(f"{_USER} WHERE deleted_at IS NULL ORDER BY id")]

    def update_user(
        self, user_id: int, role: str | None = None, password_hash: str | None = None
    ) -> User | None:
        def task(conn: Connection) -> User | None:
            user = _live_user(conn, user_id)
            if user is None:
                return None
            user.role = role or user.role
            user.password_hash = password_hash or user.password_hash
            _save_user(conn, user)
            return user

        updated: User | None = self._run(task)
        return updated

    def delete_user(self, user_id: int) -> bool:
        def task(conn: Connection) -> bool:
            user = _live_user(conn, user_id)
            if user is None:
                return False
            now = time.time()
            _save_user(conn, user, deleted_at=now)
            tokens = conn.execute(
                f"{_TOKEN} WHERE t.user_id = ? AND t.revoked_at IS NULL", [user_id]
            ).fetchall()
            for row in tokens:
                token = ApiToken(*row)
                token.revoked_at = now
                _save_token(conn, token)
            _end_sessions(conn, user_id, now)
            return True

        deleted: bool = self._run(task)
        return deleted

    # -- personal tokens ---------------------------------------------------------
    def create_token(self, user_id: int, name: str, role: str | None, digest: str) -> ApiToken:
        def task(conn: Connection) -> ApiToken:
            token = ApiToken(_next_id(conn, "api_tokens"), user_id, name, role, digest, time.time())
            _save_token(conn, token)
            return token

        created: ApiToken = self._run(task)
        return created

    def list_tokens(self, user_id: int | None = None) -> list[ApiToken]:
        rows = self._read(
            f"{_TOKEN} WHERE t.revoked_at IS NULL AND (? IS NULL OR t.user_id = ?) ORDER BY t.id",
            [user_id, user_id],
        )
        return [ApiToken(*row) for row in rows]

    def token_by_digest(self, digest: str) -> ApiToken | None:
        rows = self._read(f"{_TOKEN} WHERE t.digest = ?", [digest])
        return ApiToken(*rows[0]) if rows else None

    def revoke_token(self, token_id: int) -> ApiToken | None:
        def task(conn: Connection) -> ApiToken | None:
            row = conn.execute(
                f"{_TOKEN} WHERE t.id = ? AND t.revoked_at IS NULL", [token_id]
            ).fetchone()
            if row is None:
                return None
            token = ApiToken(*row)
            token.revoked_at = time.time()
            _save_token(conn, token)
            return token

        revoked: ApiToken | None = self._run(task)
        return revoked

    def touch_token(self, token_id: int, when: float) -> None:
        self._run(
            lambda conn: conn.execute("INSERT INTO token_uses VALUES (?, ?)", [token_id, when])
        )

    # -- login sessions ----------------------------------------------------------
    def create_session(self, session: LoginSession) -> None:
        self._run(lambda conn: _save_session(conn, session))

    def get_session(self, digest: str) -> LoginSession | None:
        rows = self._read(f"{_SESSION} WHERE digest = ?", [digest])
        return LoginSession(*rows[0]) if rows else None

    def revoke_session(self, digest: str) -> None:
        def task(conn: Connection) -> None:
            row = conn.execute(
                f"{_SESSION} WHERE digest = ? AND revoked_at IS NULL", [digest]
            ).fetchone()
            if row is not None:
                session = LoginSession(*row)
                session.revoked_at = time.time()
                _save_session(conn, session)

        self._run(task)

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
