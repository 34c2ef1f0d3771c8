"""The ASGI application, and the one place errors become HTTP answers."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from glasspane import __version__, server_status
from glasspane.errors import GlasspaneError
from glasspane.ingest.app import create_ingest_app, error_headers
from glasspane.ingest.cors import is_ingest_path
from glasspane.instance import Instance
from glasspane.web import ui
from glasspane.web.accounts_api import router as accounts_router
from glasspane.web.alerts_api import router as alerts_router
from glasspane.web.api import router as api_router
from glasspane.web.health_api import router as health_router
from glasspane.web.issues_api import router as issues_router
from glasspane.web.replay_api import router as replay_router
from glasspane.web.security import SecurityHeaders
from glasspane.web.sourcemaps_api import listing as sourcemaps_listing
from glasspane.web.sourcemaps_api import project_router as sourcemaps_project_router
from glasspane.web.sourcemaps_api import router as sourcemaps_router
from glasspane.web.status_api import router as status_router
from glasspane.web.telemetry_api import router as telemetry_router

log = logging.getLogger(__name__)


def _error(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def _answer(
    request: Request, status: int, detail: str, headers: dict[str, str] | None = None
) -> Response:
    """The error as JSON, or as an HTML page for a request of the web UI."""
    if ui.is_page(request):
        return ui.error_page(request, status, detail)
    return _error(status, detail, headers)


async def _glasspane_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GlasspaneError)
    return _answer(request, exc.status_code, str(exc), error_headers(request, exc))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
    return _answer(request, 400, "Invalid request: " + "; ".join(parts))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return _answer(request, exc.status_code, str(exc.detail), getattr(exc, "headers", None))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return _answer(request, 500, f"Internal error ({type(exc).__name__}); see the server log")


class Dispatch:
    """Ingest paths go to the lean ingest app; everything else to the API app."""

    def __init__(self, ingest: ASGIApp, api: FastAPI) -> None:
        self.ingest = ingest
        self.api = api
        self.state = api.state
        self._secured_api = SecurityHeaders(api)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_ingest_path(scope["path"]):
            await self.ingest(scope, receive, send)
        else:
            await self._secured_api(scope, receive, send)


def create_app(instance: Instance) -> Dispatch:
    """Ingest and API in this process (ingest writes straight to the store)."""
    ingest = create_ingest_app(instance, sourcemaps=instance.sourcemaps)
    return Dispatch(ingest, create_api_app(instance))


def create_api_app(instance: Instance) -> FastAPI:
    app = FastAPI(
        title="glasspane",
        version=__version__,
        description="Tracing, performance monitoring and error tracking for Sentry SDKs "
        "and OpenTelemetry.",
    )
    app.state.instance = instance
    server_status.start_sampling()  # so the first /api/v1/status already has a rate
    app.include_router(api_router)
    app.include_router(issues_router)
    app.include_router(replay_router)
    app.include_router(health_router)
    app.include_router(telemetry_router)
    app.include_router(alerts_router)
    app.include_router(status_router)
    app.include_router(accounts_router)
    app.include_router(sourcemaps_router)
    app.include_router(sourcemaps_project_router)
    app.include_router(sourcemaps_listing)
    app.include_router(ui.router)
    app.mount("/static", StaticFiles(directory=ui.STATIC), name="static")
    app.add_middleware(ui.ScopeMiddleware, is_page_path=ui.is_page_path)
    app.add_exception_handler(ui.Redirect, ui.redirect_response)
    app.add_exception_handler(GlasspaneError, _glasspane_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        """Liveness: the process answers (the store may still be unreachable)."""
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> dict[str, str]:
        """Readiness, for a load balancer: the store answers too (else 503)."""
        instance.store.list_projects()
        return {"status": "ready", "version": __version__}

    return app
