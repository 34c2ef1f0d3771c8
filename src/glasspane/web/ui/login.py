"""Log in with a name and password (or the admin token, name left empty), log out."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from glasspane.access.accounts import WRONG_ADMIN_TOKEN
from glasspane.errors import AuthError, ForbiddenError, RateLimited
from glasspane.web.auth import COOKIE, accounts_of, client_address, same_origin
from glasspane.web.ui.render import page
from glasspane.web.ui.session import (
    SESSION_SECONDS,
    LoggedIn,
    check_csrf,
    optional_session,
    safe_next,
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
def login_page(
    request: Request, next: str = "/", error: str | None = None, changed: str | None = None
) -> Response:
    if optional_session(request) is not None and not error:
        return RedirectResponse(safe_next(next), status_code=303)
    message = WRONG_ADMIN_TOKEN if error else None
    info = "Your password was changed; log in with the new one." if changed else None
    return page(
        request, "login.html", session=None, next=safe_next(next), message=message, info=info
    )


@router.post("/login")
async def login(request: Request) -> Response:
    if not same_origin(request):  # another site logging this browser in to its account
        raise ForbiddenError("Log in from glasspane's own login page")
    fields = await form(request)
    target = safe_next(fields.get("next"))
    name = fields.get("name", "")
    # ``token``: the field's name before users existed (scripts post it still).
    password = fields.get("password") or fields.get("token", "")
    accounts = accounts_of(request)
    try:
        _, secret = await run_in_threadpool(
            accounts.log_in, name, password, client_address(request)
        )
    except RateLimited as exc:
        response = _failed(request, 429, target, name, str(exc))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except AuthError as exc:
        return _failed(request, 401, target, name, str(exc))
    response = RedirectResponse(target, status_code=303)
    set_cookie(request, response, secret, SESSION_SECONDS)
    return response


def _failed(request: Request, status: int, target: str, name: str, message: str) -> Response:
    return page(
        request,
        "login.html",
        session=None,
        status_code=status,
        next=target,
        name=name,
        message=message,
    )


@router.post("/logout")
async def logout(request: Request, session: LoggedIn) -> Response:
    check_csrf(request, session, (await form(request)).get("csrf"))
    secret = request.cookies.get(COOKIE, "")
    await run_in_threadpool(accounts_of(request).log_out, secret, session.principal)
    response = RedirectResponse("/login", status_code=303)
    set_cookie(request, response, "", 0)
    return response
