"""Who a request is, and whether its role lets it do what it asks.

A request of the JSON API authenticates with ``Authorization: Bearer <token>``
(the admin token, or a personal token), or with the session cookie of a
logged-in browser. Routers take :func:`require_viewer` (reads); routes that
change something take :data:`Member` or :data:`Admin` as a parameter, which
also hands them the principal for the audit log. A role too low is a 403
naming the role needed (:func:`~glasspane.access.accounts.role_needed`).

The session cookie is sent by browsers with requests other sites make, so a
cookie-authenticated request that changes something must come from a page of
glasspane itself: refused when the browser says it was sent from elsewhere
(``Sec-Fetch-Site``, else ``Origin``). Scripts that send neither header are not
browsers, and hold the cookie only if given it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from glasspane.access import roles
from glasspane.access.accounts import Accounts, Principal, role_needed
from glasspane.errors import AuthError, ForbiddenError

#: The browser session's cookie (its value is a random id; the store keeps its digest).
COOKIE = "glasspane_session"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
MISSING = (
    "Missing admin token or personal token: send Authorization: Bearer <token> (the admin "
    "token is printed by `glasspane serve` and stored in DATA_DIR/admin-token; a personal "
    "token comes from the settings page or `glasspane tokens create NAME`), or log in"
)
WRONG = (
    "Wrong admin token or personal token: it is not the one in DATA_DIR/admin-token, "
    "and no personal token like it exists (revoked, or its owner deleted)"
)
ENDED = "Your session has ended or expired; log in again"


def accounts_of(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.instance.accounts
    return accounts


def client_address(request: Request) -> str | None:
    """The client's address (behind ``glasspane serve``'s ingest workers too: they
    pass it in ``X-Forwarded-For``, which the server process trusts on its socket)."""
    return request.client.host if request.client else None


def same_origin(request: Request) -> bool:
    """Whether a browser sent this request from a page of this very site."""
    site = request.headers.get("sec-fetch-site")
    if site:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return origin.split("://", 1)[-1] == request.headers.get("host", "")


def authenticate(request: Request) -> Principal:
    """The principal of the request (once per request); :class:`AuthError` if none."""
    found: Principal | None = getattr(request.state, "principal", None)
    if found is not None:
        return found
    accounts = accounts_of(request)
    address = client_address(request)
    header = request.headers.get("authorization")
    cookie = request.cookies.get(COOKIE)
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError(MISSING)
        found = accounts.by_token(token, address)
        if found is None:
            raise AuthError(WRONG)
    elif cookie:
        found = accounts.by_session(cookie, address)
        if found is None:
            raise AuthError(ENDED)
        if request.method not in SAFE_METHODS and not same_origin(request):
            raise ForbiddenError(
                "Refused: this request carries a glasspane session but was sent from another "
                "site. Send it from glasspane's own pages, or with a Bearer token."
            )
    else:
        raise AuthError(MISSING)
    request.state.principal = found
    return found


def require(role: str) -> Callable[[Request], Principal]:
    """A FastAPI dependency: the principal, if its role is at least ``role`` (else 403)."""

    def dependency(request: Request) -> Principal:
        principal = authenticate(request)
        if not principal.can(role):
            raise ForbiddenError(role_needed(role, principal))
        return principal

    dependency.__name__ = f"require_{role}"
    return dependency


require_viewer = require(roles.VIEWER)
require_member = require(roles.MEMBER)
require_admin = require(roles.ADMIN)

#: Route parameters: ``actor: Admin`` admits admins only, and names who acts.
Viewer = Annotated[Principal, Depends(require_viewer)]
Member = Annotated[Principal, Depends(require_member)]
Admin = Annotated[Principal, Depends(require_admin)]
