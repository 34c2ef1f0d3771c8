"""The ingest ASGI app (Sentry envelopes, ``/store/``, OTLP), and errors as ingest answers.

Plain Starlette, no FastAPI: ingest is the hot path. The same app runs in the
process that owns the store and in each ingest worker process; only its
:class:`IngestTarget` differs.
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp

from glasspane.errors import GlasspaneError, LimitExceeded, RateLimited, StoreError
from glasspane.ingest.buckets import Buckets
from glasspane.ingest.cors import IngestCORS, is_ingest_path
from glasspane.ingest.metering import CountAnswers
from glasspane.ingest.otlp import ROUTES as OTLP_ROUTES
from glasspane.ingest.quotas import CategoryQuotas, parse_quotas
from glasspane.ingest.ratelimit import KeyRateLimiter, rate_limit_headers
from glasspane.ingest.routes import ROUTES as INGEST_ROUTES
from glasspane.ingest.target import IngestTarget
from glasspane.normalize.sanitize import policy_for
from glasspane.sourcemaps.bundles import BundleStore
from glasspane.sourcemaps.mapping import SourceMapper

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = "5"


def error_headers(request: Request, exc: GlasspaneError) -> dict[str, str]:
    """The headers that go with ``exc``'s answer: Retry-After, rate limits, X-Sentry-Error."""
    headers: dict[str, str] = {}
    if isinstance(exc, StoreError):
        headers["Retry-After"] = RETRY_AFTER_SECONDS
    if isinstance(exc, RateLimited):
        headers.update(rate_limit_headers(exc.retry_after, exc.categories))
    if exc.status_code >= 400 and is_ingest_path(request.url.path):
        headers["X-Sentry-Error"] = str(exc)[:200].encode("ascii", "replace").decode()
    if exc.status_code == 401:
        headers["WWW-Authenticate"] = "Bearer" if "/api/v1/" in request.url.path else "Sentry"
    if not isinstance(exc, LimitExceeded) and exc.status_code >= 500:
        log.warning("%s %s: %s", request.method, request.url.path, exc)
    return headers


async def _glasspane_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GlasspaneError)
    headers = error_headers(request, exc)
    return JSONResponse({"detail": str(exc)}, status_code=exc.status_code, headers=headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse(
        {"detail": str(exc.detail)}, exc.status_code, headers=getattr(exc, "headers", None)
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    detail = f"Internal error ({type(exc).__name__}); see the server log"
    return JSONResponse({"detail": detail}, status_code=500)


def create_ingest_app(
    target: IngestTarget, buckets: Buckets | None = None, sourcemaps: SourceMapper | None = None
) -> ASGIApp:
    """The ingest app writing to ``target``; ``buckets`` hold the rate limits and quotas;
    ``sourcemaps`` (else one of its own) map JavaScript frames for grouping."""
    config = target.config
    app = Starlette(
        routes=[*INGEST_ROUTES, *OTLP_ROUTES],
        middleware=[Middleware(CountAnswers)],
        exception_handlers={
            GlasspaneError: _glasspane_error,
            HTTPException: _http_error,
            Exception: _unexpected,
        },
    )
    app.state.instance = target
    app.state.policy = policy_for(config)
    app.state.rate_limiter = KeyRateLimiter(
        config.rate_limit, config.rate_limit_burst, buckets=buckets
    )
    app.state.sourcemaps = sourcemaps or SourceMapper(
        BundleStore(
            config.data_path / "sourcemaps",
            config.sourcemap_max_bundle_size,
            config.sourcemap_chunk_size,
        ),
        config.sourcemap_cache_size,
    )
    app.state.quotas = CategoryQuotas(parse_quotas(config.rate_limit_categories), buckets=buckets)
    return IngestCORS(app)
