"""Accounts: log in, check tokens and sessions, manage users and tokens, audit.

The web layer asks this module who a request is (:class:`Principal`) and
whether that one may do something; nothing here knows HTTP. What is stored is
in ``store/accounts.py``: no password or token in clear, ever.

Who can be a principal:

- the **admin token** (``DATA_DIR/admin-token``): an admin named
  :data:`ADMIN_TOKEN_NAME`, as a Bearer token, or on the login page with the
  name left empty (``user_id`` 0);
- a **user**, logged in with name and password (a session cookie);
- a **personal token** of a user (``glsp_...``): its owner, at the lower of the
  owner's role and the token's own cap. Tokens made with the admin token
  belong to it (owner 0) and are admins.

Caches: users, sessions and tokens are read from the store at most every
:data:`CACHE_SECONDS` per process (a session is checked on every page), and
dropped here at once when this process changes them. Several processes
sharing a ClickHouse store therefore see a revoked token or a changed role
within :data:`CACHE_SECONDS`.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from glasspane.access import credentials, roles
from glasspane.access.throttle import LoginThrottle
from glasspane.errors import AuthError, ForbiddenError, NotFound, ProtocolError, RateLimited
from glasspane.store.accounts import AccountStore, ApiToken, AuditEntry, LoginSession, User

ADMIN_TOKEN_NAME = "admin token"
SESSION_SECONDS = 30 * 86400
CACHE_SECONDS = 5.0
#: A token's last use is written at most this often (seconds), not on every request.
TOKEN_USE_INTERVAL = 60.0
NAME_MAX = 100
WRONG_LOGIN = "Wrong name or password."
WRONG_ADMIN_TOKEN = (
    "That token is not the admin token. It is printed by `glasspane serve` and stored "
    "in DATA_DIR/admin-token; to log in as a user, give your name and password."
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request is, with the role it acts with."""

    name: str
    role: str
    user_id: int  # 0: the admin token, and the tokens made with it
    via: str  # "admin token", "password" or "personal token"
    token_id: int | None = None
    address: str | None = None

    def can(self, needed: str) -> bool:
        return roles.allows(self.role, needed)

    @property
    def is_user(self) -> bool:
        return self.user_id != 0


class _Cache(Generic[T]):
    """Values by key for :data:`CACHE_SECONDS`; bounded, thread-safe."""

    def __init__(self, clock: Callable[[], float], size: int = 10_000) -> None:
        self._clock = clock
        self._size = size
        self._items: dict[str, tuple[float, T | None]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, load: Callable[[], T | None]) -> T | None:
        now = self._clock()
        with self._lock:
            found = self._items.get(key)
        if found is not None and now - found[0] < CACHE_SECONDS:
            return found[1]
        value = load()
        with self._lock:
            if len(self._items) >= self._size:
                self._items.clear()
            self._items[key] = (now, value)
        return value

    def drop(self, key: str | None = None) -> None:
        with self._lock:
            if key is None:
                self._items.clear()
            else:
                self._items.pop(key, None)


def checked_name(name: str, what: str = "user") -> str:
    name = name.strip()
    if not 1 <= len(name) <= NAME_MAX or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ProtocolError(
            f"A {what} name must be 1-{NAME_MAX} characters without line breaks or "
            f"control characters; got {name[:120]!r}"
        )
    return name


class Accounts:
    def __init__(
        self,
        store: AccountStore,
        admin_token: str,
        throttle: LoginThrottle | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self._admin_token = admin_token.encode()
        self._admin_via = "admin-token:" + credentials.digest(admin_token)[:16]
        self.throttle = throttle or LoginThrottle()
        self._clock = clock
        self._users: dict[int, User] = {}
        self._users_at = -CACHE_SECONDS
        self._users_lock = threading.Lock()
        self._sessions: _Cache[LoginSession] = _Cache(clock)
        self._tokens: _Cache[ApiToken] = _Cache(clock)
        self._touched: dict[int, float] = {}

    # -- who is asking ---------------------------------------------------------
    def is_admin_token(self, candidate: str) -> bool:
        return hmac.compare_digest(candidate.strip().encode(), self._admin_token)

    def admin(self, via: str = ADMIN_TOKEN_NAME, address: str | None = None) -> Principal:
        return Principal(ADMIN_TOKEN_NAME, roles.ADMIN, 0, via, None, address)

    def by_token(self, secret: str, address: str | None = None) -> Principal | None:
        """The principal of a Bearer token (the admin token or a personal token)."""
        secret = secret.strip()
        if self.is_admin_token(secret):
            return self.admin(address=address)
        key = credentials.digest(secret)
        token = self._tokens.get(key, lambda: self.store.token_by_digest(key))
        if token is None or token.revoked_at is not None:
            return None
        owner = self._owner(token.user_id)
        if owner is None:
            return None
        name, role = owner
        if token.role is not None:
            role = roles.lower(role, token.role)
        self._touch(token)
        return Principal(name, role, token.user_id, "personal token", token.id, address)

    def by_session(self, secret: str, address: str | None = None) -> Principal | None:
        """The principal of a session cookie; ``None`` if unknown, ended or expired."""
        key = credentials.digest(secret)
        session = self._sessions.get(key, lambda: self.store.get_session(key))
        if session is None or session.revoked_at is not None:
            return None
        if session.expires_at <= self._clock():
            return None
        if session.user_id == 0:
            if session.via != self._admin_via:  # made with an admin token since replaced
                return None
            return self.admin("admin token", address)
        user = self._user(session.user_id)
        if user is None:
            return None
        return Principal(user.name, user.role, user.id, "password", None, address)

    def _owner(self, user_id: int) -> tuple[str, str] | None:
        if user_id == 0:
            return ADMIN_TOKEN_NAME, roles.ADMIN
        user = self._user(user_id)
        return (user.name, user.role) if user else None

    def _touch(self, token: ApiToken) -> None:
        now = self._clock()
        if now - self._touched.get(token.id, 0.0) < TOKEN_USE_INTERVAL:
            return
        if len(self._touched) > 10_000:
            self._touched.clear()
        self._touched[token.id] = now
        self.store.touch_token(token.id, now)

    # -- the users' snapshot -------------------------------------------------------
    def _user(self, user_id: int) -> User | None:
        if self._clock() - self._users_at >= CACHE_SECONDS:
            self._reload_users()
        found = self._users.get(user_id)
        if found is None and self._clock() - self._users_at > 0.25:
            self._reload_users()  # made by another process a moment ago
            found = self._users.get(user_id)
        return found

    def _reload_users(self) -> None:
        users = self.store.list_users()
        with self._users_lock:
            self._users = {u.id: u for u in users}
            self._users_at = self._clock()

    def _changed(self) -> None:
        """Forget what this process read: it has just changed it."""
        self._users_at = -CACHE_SECONDS
        self._sessions.drop()
        self._tokens.drop()

    # -- logging in and out ----------------------------------------------------------
    def log_in(self, name: str, password: str, address: str | None) -> tuple[Principal, str]:
        """A new session for ``name`` and ``password`` (no name: the admin token).

        Returns the principal and the session's secret (the cookie's value);
        :class:`RateLimited` after repeated failures, :class:`AuthError` when wrong.
        """
        # No name is longer (what is kept of a guess per name, and audited, stays small).
        name = name.strip()[: NAME_MAX + 1]
        wait = self.throttle.retry_after(name, address)
        if wait:
            raise RateLimited(
                f"Too many failed logins for this name or from this address; try again in {wait} s",
                wait,
            )
        principal = self._check_login(name, password, address)
        if principal is None:
            self.throttle.failed(name, address)
            anonymous = Principal("anonymous", roles.VIEWER, -1, "password", None, address)
            self.record(anonymous, "login.failed", name or ADMIN_TOKEN_NAME)
            raise AuthError(WRONG_LOGIN if name else WRONG_ADMIN_TOKEN)
        self.throttle.succeeded(name)
        secret = credentials.new_session_id()
        now = self._clock()
        via = self._admin_via if principal.user_id == 0 else "password"
        self.store.create_session(
            LoginSession(
                credentials.digest(secret), principal.user_id, via, now, now + SESSION_SECONDS
            )
        )
        self.record(principal, "login", principal.name, principal.via)
        return principal, secret

    def _check_login(self, name: str, password: str, address: str | None) -> Principal | None:
        if not name:
            return self.admin("admin token", address) if self.is_admin_token(password) else None
        user = next((u for u in self.store.list_users() if u.name == name), None)
        if len(password) > credentials.PASSWORD_MAX:
            return None
        if user is None:
            credentials.verify_password(credentials.unknown_user_hash(), password)
            return None
        if not credentials.verify_password(user.password_hash, password):
            return None
        if credentials.needs_rehash(user.password_hash):
            self.store.update_user(user.id, password_hash=credentials.hash_password(password))
        return Principal(user.name, user.role, user.id, "password", None, address)

    def log_out(self, secret: str, principal: Principal) -> None:
        key = credentials.digest(secret)
        self.store.revoke_session(key)
        self._sessions.drop(key)
        self.record(principal, "logout", principal.name)

    # -- users -------------------------------------------------------------------------
    def list_users(self) -> list[User]:
        return self.store.list_users()

    def get_user(self, user_id: int) -> User:
        found = next((u for u in self.store.list_users() if u.id == user_id), None)
        if found is None:
            raise NotFound(f"There is no user {user_id}; see GET /api/v1/users")
        return found

    def create_user(
        self, actor: Principal, name: str, role: str, password: str | None = None
    ) -> tuple[User, str]:
        """A new user and its password (the one given, or a generated one)."""
        _require(actor, roles.ADMIN)
        name = checked_name(name)
        role = roles.checked(role)
        password = credentials.new_password() if password is None else password
        credentials.checked_password(password)
        user = self.store.create_user(name, role, credentials.hash_password(password))
        self._changed()
        self.record(actor, "user.create", user.name, f"role {role}")
        return user, password

    def update_user(
        self,
        actor: Principal,
        user_id: int,
        role: str | None = None,
        password: str | None = None,
    ) -> User:
        """Change a user's role, or (ending its sessions) its password."""
        _require(actor, roles.ADMIN)
        before = self.get_user(user_id)
        if role is not None:
            roles.checked(role)
        hashed = None
        if password is not None:
            hashed = credentials.hash_password(credentials.checked_password(password))
        user = self.store.update_user(user_id, role, hashed)
        if user is None:
            raise NotFound(f"There is no user {user_id}; see GET /api/v1/users")
        if hashed is not None:
            self.store.revoke_user_sessions(user_id)
            self.record(actor, "user.password", user.name)
        if role is not None and role != before.role:
            self.record(actor, "user.role", user.name, f"{before.role} → {role}")
        self._changed()
        return user

    def change_own_password(self, actor: Principal, current: str, new: str) -> None:
        """A user's new password, given the current one; its other sessions end."""
        if not actor.is_user:
            raise ProtocolError("The admin token has no password; change DATA_DIR/admin-token")
        user = self.get_user(actor.user_id)
        if not credentials.verify_password(user.password_hash, current):
            raise ForbiddenError("The current password is wrong")
        hashed = credentials.hash_password(credentials.checked_password(new))
        self.store.update_user(user.id, password_hash=hashed)
        self.store.revoke_user_sessions(user.id)
        self._changed()
        self.record(actor, "user.password", user.name, "own")

    def delete_user(self, actor: Principal, user_id: int) -> None:
        """Delete a user; its tokens and sessions stop working at once."""
        _require(actor, roles.ADMIN)
        user = self.get_user(user_id)
        if not self.store.delete_user(user_id):
            raise NotFound(f"There is no user {user_id}; see GET /api/v1/users")
        self._changed()
        self.record(actor, "user.delete", user.name)

    def user_names(self) -> dict[int, str]:
        return {0: ADMIN_TOKEN_NAME, **{u.id: u.name for u in self.store.list_users()}}

    # -- personal tokens -----------------------------------------------------------------
    def create_token(
        self, actor: Principal, name: str, role: str | None = None
    ) -> tuple[ApiToken, str]:
        """A token of ``actor`` (members and admins) and its secret, shown once."""
        _require(actor, roles.MEMBER)
        name = checked_name(name, "token")
        if role is not None and not roles.allows(actor.role, roles.checked(role)):
            raise ForbiddenError(
                f"A token cannot have more than its owner's role: {actor.name} is a "
                f"{actor.role}, the token asked for {role}"
            )
        secret = credentials.new_token()
        token = self.store.create_token(actor.user_id, name, role, credentials.digest(secret))
        self.record(actor, "token.create", name, f"token {token.id}")
        return token, secret

    def list_tokens(self, actor: Principal, everyone: bool = False) -> list[ApiToken]:
        if everyone:
            _require(actor, roles.ADMIN)
            return self.store.list_tokens(None)
        return self.store.list_tokens(actor.user_id)

    def revoke_token(self, actor: Principal, token_id: int) -> ApiToken:
        """Revoke one of ``actor``'s tokens (an admin: anyone's)."""
        mine = {t.id: t for t in self.store.list_tokens(actor.user_id)}
        if token_id not in mine and not (
            actor.can(roles.ADMIN) and any(t.id == token_id for t in self.store.list_tokens())
        ):
            raise NotFound(f"You have no token {token_id}; see GET /api/v1/tokens")
        token = self.store.revoke_token(token_id)
        if token is None:
            raise NotFound(f"You have no token {token_id}; see GET /api/v1/tokens")
        self._tokens.drop(token.digest)
        self.record(actor, "token.revoke", token.name, f"token {token.id}")
        return token

    # -- audit ---------------------------------------------------------------------------
    def record(self, actor: Principal, action: str, target: str, detail: str = "") -> None:
        self.store.add_audit(
            AuditEntry(self._clock(), actor.name, action, target, detail, actor.address)
        )

    def audit(self, actor: Principal, limit: int = 100) -> list[AuditEntry]:
        _require(actor, roles.ADMIN)
        return self.store.audit_log(max(1, min(limit, 1000)))


def _require(actor: Principal, role: str) -> None:
    if not actor.can(role):
        raise ForbiddenError(role_needed(role, actor))


def role_needed(role: str, actor: Principal) -> str:
    """The 403 message: the role needed, the role held, and who can help."""
    return (
        f"This needs the {role} role; {actor.name} is a {actor.role}. An admin can change "
        "roles on the settings page or with `glasspane users set-role`."
    )
