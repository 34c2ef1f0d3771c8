"""Which project a request writes to, from the DSN key the SDK sent."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from glasspane.domain import Project
from glasspane.errors import AuthError, ForbiddenError
from glasspane.ingest.target import IngestTarget
from glasspane.protocol.auth import key_from_dsn, parse_auth_header


def request_key(request: Request, envelope_headers: dict[str, Any] | None = None) -> str | None:
    """The public key from X-Sentry-Auth, ``sentry_key``, or the envelope's ``dsn``."""
    for header in ("x-sentry-auth", "authorization"):
        value = request.headers.get(header)
        if value and value.lower().startswith("sentry "):
            key = parse_auth_header(value).get("sentry_key")
            if key:
                return key
    key = request.query_params.get("sentry_key")
    if key:
        return key
    dsn = (envelope_headers or {}).get("dsn")
    return key_from_dsn(dsn) if isinstance(dsn, str) else None


def authenticate(instance: IngestTarget, path_project_id: str, key: str | None) -> Project:
    """The project the key belongs to, which must be the one in the URL."""
    if not key:
        raise AuthError(
            "Missing DSN key: send it in the X-Sentry-Auth header (sentry_key=...), the "
            "sentry_key query parameter, or the envelope header's dsn"
        )
    project = instance.project_by_key(key)
    if project is None:
        raise AuthError(
            f"Unknown DSN key {key[:8]}...: copy the DSN from `glasspane projects list`"
        )
    if not path_project_id.isdigit() or int(path_project_id) != project.id:
        raise ForbiddenError(
            f"This DSN key belongs to project {project.id} ({project.name}), not to project "
            f"{path_project_id}; use that project's own DSN"
        )
    return project
