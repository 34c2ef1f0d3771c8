"""Browser sessions for the web UI: a cookie naming a session kept in the store.

Logging in (``login.py``, through :class:`~glasspane.access.accounts.Accounts`)
makes a session: 256 random bits in the cookie, their SHA-256 in the store
(``login_sessions``), with its user and its expiry (:data:`SESSION_SECONDS`
from login). So:

- logging out, deleting a user or changing its password ends the sessions
  everywhere, at once in this process (within seconds in others sharing a
  ClickHouse store), and a restart does not bring an ended session back;
- a role changed by an admin applies to the next page;
- sessions made with the admin token end when ``DATA_DIR/admin-token`` changes.

The cookie is ``HttpOnly``, ``SameSite=Lax``, and ``Secure`` when the page was
served over HTTPS or ``--public-url`` is ``https://`` (TLS ended by a proxy in
front). The CSRF token of a session is an HMAC of its id; every state-changing
form carries it and :func:`check_csrf` compares it in constant time.

The road not taken: the signed, stateless cookie this replaces (its key derived
from the admin token) could only be revoked in the process that saw the logout,
and came back after a restart; with users, that is not enough.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Request
from starlette.responses import RedirectResponse, Response

from glasspane.access.accounts import SESSION_SECONDS, Principal, role_needed
from glasspane.errors import AuthError, ForbiddenError, RateLimited
from glasspane.web.auth import COOKIE, accounts_of, client_address, same_origin

__all__ = [
    "COOKIE",
    "SESSION_SECONDS",
    "LoggedIn",
    "Redirect",
    "Session",
    "check_csrf",
    "check_role",
    "optional_session",
    "redirect_response",
    "require_session",
    "safe_next",
    "set_cookie",
]

_CSRF_LABEL = b"glasspane csrf v1"


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in browser: who it is, and the token its forms carry."""

    principal: Principal
    csrf: str

    @property
    def name(self) -> str:
        return self.principal.name

    @property
    def role(self) -> str:
        return self.principal.role

    def can(self, role: str) -> bool:
        """For templates: offer only the buttons this role may use."""
        return self.principal.can(role)


class Redirect(Exception):
    """Answer with a 303 to ``location``; ``cookie`` set (or ``""`` cleared) on the way.

    Raised by the session dependency (log in first; a ``?token=`` just used) and
    turned into a response by :func:`redirect_response`, registered in ``web.app``.
    """

    def __init__(self, location: str, cookie: str | None = None, max_age: int = 0) -> None:
        super().__init__(location)
        self.location = location
        self.cookie = cookie
        self.max_age = max_age


def csrf_token(secret: str) -> str:
    digest = hmac.new(secret.encode(), _CSRF_LABEL, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def safe_next(target: str | None) -> str:
    """A local path to return to after login; anything else (``//evil``, URLs) is ``/``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _without_token(request: Request) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
    return request.url.path + (f"?{urlencode(params)}" if params else "")


def optional_session(request: Request) -> Session | None:
    """The session of the request's cookie, or ``None``."""
    secret = request.cookies.get(COOKIE)
    if not secret:
        return None
    principal = accounts_of(request).by_session(secret, client_address(request))
    if principal is None:
        return None
    request.state.principal = principal
    return Session(principal, csrf_token(secret))


def require_session(request: Request) -> Session:
    """FastAPI dependency of every page: the session, or a redirect to the login page.

    A ``?token=`` query parameter holding the admin token (the URL ``glasspane
    demo`` prints) logs in and redirects to the same URL without it, so the
    token leaves the address bar. It counts against the login throttle.
    """
    token = request.query_params.get("token")
    if token is not None:
        try:
            _, secret = accounts_of(request).log_in("", token, client_address(request))
        except (AuthError, RateLimited):
            raise Redirect(
                "/login?" + urlencode({"next": _without_token(request), "error": "1"})
            ) from None
        raise Redirect(_without_token(request), secret, SESSION_SECONDS)
    session = optional_session(request)
    if session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise Redirect("/login" + (f"?{urlencode({'next': target})}" if target != "/" else ""))
    return session


#: A page's parameter for its session: ``session: LoggedIn``.
LoggedIn = Annotated[Session, Depends(require_session)]


def check_csrf(request: Request, session: Session, submitted: str | None) -> None:
    """Refuse a state-changing form without this session's token, or from another origin."""
    origin = request.headers.get("origin")
    if origin != "null" and not same_origin(request):
        raise ForbiddenError(f"Form posted from another origin ({origin}); reload the page")
    if not submitted or not hmac.compare_digest(submitted.encode(), session.csrf.encode()):
        raise ForbiddenError("The form's CSRF token is missing or stale; reload the page and retry")


def check_role(session: Session, role: str) -> None:
    """A 403 page naming the role needed, for a form this role may not send."""
    if not session.can(role):
        raise ForbiddenError(role_needed(role, session.principal))


def redirect_response(request: Request, exc: Exception) -> Response:
    """The response of a :class:`Redirect` (registered as an exception handler)."""
    assert isinstance(exc, Redirect)
    response = RedirectResponse(exc.location, status_code=303)
    if exc.cookie is not None:
        set_cookie(request, response, exc.cookie, exc.max_age)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def secure_cookies(request: Request) -> bool:
    public_url: str = request.app.state.instance.config.public_url
    return request.url.scheme == "https" or public_url.lower().startswith("https://")


def set_cookie(request: Request, response: Response, value: str, max_age: int) -> None:
    """Set (``max_age`` > 0) or clear the session cookie."""
    secure = secure_cookies(request)
    if max_age <= 0:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=secure)
        return
    response.set_cookie(
        COOKIE,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )
