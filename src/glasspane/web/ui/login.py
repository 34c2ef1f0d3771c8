"""Log in with the admin token, log out."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from glasspane.web.ui.render import page
from glasspane.web.ui.session import (
    SESSION_SECONDS,
    LoggedIn,
    check_csrf,
    optional_session,
    safe_next,
    sessions,
    set_cookie,
)

router = APIRouter(include_in_schema=False)
MAX_FORM_BYTES = 64 * 1024


async def form(request: Request) -> dict[str, str]:
    """A small urlencoded form (the UI's forms have a few short fields)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[-1] for k, v in fields.items()}


@router.get("/login")
def login_page(request: Request, next: str = "/", error: str | None = None) -> Response:
    if optional_session(request) is not None and not error:
        return RedirectResponse(safe_next(next), status_code=303)
    message = "That token is not the admin token." if error else None
    return page(request, "login.html", session=None, next=safe_next(next), message=message)


@router.post("/login")
async def login(request: Request) -> Response:
    fields = await form(request)
    target = safe_next(fields.get("next"))
    store = sessions(request)
    if not store.token_matches(fields.get("token", "")):
        return page(
            request,
            "login.html",
            session=None,
            status_code=401,
            next=target,
            message="That token is not the admin token. It is printed by `glasspane serve` "
            "and stored in DATA_DIR/admin-token.",
        )
    response = RedirectResponse(target, status_code=303)
    set_cookie(request, response, store.issue(), SESSION_SECONDS)
    return response


@router.post("/logout")
async def logout(request: Request, session: LoggedIn) -> Response:
    check_csrf(request, session, (await form(request)).get("csrf"))
    sessions(request).revoke(session)
    response = RedirectResponse("/login", status_code=303)
    set_cookie(request, response, "", 0)
    return response
