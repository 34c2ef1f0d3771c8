"""Users, personal tokens, who am I, and the audit log, under ``/api/v1``.

Users and the audit log are an admin's; tokens are the caller's own (members
and admins make them; anyone may revoke their own; an admin may list and
revoke everyone's with ``?all=true``). Secrets appear once, in the answer
that creates them, and never again.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response

from glasspane.access.roles import ROLES
from glasspane.store.accounts import ApiToken, AuditEntry, User
from glasspane.web.auth import Admin, Member, Viewer, accounts_of

router = APIRouter(prefix="/api/v1", tags=["accounts"])

ROLE_HELP = "viewer (reads), member (also resolves issues, makes tokens) or admin"


class UserIn(BaseModel):
    name: str = Field(description="Log-in name, unique among users.")
    role: str = Field(description=ROLE_HELP)
    password: str | None = Field(
        None, description="At least 8 characters; without it one is generated."
    )


class UserPatch(BaseModel):
    role: str | None = Field(None, description=ROLE_HELP)
    password: str | None = Field(None, description="A new password; ends the user's sessions.")


class TokenIn(BaseModel):
    name: str = Field(description="What the token is for, e.g. ci-sourcemaps.")
    role: str | None = Field(
        None, description="Cap the token below your own role (e.g. viewer); default: yours."
    )


def user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "name": user.name, "role": user.role, "created_at": user.created_at}


def token_json(token: ApiToken, owners: dict[int, str]) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "role": token.role,
        "user": owners.get(token.user_id),
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
    }


def audit_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "timestamp": entry.timestamp,
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "detail": entry.detail,
        "address": entry.address,
    }


@router.get("/me", summary="Who the caller is: name, role and how it authenticated")
def me(actor: Viewer) -> dict[str, Any]:
    return {
        "name": actor.name,
        "role": actor.role,
        "user_id": actor.user_id or None,
        "via": actor.via,
        "roles": list(ROLES),
    }


# -- users (admin) -------------------------------------------------------------------------
@router.get("/users", summary="Users and their roles (admin)")
def list_users(request: Request, actor: Admin) -> dict[str, Any]:
    return {"users": [user_json(u) for u in accounts_of(request).list_users()]}


@router.post(
    "/users",
    status_code=201,
    summary="Create a user (admin); the answer holds its password, shown this once",
)
def create_user(body: UserIn, request: Request, actor: Admin) -> JSONResponse:
    user, password = accounts_of(request).create_user(actor, body.name, body.role, body.password)
    return JSONResponse({**user_json(user), "password": password}, status_code=201)


@router.patch("/users/{user_id}", summary="Change a user's role or password (admin)")
def update_user(user_id: int, body: UserPatch, request: Request, actor: Admin) -> dict[str, Any]:
    user = accounts_of(request).update_user(actor, user_id, body.role, body.password)
    return user_json(user)


@router.delete(
    "/users/{user_id}",
    status_code=204,
    summary="Delete a user (admin); its tokens and sessions stop working",
)
def delete_user(user_id: int, request: Request, actor: Admin) -> Response:
    accounts_of(request).delete_user(actor, user_id)
    return Response(status_code=204)


# -- personal tokens ---------------------------------------------------------------------------
@router.get("/tokens", summary="Your personal tokens (an admin: everyone's with all=true)")
def list_tokens(
    request: Request,
    actor: Viewer,
    everyone: bool = Query(False, alias="all", description="Everyone's tokens (admin)"),
) -> dict[str, Any]:
    accounts = accounts_of(request)
    owners = accounts.user_names()
    return {"tokens": [token_json(t, owners) for t in accounts.list_tokens(actor, everyone)]}


@router.post(
    "/tokens",
    status_code=201,
    summary="Make a personal token (member); the answer holds it, shown this once",
)
def create_token(body: TokenIn, request: Request, actor: Member) -> JSONResponse:
    token, secret = accounts_of(request).create_token(actor, body.name, body.role)
    answer = {**token_json(token, {token.user_id: actor.name}), "token": secret}
    return JSONResponse(answer, status_code=201)


@router.delete(
    "/tokens/{token_id}",
    status_code=204,
    summary="Revoke a personal token of yours (an admin: anyone's)",
)
def revoke_token(token_id: int, request: Request, actor: Viewer) -> Response:
    accounts_of(request).revoke_token(actor, token_id)
    return Response(status_code=204)


# -- audit (admin) -----------------------------------------------------------------------------
@router.get("/audit", summary="Who did what: logins, roles, keys, tokens (admin), newest first")
def audit(
    request: Request, actor: Admin, limit: int = Query(100, description="At most 1000")
) -> dict[str, Any]:
    return {"entries": [audit_json(e) for e in accounts_of(request).audit(actor, limit)]}
