"""What every demo service process shares: its configuration, sentry-sdk set up
as a user would, demo time, the demo state, and serving HTTP until told to stop.

A service process is started as ``python -m glasspane.demo.services NAME`` (via
``glasspane.demo.guard``) with its configuration as JSON in
``GLASSPANE_DEMO_SERVICE``. It serves its app on 127.0.0.1:PORT. Paths under
``/_demo/`` are the demo's control plane — readiness, the demo state (current
fault and fix), per-service extras — and are answered before the framework
sees the request, so they are never traced.

Demo time: every simulated duration is written in the scenario's seconds and
divided by ``--speed`` here (:func:`seconds`, :func:`sleep`, :func:`work`).
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal

ENV = "GLASSPANE_DEMO_SERVICE"
ADMIN_PREFIX = "/_demo/"
RELEASE = "2025.11.0"

log = logging.getLogger("glasspane.demo")


@dataclass(frozen=True)
class ServiceConfig:
    name: str
    port: int
    dsn: str
    speed: float = 1.0
    sample_rate: float = 0.1
    urls: dict[str, str] = field(default_factory=dict)  # service name -> base URL
    rpc: dict[str, str] = field(default_factory=dict)  # RPC endpoint name -> URL
    workdir: str = "."
    seed: int = 0
    rate_per_min: float = 120.0  # the browser's uploads per (real) minute
    users: int = 48

    def to_env(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_env(cls) -> ServiceConfig:
        raw = os.environ.get(ENV)
        if not raw:
            raise SystemExit(f"{ENV} is not set: demo services are started by `glasspane demo`")
        return cls(**json.loads(raw))


_config: ServiceConfig | None = None


def config() -> ServiceConfig:
    global _config
    if _config is None:
        _config = ServiceConfig.from_env()
    return _config


# -- demo time -------------------------------------------------------------------
def seconds(demo_seconds: float, floor: float = 0.0) -> float:
    """Wall-clock seconds for a duration of the scenario, at least ``floor``."""
    return max(demo_seconds / config().speed, floor)


def sleep(demo_seconds: float) -> None:
    threading.Event().wait(seconds(demo_seconds))


def sample(median: float, sigma: float = 0.35, rng: random.Random | None = None) -> float:
    """A lognormal duration in demo seconds around ``median`` (service times are skewed)."""
    return median * math.exp((rng or random).gauss(0.0, sigma))


def work(median: float, sigma: float = 0.35) -> float:
    """Spend a simulated amount of time (demo seconds); the amount spent."""
    spent = sample(median, sigma)
    sleep(spent)
    return spent


def url(service: str) -> str:
    return config().urls[service]


def http_timeout() -> float:
    """How long one service waits for another: longer than any flow, never below 10 s."""
    return seconds(300.0, floor=10.0)


# -- the demo state: fault, fix and traffic on/off, pushed by the orchestrator ----
_state: dict[str, Any] = {"fault": "none", "fix": "none", "traffic": "off"}
STATE_KEYS = ("fault", "fix", "traffic")
_state_lock = threading.Lock()
_state_listeners: list[Callable[[dict[str, Any]], None]] = []


def state() -> dict[str, Any]:
    with _state_lock:
        return dict(_state)


def on_state_change(listener: Callable[[dict[str, Any]], None]) -> None:
    _state_listeners.append(listener)


def _set_state(update: dict[str, Any]) -> dict[str, Any]:
    with _state_lock:
        _state.update({k: v for k, v in update.items() if k in STATE_KEYS})
        current = dict(_state)
    for listener in _state_listeners:
        listener(current)
    return current


# -- a service: its app and its extras ---------------------------------------------
AdminHandler = Callable[[str, dict[str, Any]], dict[str, Any]]  # (method, body) -> JSON


@dataclass
class Service:
    app: Any = None  # a WSGI app (Flask), an ASGI app (Starlette), or None
    kind: Literal["wsgi", "asgi", "none"] = "wsgi"
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
            return 200, _set_state(payload) if method in ("PUT", "POST") else state()
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
            start_response(
                f"{status} {HTTPStatus(status).phrase}", [("Content-Type", "application/json")]
            )
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
        integrations=integrations,
        auto_enabling_integrations=False,  # exactly the integrations this service uses
        environment="demo",
        release=f"{cfg.name}@{RELEASE}",
        server_name=cfg.name,
        in_app_include=["glasspane.demo"],
    )


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


def _serve_wsgi(service: Service, stop: threading.Event) -> None:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", config().port, _wsgi(service), threaded=True)
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
