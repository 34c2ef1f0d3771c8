"""Counting ingest answers by endpoint and status class, for ``/metrics``.

A middleware rather than a call in each route: errors become answers in
``web.app``'s handlers, outside the routes, and the status sent is the one
that counts. It runs inside the ingest app's error handlers, except the last
one (an unexpected exception becomes a 500 outside it), so that one is counted
as it passes. Preflights are answered by ``IngestCORS`` and are not counted.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from glasspane import server_metrics


def endpoint_of(path: str) -> str:
    """``envelope``, ``store`` or ``otlp``, by the request's path."""
    if path.startswith("/api/") and "/integration/otlp/" not in path:
        return "store" if "/store" in path else "envelope"
    return "otlp"


class CountAnswers:
    """Pure ASGI middleware around the ingest app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        endpoint = endpoint_of(scope["path"])

        started = False

        async def counted(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                server_metrics.count_request(endpoint, message["status"])
            await send(message)

        try:
            await self.app(scope, receive, counted)
        except Exception:
            if not started:  # answered with a 500 by the outermost handler
                server_metrics.count_request(endpoint, 500)
            raise
