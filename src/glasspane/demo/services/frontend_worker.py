"""frontend-worker: the Cloudflare Worker in front of the platform ("React App
(CF Worker - Frontend)"): serves the app and forwards ``/api/*`` to
trust-platform. Starlette with the Starlette and httpx integrations — the
demo's one ASGI service — so the trace crosses an async hop too.

When the demo could build the browser app (``glasspane.demo.webapp``), the
upload page is at ``/documents`` and its bundle at ``/app.js``.
"""

from __future__ import annotations

import httpx
import sentry_sdk
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from glasspane.demo.services import runtime, serving

FORWARDED = ("content-type", "authorization", "user-agent", "accept-language")
_client: httpx.AsyncClient | None = None


def client() -> httpx.AsyncClient:
    global _client
    if _client is None:  # created in the server's event loop, on first use
        _client = httpx.AsyncClient(timeout=runtime.http_timeout())
    return _client


async def upload(request: Request) -> Response:
    sentry_sdk.get_current_scope().set_transaction_name(
        "POST /api/documents/upload", source="route"
    )
    headers = {k: request.headers[k] for k in FORWARDED if k in request.headers}
    answer = await client().post(
        runtime.url("trust-platform") + "/api/documents/upload",
        content=await request.body(),
        headers=headers,
    )
    return Response(answer.content, answer.status_code, media_type="application/json")


async def index(request: Request) -> Response:
    return HTMLResponse("<!doctype html><title>Integra</title><div id=root></div>")


def app_routes(app_dir: str) -> list[BaseRoute]:
    """The browser app's page and bundle, when it was built."""
    if not app_dir:
        return []
    page, bundle = f"{app_dir}/index.html", f"{app_dir}/app.js"

    async def documents(request: Request) -> Response:
        return FileResponse(page, media_type="text/html")

    async def script(request: Request) -> Response:
        return FileResponse(bundle, media_type="text/javascript")

    return [Route("/documents", documents), Route("/app.js", script)]


def build() -> serving.Service:
    app = Starlette(
        routes=[
            Route("/", index),
            Route("/api/documents/upload", upload, methods=["POST"]),
            *app_routes(runtime.config().app_dir),
        ]
    )
    return serving.Service(app=app, kind="asgi")
