"""Serving a demo service process: its control plane, sentry-sdk set up as the
service's own code would, and HTTP until SIGTERM.

The service's app answers on 127.0.0.1:PORT. Paths under ``/_demo/`` are the
demo's control plane — readiness, the demo state (fault, fix, traffic), the
service's extras — answered before the framework sees the request, so they
are never traced.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal

from glasspane.demo.services.runtime import ADMIN_PREFIX, RELEASE, config, set_state, state

# -- a service: its app and its extras ---------------------------------------------
SESSION_FLUSH_FLOOR = 5.0  # seconds: the sessions envelope at most this often

AdminHandler = Callable[[str, dict[str, Any]], dict[str, Any]]  # (method, body) -> JSON


@dataclass
class Service:
    app: Any = None  # a WSGI app (Flask), an ASGI app (Starlette), or None: control only
    kind: Literal["wsgi", "asgi"] = "wsgi"
    admin: dict[str, AdminHandler] = field(default_factory=dict)  # /_demo/<name>
    on_start: Callable[[], None] = lambda: None
    on_stop: Callable[[], None] = lambda: None


def admin_answer(
    service: Service, method: str, path: str, body: bytes
) -> tuple[int, dict[str, Any]]:
    """The control plane: ``ready``, ``state`` and the service's own extras."""
    name = path[len(ADMIN_PREFIX) :].strip("/")
    try:
        payload = json.loads(body) if body else {}
        if not isinstance(payload, dict):
            raise ValueError("the body must be a JSON object")
        if name == "ready":
            return 200, {"service": config().name, "pid": os.getpid()}
        if name == "state":
            return 200, set_state(payload) if method in ("PUT", "POST") else state()
        if name in service.admin:
            return 200, service.admin[name](method, payload)
    except ValueError as exc:
        return 400, {"detail": str(exc)}
    return 404, {"detail": f"no control endpoint {path}"}


def _wsgi(service: Service) -> Callable[..., Any]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith(ADMIN_PREFIX) or service.app is None:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            status, answer = admin_answer(service, environ["REQUEST_METHOD"], path, body)
            data = json.dumps(answer).encode()
            headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
            start_response(f"{status} {HTTPStatus(status).phrase}", headers)
            return [data]
        return service.app(environ, start_response)

    return app


def _asgi(service: Service) -> Callable[..., Any]:
    async def app(scope: dict[str, Any], receive: Callable[..., Any], send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(ADMIN_PREFIX):
            await service.app(scope, receive, send)
            return
        body = b""
        for _ in range(10_000):  # bounded: an admin body is small
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        status, answer = admin_answer(service, scope["method"], scope["path"], body)
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": json.dumps(answer).encode()})

    return app


# -- sentry-sdk, as each service's own code would set it up -----------------------
def init_sentry(framework: str) -> None:
    import sentry_sdk

    integrations: list[Any] = []
    if framework == "flask":
        from sentry_sdk.integrations.flask import FlaskIntegration

        integrations = [FlaskIntegration(transaction_style="endpoint")]
    elif framework == "starlette":
        from sentry_sdk.integrations.httpx import HttpxIntegration
        from sentry_sdk.integrations.starlette import StarletteIntegration

        integrations = [StarletteIntegration(transaction_style="url"), HttpxIntegration()]
    cfg = config()
    sentry_sdk.init(
        dsn=cfg.dsn,
        traces_sample_rate=cfg.sample_rate,  # the scenario's tracesSampleRate: 0.1
        # One sampled transaction in five is profiled too: the profile pages' flame graphs.
        profiles_sample_rate=0.2,
        integrations=integrations,
        auto_enabling_integrations=False,  # exactly the integrations this service uses
        environment="demo",
        release=f"{cfg.name}@{RELEASE}",
        server_name=cfg.name,
        in_app_include=["glasspane.demo"],
        enable_logs=True,  # sentry_sdk.logger lines go out as `log` items
        # Metrics (sentry_sdk.metrics, sent as `trace_metric` items) are on by default, and so
        # is release health: Flask and Starlette count each request as a session.
    )
    _session_flush_in_demo_time(cfg.speed)


def _session_flush_in_demo_time(speed: float) -> None:
    """The SDK sends the sessions it counted once a minute; in demo time, every 60/speed s.

    The interval is an attribute of the SDK's session flusher, not an option of ``init``;
    without this, release health would lag the demo's compressed time by a whole minute.
    """
    import sentry_sdk

    flusher = getattr(sentry_sdk.get_client(), "session_flusher", None)
    if flusher is not None:
        flusher.flush_interval = max(60.0 / speed, SESSION_FLUSH_FLOOR)


# -- serving until SIGTERM -------------------------------------------------------------
def serve(service: Service) -> None:
    """Serve on 127.0.0.1:PORT until SIGTERM or SIGINT, then flush the SDK and return."""
    import sentry_sdk

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if service.kind == "asgi":
        _serve_asgi(service, stop)
    else:
        _serve_wsgi(service, stop)
    service.on_stop()
    sentry_sdk.flush(timeout=5)


def wsgi_server(port: int, app: Any) -> Any:
    """A threaded werkzeug server speaking HTTP/1.1, so clients keep connections open.

    Its open connections are in ``server.connections``, so :func:`sever` can cut
    them (closing the listening socket alone leaves kept-alive ones answering).
    """
    from werkzeug.serving import WSGIRequestHandler, make_server

    class KeepAlive(WSGIRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            self.server.connections.add(self.connection)  # type: ignore[attr-defined]

        def finish(self) -> None:
            self.server.connections.discard(self.connection)  # type: ignore[attr-defined]
            super().finish()

    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=KeepAlive)
    server.connections = set()  # type: ignore[attr-defined]
    return server


def sever(server: Any) -> None:
    """Stop listening and cut every open connection: clients see the endpoint go down."""
    import socket

    server.shutdown()
    server.server_close()
    for connection in list(server.connections):
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_RDWR)


def _serve_wsgi(service: Service, stop: threading.Event) -> None:
    server = wsgi_server(config().port, _wsgi(service))
    thread = threading.Thread(target=server.serve_forever, name="http", daemon=True)
    thread.start()
    service.on_start()
    print(f"{config().name} listening on 127.0.0.1:{config().port}", flush=True)
    while not stop.wait(1.0):
        pass
    server.shutdown()


def _serve_asgi(service: Service, stop: threading.Event) -> None:
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(
            _asgi(service),
            host="127.0.0.1",
            port=config().port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
    )
    service.on_start()
    print(f"{config().name} listening on 127.0.0.1:{config().port}", flush=True)
    server.run()  # returns on SIGTERM/SIGINT (uvicorn's own handlers)


def configure_logging() -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.WARNING,
        format=f"%(asctime)s {config().name} %(levelname)s %(name)s: %(message)s",
    )
    # Werkzeug logs every request at INFO (and would set itself to INFO if left unset).
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
