"""The admin token guarding the API and UI."""

from __future__ import annotations

import hmac

from fastapi import Request

from glasspane.errors import AuthError
from glasspane.web.deps import instance_of


def require_admin(request: Request) -> None:
    """FastAPI dependency: ``Authorization: Bearer <admin token>``, compared in constant time."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    expected: str = instance_of(request).admin_token
    if scheme.lower() != "bearer" or not token:
        raise AuthError(
            "Missing admin token: send Authorization: Bearer <token> (the token is printed by "
            "`glasspane serve` and stored in DATA_DIR/admin-token)"
        )
    if not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise AuthError("Wrong admin token: use the one in DATA_DIR/admin-token")
