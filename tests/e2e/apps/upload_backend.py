"""The browser page's backend: Flask with the real sentry-sdk, answering CORS.

``GET /upload?fail=1`` fails the way the scenario's blockchain step does (a 504
after an error event); the page's fetch carries ``sentry-trace`` and ``baggage``,
so this transaction continues the browser's trace. Configured by environment:
SENTRY_DSN, PORT.
"""

from __future__ import annotations

import os

import sentry_sdk
from flask import Flask, Response, jsonify, request
from sentry_sdk.integrations.flask import FlaskIntegration

sentry_sdk.init(
    dsn=os.environ["SENTRY_DSN"],
    traces_sample_rate=1.0,
    integrations=[FlaskIntegration(transaction_style="url")],
    release="upload-backend@1.0.0",
    environment="e2e",
)

app = Flask(__name__)


@app.after_request
def cors(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = request.headers.get("Origin", "*")
    response.headers["Access-Control-Allow-Headers"] = "sentry-trace, baggage, content-type"
    response.headers["Access-Control-Allow-Methods"] = "GET, OPTIONS"
    return response


@app.route("/upload", methods=["GET", "OPTIONS"])
def upload() -> Response | tuple[Response, int]:
    if request.method == "OPTIONS":
        return Response(status=204)
    span = sentry_sdk.get_current_span()
    trace_id = span.trace_id if span else None
    if request.args.get("fail") == "1":
        with sentry_sdk.start_span(op="blockchain.wait", name="Wait for confirmation") as child:
            child.set_status("deadline_exceeded")
            sentry_sdk.capture_message("Blockchain confirmation timeout", level="error")
        return jsonify(ok=False, trace_id=trace_id), 504
    return jsonify(ok=True, trace_id=trace_id)


if __name__ == "__main__":
    from serving import serve

    serve(app)
