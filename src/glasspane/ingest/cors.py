"""CORS for the ingest endpoints, on every answer and not only on preflight.

Browsers deliver SDK posts without a preflight, but unless the *answer* allows
the page's origin the SDK sees a failed fetch, counts every send as lost, and
Replay stops recording. The rate-limit headers must be exposed too, or the SDK
cannot read them cross-origin.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

EXPOSE = b"x-sentry-rate-limits, retry-after, x-sentry-error"
ALLOW_HEADERS = (
    b"content-type, content-encoding, x-sentry-auth, authorization, sentry-trace, baggage, "
    b"traceparent, tracestate"
)


#: Under /api/ but not ingest: the JSON API, and the part of Sentry's web API that
#: sentry-cli calls (source map uploads, /api/0/organizations/...).
API_PATHS = ("/api/v1/", "/api/0/")


def is_ingest_path(path: str) -> bool:
    if path.startswith("/v1/"):
        return True
    return path.startswith("/api/") and not path.startswith(API_PATHS)


class IngestCORS:
    """Pure ASGI middleware: cheap on the hot path, untouched for other paths."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_ingest_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        origin = b"*"
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value
                break
        cors = [
            (b"access-control-allow-origin", origin),
            (b"access-control-expose-headers", EXPOSE),
            (b"vary", b"Origin"),
        ]
        if scope["method"] == "OPTIONS":
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        *cors,
                        (b"access-control-allow-methods", b"POST, OPTIONS"),
                        (b"access-control-allow-headers", ALLOW_HEADERS),
                        (b"access-control-max-age", b"3600"),
                        (b"content-length", b"0"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *cors]
            await send(message)

        await self.app(scope, receive, send_with_cors)
