"""The accounts contract: users, personal tokens, login sessions and the audit log.

Every backend fulfils :class:`AccountStore` (``Store`` includes it). What it
keeps is never a secret in clear: passwords arrive hashed (argon2), tokens and
session ids as SHA-256 digests of high-entropy values; the caller
(``access/``) makes and checks them.

Contract, beyond the store's general one (``store/api.py``):

- **Durability**: every write returns once it is durable.
- **Nothing is forgotten by id**: a deleted user, a revoked token and an ended
  session stay as rows marked ``deleted_at`` / ``revoked_at``, so an id is
  never handed out twice and a token of a deleted user can never come back to
  life as someone else's. Reads leave them out (except :meth:`get_session` and
  :meth:`token_by_digest`, which return them marked, for the caller to refuse).
- **Names**: a user name is unique among the users not deleted; creating a
  second one is a :class:`~glasspane.errors.Conflict`. Token names need not be
  unique.
- **Unknown ids** answer ``None`` / ``False``, never raise.
- **Several processes** (ClickHouse): updates are new versions of a row; two
  processes that change one user at the same instant keep the later change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(slots=True)
class User:
    id: int
    name: str
    role: str
    password_hash: str
    created_at: float


@dataclass(slots=True)
class ApiToken:
    """A personal token. ``role`` caps its owner's role (``None``: the owner's)."""

    id: int
    user_id: int
    name: str
    role: str | None
    digest: str
    created_at: float
    last_used_at: float | None = None
    revoked_at: float | None = None


@dataclass(slots=True)
class LoginSession:
    """A browser session; ``via`` says how it logged in (password or admin token)."""

    digest: str
    user_id: int
    via: str
    created_at: float
    expires_at: float
    revoked_at: float | None = None


@dataclass(slots=True)
class AuditEntry:
    timestamp: float
    actor: str
    action: str
    target: str
    detail: str = ""
    address: str | None = None


class AccountStore(Protocol):
    # -- users -------------------------------------------------------------
    def create_user(self, name: str, role: str, password_hash: str) -> User:
        """A new user with the next id; :class:`Conflict` if a live user has the name."""
        ...

    def list_users(self) -> list[User]:
        """The users not deleted, by id."""
        ...

    def update_user(
        self, user_id: int, role: str | None = None, password_hash: str | None = None
    ) -> User | None:
        """Change what is given; the user as it is now, or ``None`` if unknown or deleted."""
        ...

    def delete_user(self, user_id: int) -> bool:
        """Mark the user deleted and revoke its tokens and sessions; ``False`` if unknown."""
        ...

    # -- personal tokens ---------------------------------------------------------
    def create_token(self, user_id: int, name: str, role: str | None, digest: str) -> ApiToken:
        """A new token with the next id (its secret is known only by ``digest``)."""
        ...

    def list_tokens(self, user_id: int | None = None) -> list[ApiToken]:
        """The tokens not revoked, of one user or (``None``) of everyone, by id."""
        ...

    def token_by_digest(self, digest: str) -> ApiToken | None:
        """The token with this digest, revoked or not."""
        ...

    def revoke_token(self, token_id: int) -> ApiToken | None:
        """Revoke a token; the token, or ``None`` if unknown or already revoked."""
        ...

    def touch_token(self, token_id: int, when: float) -> None:
        """Remember that the token was used at ``when`` (a later time wins)."""
        ...

    # -- login sessions ----------------------------------------------------------
    def create_session(self, session: LoginSession) -> None: ...

    def get_session(self, digest: str) -> LoginSession | None:
        """The session with this digest, ended or expired or not."""
        ...

    def revoke_session(self, digest: str) -> None: ...

    def revoke_user_sessions(self, user_id: int) -> None:
        """End every session of one user (a new password, a deleted user)."""
        ...

    # -- audit ----------------------------------------------------------------------
    def add_audit(self, entry: AuditEntry) -> None: ...

    def audit_log(self, limit: int) -> list[AuditEntry]:
        """The latest ``limit`` entries, newest first."""
        ...
