"""Browser sessions for the web UI: a signed cookie and a CSRF token per session.

The cookie holds ``<issued>.<nonce>.<signature>``, never the admin token. The
signature is an HMAC keyed by a value derived from the admin token, so:

- sessions survive a restart and work across several ``glasspane serve``
  processes sharing one data directory (no server-side session table);
- changing the admin token (``DATA_DIR/admin-token``) logs every browser out;
- a session lasts :data:`SESSION_SECONDS` from login.

Logging out clears the cookie and remembers the nonce as revoked in this
process, so a copied cookie stops working here at once. (A server-side table
would make revocation global; the road not taken, since the admin token is the
only credential and rotating it revokes everything.)

The CSRF token of a session is another HMAC of its nonce; every state-changing
form carries it and :func:`check_csrf` compares it in constant time. The cookie
is ``HttpOnly`` and ``SameSite=Lax``, so other sites can neither read it nor send
it with a cross-site POST.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Request
from starlette.responses import RedirectResponse, Response

from glasspane.errors import ForbiddenError

COOKIE = "glasspane_session"
SESSION_SECONDS = 30 * 86400
_KEY_LABEL = b"glasspane web session v1"


@dataclass(frozen=True, slots=True)
class Session:
    nonce: str
    issued: int
    csrf: str


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


class Sessions:
    """Issues and checks session cookies for one admin token."""

    def __init__(self, admin_token: str) -> None:
        self._token = admin_token.encode()
        self._key = hmac.new(self._token, _KEY_LABEL, hashlib.sha256).digest()
        self._revoked: set[str] = set()
        self._lock = threading.Lock()

    def token_matches(self, candidate: str) -> bool:
        return hmac.compare_digest(candidate.strip().encode(), self._token)

    def issue(self, now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        body = f"{issued}.{secrets.token_urlsafe(18)}"
        return f"{body}.{self._sign(body)}"

    def verify(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session of a cookie value; ``None`` if forged, expired or revoked."""
        if not cookie or cookie.count(".") != 2:
            return None
        issued_text, nonce, signature = cookie.split(".")
        body = f"{issued_text}.{nonce}"
        if not hmac.compare_digest(signature.encode(), self._sign(body).encode()):
            return None
        now = time.time() if now is None else now
        issued = int(issued_text) if issued_text.isdigit() else -1
        if not 0 <= now - issued < SESSION_SECONDS:
            return None
        with self._lock:
            if nonce in self._revoked:
                return None
        return Session(nonce, issued, self._sign("csrf." + nonce))

    def revoke(self, session: Session) -> None:
        with self._lock:
            self._revoked.add(session.nonce)

    def _sign(self, text: str) -> str:
        digest = hmac.new(self._key, text.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sessions(request: Request) -> Sessions:
    """The app's :class:`Sessions`, made on first use from the instance's admin token."""
    state = request.app.state
    found: Sessions | None = getattr(state, "ui_sessions", None)
    if found is None:
        found = state.ui_sessions = Sessions(state.instance.admin_token)
    return found


def safe_next(target: str | None) -> str:
    """A local path to return to after login; anything else (``//evil``, URLs) is ``/``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _without_token(request: Request) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
    return request.url.path + (f"?{urlencode(params)}" if params else "")


def require_session(request: Request) -> Session:
    """FastAPI dependency of every page: the session, or a redirect.

    A ``?token=`` query parameter (the URL ``glasspane serve`` prints) logs in and
    redirects to the same URL without it, so the token leaves the address bar.
    """
    store = sessions(request)
    token = request.query_params.get("token")
    if token is not None:
        if store.token_matches(token):
            raise Redirect(_without_token(request), store.issue(), SESSION_SECONDS)
        raise Redirect("/login?" + urlencode({"next": _without_token(request), "error": "1"}))
    session = store.verify(request.cookies.get(COOKIE))
    if session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise Redirect("/login" + (f"?{urlencode({'next': target})}" if target != "/" else ""))
    return session


#: A page's parameter for its session: ``session: LoggedIn``.
LoggedIn = Annotated[Session, Depends(require_session)]


def optional_session(request: Request) -> Session | None:
    return sessions(request).verify(request.cookies.get(COOKIE))


def check_csrf(request: Request, session: Session, submitted: str | None) -> None:
    """Refuse a state-changing form without this session's token, or from another origin."""
    origin = request.headers.get("origin")
    host = request.headers.get("host", "")
    if origin and origin != "null" and origin.split("://", 1)[-1] != host:
        raise ForbiddenError(f"Form posted from another origin ({origin}); reload the page")
    if not submitted or not hmac.compare_digest(submitted.encode(), session.csrf.encode()):
        raise ForbiddenError("The form's CSRF token is missing or stale; reload the page and retry")


def redirect_response(request: Request, exc: Exception) -> Response:
    """The response of a :class:`Redirect` (registered as an exception handler)."""
    assert isinstance(exc, Redirect)
    response = RedirectResponse(exc.location, status_code=303)
    if exc.cookie is not None:
        set_cookie(request, response, exc.cookie, exc.max_age)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def set_cookie(request: Request, response: Response, value: str, max_age: int) -> None:
    """Set (``max_age`` > 0) or clear the session cookie."""
    if max_age <= 0:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
        return
    response.set_cookie(
        COOKIE,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
