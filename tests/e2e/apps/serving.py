"""What every Flask test service shares: a ``/flush`` route that empties the
SDK's queue (so a test reads what was sent), and serving on ``$PORT``."""

from __future__ import annotations

import os

import sentry_sdk
from flask import Flask, jsonify


def serve(app: Flask) -> None:
    """Add ``/flush``, say "listening" (the test waits for it) and serve until killed."""
    from werkzeug.serving import make_server

    @app.get("/flush")
    def flush():  # type: ignore[no-untyped-def]
        sentry_sdk.flush(timeout=10)
        return jsonify(flushed=True)

    server = make_server("127.0.0.1", int(os.environ["PORT"]), app, threaded=True)
    print("listening", flush=True)
    server.serve_forever()
