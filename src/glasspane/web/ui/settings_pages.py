"""``/settings``: your account and tokens; users, projects and the audit log (admins).

Every form is CSRF-checked and role-checked here as in the API (the page only
offers what the role may use, but a hand-made POST is refused all the same).
A new token or a new user's password is shown once, on the page that answers
the form (never in a URL, never again).
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from glasspane.access.roles import ADMIN, DESCRIPTIONS, MEMBER, ROLES
from glasspane.detectors import DEFAULTS as DEFAULT_THRESHOLDS
from glasspane.errors import ForbiddenError, GlasspaneError, ProtocolError
from glasspane.query.sourcemaps import uploads
from glasspane.web.auth import accounts_of
from glasspane.web.deps import instance_of
from glasspane.web.ui.login import form
from glasspane.web.ui.render import page, url
from glasspane.web.ui.session import LoggedIn, Session, check_csrf, check_role, set_cookie

router = APIRouter(include_in_schema=False)
AUDIT_ROWS = 100


def _context(request: Request, session: Session) -> dict[str, Any]:
    instance = instance_of(request)
    accounts = accounts_of(request)
    admin = session.can(ADMIN)
    return {
        "tokens": accounts.list_tokens(session.principal),
        "users": accounts.list_users() if admin else [],
        "projects": [(p, instance.dsn(p)) for p in instance.projects()],
        "sourcemaps": [(p, uploads(instance.bundles, p.id)) for p in instance.projects()],
        "audit": accounts.audit(session.principal, AUDIT_ROWS) if admin else [],
        "detector_defaults": DEFAULT_THRESHOLDS,
        "detector_thresholds": instance.detector_thresholds() if admin else {},
        "roles": ROLES,
        "descriptions": DESCRIPTIONS,
        "token_roles": [r for r in ROLES if session.can(r)],
    }


def _render(
    request: Request, session: Session, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    context = _context(request, session)
    return page(
        request,
        "settings.html",
        session=session,
        nav="settings",
        status_code=status_code,
        **context,
        **extra,
    )


@router.get("/settings")
async def settings_page(request: Request, session: LoggedIn) -> HTMLResponse:
    return await run_in_threadpool(_render, request, session)


async def _checked_form(request: Request, session: Session, role: str | None) -> dict[str, str]:
    fields = await form(request)
    check_csrf(request, session, fields.get("csrf"))
    if role is not None:
        check_role(session, role)
    return fields


def _back(done: str, anchor: str) -> Response:
    return RedirectResponse(url("/settings", done=done) + f"#{anchor}", status_code=303)


async def _attempt(
    request: Request, session: Session, anchor: str, action: Any, *args: Any
) -> Any | HTMLResponse:
    """Run ``action``; a user's mistake re-renders the page with it, beside its form."""
    try:
        return await run_in_threadpool(action, *args)
    except ForbiddenError:
        raise
    except GlasspaneError as exc:
        status, message = exc.status_code, str(exc)
    return await run_in_threadpool(
        lambda: _render(request, session, status, error=message, error_anchor=anchor)
    )


# -- your tokens ------------------------------------------------------------------------------
@router.post("/settings/tokens")
async def create_token(request: Request, session: LoggedIn) -> Response:
    fields = await _checked_form(request, session, MEMBER)
    role = fields.get("role") or None
    made = await _attempt(
        request,
        session,
        "tokens",
        accounts_of(request).create_token,
        session.principal,
        fields.get("name", ""),
        role,
    )
    if isinstance(made, Response):
        return made
    token, secret = made
    return await run_in_threadpool(
        lambda: _render(request, session, 201, new_token=secret, new_token_name=token.name)
    )


@router.post("/settings/tokens/{token_id}/revoke")
async def revoke_token(request: Request, token_id: int, session: LoggedIn) -> Response:
    await _checked_form(request, session, None)
    revoke = accounts_of(request).revoke_token
    await run_in_threadpool(revoke, session.principal, token_id)
    return _back("token-revoked", "tokens")


# -- your password ------------------------------------------------------------------------------
@router.post("/settings/password")
async def change_password(request: Request, session: LoggedIn) -> Response:
    fields = await _checked_form(request, session, None)
    if fields.get("new", "") != fields.get("repeat", ""):
        return await run_in_threadpool(
            lambda: _render(
                request,
                session,
                400,
                error="The two new passwords differ; type the same one twice",
                error_anchor="account",
            )
        )
    done = await _attempt(
        request,
        session,
        "account",
        accounts_of(request).change_own_password,
        session.principal,
        fields.get("current", ""),
        fields.get("new", ""),
    )
    if isinstance(done, Response):
        return done
    # Every session of the user ended with the old password, this one too.
    response = RedirectResponse("/login?changed=1", status_code=303)
    set_cookie(request, response, "", 0)
    return response


# -- users (admins) ------------------------------------------------------------------------------
@router.post("/settings/users")
async def create_user(request: Request, session: LoggedIn) -> Response:
    fields = await _checked_form(request, session, ADMIN)
    made = await _attempt(
        request,
        session,
        "users",
        accounts_of(request).create_user,
        session.principal,
        fields.get("name", ""),
        fields.get("role", ""),
        fields.get("password") or None,
    )
    if isinstance(made, Response):
        return made
    user, password = made
    return await run_in_threadpool(
        lambda: _render(request, session, 201, new_password=password, new_user=user.name)
    )


@router.post("/settings/users/{user_id}/role")
async def set_role(request: Request, user_id: int, session: LoggedIn) -> Response:
    fields = await _checked_form(request, session, ADMIN)
    update = accounts_of(request).update_user
    done = await _attempt(
        request, session, "users", update, session.principal, user_id, fields.get("role", "")
    )
    return done if isinstance(done, Response) else _back("role-changed", "users")


@router.post("/settings/users/{user_id}/delete")
async def delete_user(request: Request, user_id: int, session: LoggedIn) -> Response:
    await _checked_form(request, session, ADMIN)
    await run_in_threadpool(accounts_of(request).delete_user, session.principal, user_id)
    return _back("user-deleted", "users")


# -- projects (admins) ----------------------------------------------------------------------------
@router.post("/settings/projects")
async def create_project(request: Request, session: LoggedIn) -> Response:
    fields = await _checked_form(request, session, ADMIN)
    instance = instance_of(request)
    made = await _attempt(
        request, session, "projects", instance.create_project, fields.get("name", "")
    )
    if isinstance(made, Response):
        return made
    await run_in_threadpool(
        accounts_of(request).record, session.principal, "project.create", made.name
    )
    return _back("project-created", "projects")


@router.post("/settings/projects/{project_id}/rotate-key")
async def rotate_key(request: Request, project_id: int, session: LoggedIn) -> Response:
    await _checked_form(request, session, ADMIN)
    project = await run_in_threadpool(instance_of(request).rotate_key, project_id)
    await run_in_threadpool(
        accounts_of(request).record, session.principal, "project.rotate-key", project.name
    )
    return _back("key-rotated", "projects")


@router.post("/settings/projects/{project_id}/apdex")
async def set_apdex(request: Request, project_id: int, session: LoggedIn) -> Response:
    fields = await _checked_form(request, session, ADMIN)
    try:
        threshold = float(fields.get("apdex_threshold_ms", ""))
    except ValueError:
        raise ProtocolError("The Apdex threshold is a number of milliseconds, e.g. 300") from None
    instance = instance_of(request)
    done = await _attempt(
        request, session, "projects", instance.set_apdex_threshold, project_id, threshold
    )
    if isinstance(done, Response):
        return done
    detail = f"apdex threshold {threshold:g} ms"
    record = accounts_of(request).record
    await run_in_threadpool(record, session.principal, "project.settings", done.name, detail)
    return _back("apdex-changed", "projects")


def _thresholds_form(fields: dict[str, str]) -> dict[str, dict[str, float | bool]]:
    """The performance thresholds form as changes for every detector: a field
    named ``DETECTOR.THRESHOLD`` per threshold, a ``DETECTOR.enabled`` checkbox;
    values equal to the default are left out (they follow the default)."""
    changes: dict[str, dict[str, float | bool]] = {}
    for kind, defaults in DEFAULT_THRESHOLDS.items():
        own: dict[str, float | bool] = {}
        if f"{kind}.enabled" not in fields:
            own["enabled"] = False
        for name, default in defaults.items():
            text = fields.get(f"{kind}.{name}", "").strip()
            try:
                value = float(text) if text else default
            except ValueError:
                raise ProtocolError(f"{kind} {name} must be a number, not {text[:40]!r}") from None
            if value != default:
                own[name] = value
        changes[kind] = own
    return changes


@router.post("/settings/projects/{project_id}/performance-thresholds")
async def set_performance_thresholds(
    request: Request, project_id: int, session: LoggedIn
) -> Response:
    fields = await _checked_form(request, session, ADMIN)
    instance = instance_of(request)
    done = await _attempt(
        request,
        session,
        "performance-thresholds",
        lambda: (
            instance.set_detector_thresholds(project_id, _thresholds_form(fields)),
            next(p.name for p in instance.projects() if p.id == project_id),
        ),
    )
    if isinstance(done, Response):
        return done
    own, name = done
    detail = ("performance thresholds " + orjson.dumps(own).decode())[:500]
    record = accounts_of(request).record
    await run_in_threadpool(record, session.principal, "project.settings", name, detail)
    return _back("thresholds-changed", "performance-thresholds")


# -- alert rules (admins) -------------------------------------------------------------------------
@router.post("/settings/alerts/reload")
async def reload_alerts(request: Request, session: LoggedIn) -> Response:
    await _checked_form(request, session, ADMIN)
    error = await run_in_threadpool(instance_of(request).alerts.reload)
    record = accounts_of(request).record
    await run_in_threadpool(record, session.principal, "alerts.reload", "alert rules", error or "")
    if error:
        return await run_in_threadpool(
            lambda: _render(request, session, 400, error=error, error_anchor="alert-rules")
        )
    return _back("alerts-reloaded", "alert-rules")
