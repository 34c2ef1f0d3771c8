"""The three roles, in order: each may do what the one before it may, and more.

- ``viewer`` reads everything: every page and every ``GET`` of the API.
- ``member`` also resolves and ignores issues, and makes personal tokens for itself.
- ``admin`` also manages projects and their DSN keys, users, settings, and
  reloads alert rules. The admin token is an admin.
"""

from __future__ import annotations

from glasspane.errors import ProtocolError

ROLES = ("viewer", "member", "admin")
VIEWER, MEMBER, ADMIN = ROLES

#: One line per role, for help texts and the settings page.
DESCRIPTIONS = {
    VIEWER: "reads everything",
    MEMBER: "also resolves and ignores issues and makes tokens for itself",
    ADMIN: "also manages projects, DSN keys, users, settings and alert reloads",
}


def allows(role: str, needed: str) -> bool:
    """Whether ``role`` may do what needs ``needed``."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def lower(first: str, second: str) -> str:
    """The lower of two roles (a token's cap and its owner's role)."""
    return first if ROLES.index(first) <= ROLES.index(second) else second


def checked(role: str) -> str:
    """``role`` if it is one; else a :class:`ProtocolError` naming the three."""
    if role not in ROLES:
        raise ProtocolError(f"role must be one of {', '.join(ROLES)}; got {role!r}")
    return role
