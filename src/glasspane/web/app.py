"""The ASGI application, and the one place errors become HTTP answers."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from glasspane import __version__
from glasspane.errors import GlasspaneError, LimitExceeded, StoreError
from glasspane.ingest.cors import IngestCORS, is_ingest_path
from glasspane.ingest.otlp import ROUTES as OTLP_ROUTES
from glasspane.ingest.routes import ROUTES as INGEST_ROUTES
from glasspane.instance import Instance
from glasspane.web.api import router as api_router
from glasspane.web.issues_api import router as issues_router

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = "5"


def _error(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


async def _glasspane_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GlasspaneError)
    headers: dict[str, str] = {}
    if isinstance(exc, StoreError):
        headers["Retry-After"] = RETRY_AFTER_SECONDS
    if exc.status_code >= 400 and is_ingest_path(request.url.path):
        headers["X-Sentry-Error"] = str(exc)[:200].encode("ascii", "replace").decode()
    if exc.status_code == 401:
        headers["WWW-Authenticate"] = "Bearer" if "/api/v1/" in request.url.path else "Sentry"
    if not isinstance(exc, LimitExceeded) and exc.status_code >= 500:
        log.warning("%s %s: %s", request.method, request.url.path, exc)
    return _error(exc.status_code, str(exc), headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
    return _error(400, "Invalid request: " + "; ".join(parts))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return _error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return _error(500, f"Internal error ({type(exc).__name__}); see the server log")


LANDING = """<!doctype html><html><head><meta charset="utf-8"><title>glasspane</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40em; margin: 3em auto">
<h1>glasspane</h1><p>The server is running. Point a Sentry SDK at a project's DSN
(<code>glasspane projects list</code>), then look at a trace with
<code>glasspane trace TRACE_ID</code> or <code>GET /api/v1/traces/TRACE_ID</code>.
The API is described at <a href="/docs">/docs</a>.</p></body></html>"""


class Dispatch:
    """Ingest paths go to the lean ingest app; everything else to the API app."""

    def __init__(self, ingest: ASGIApp, api: FastAPI) -> None:
        self.ingest = ingest
        self.api = api
        self.state = api.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_ingest_path(scope["path"]):
            await self.ingest(scope, receive, send)
        else:
            await self.api(scope, receive, send)


def create_ingest_app(instance: Instance) -> ASGIApp:
    app = Starlette(
        routes=[*INGEST_ROUTES, *OTLP_ROUTES],
        exception_handlers={
            GlasspaneError: _glasspane_error,
            HTTPException: _http_error,
            Exception: _unexpected,
        },
    )
    app.state.instance = instance
    return IngestCORS(app)


def create_app(instance: Instance) -> Dispatch:
    return Dispatch(create_ingest_app(instance), create_api_app(instance))


def create_api_app(instance: Instance) -> FastAPI:
    app = FastAPI(
        title="glasspane",
        version=__version__,
        description="Tracing, performance monitoring and error tracking for Sentry SDKs "
        "and OpenTelemetry.",
    )
    app.state.instance = instance
    app.include_router(api_router)
    app.include_router(issues_router)
    app.add_exception_handler(GlasspaneError, _glasspane_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/", include_in_schema=False)
    def landing() -> HTMLResponse:
        return HTMLResponse(LANDING)

    return app
