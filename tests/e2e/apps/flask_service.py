"""A small Flask service instrumented with the real sentry-sdk, as a user would.

Configured by environment: SENTRY_DSN, PORT, and DOWNSTREAM_URL (optional: the
service ``/upload`` calls ``DOWNSTREAM_URL/process`` over HTTP, and the SDK
propagates the trace by itself).
"""

from __future__ import annotations

import os

import requests
import sentry_sdk
from flask import Flask, jsonify, request
from sentry_sdk.integrations.flask import FlaskIntegration

sentry_sdk.init(
    dsn=os.environ["SENTRY_DSN"],
    traces_sample_rate=float(os.environ.get("TRACES_SAMPLE_RATE", "1.0")),
    integrations=[FlaskIntegration()],
    release="e2e@1.0.0",
    environment="test",
)

app = Flask(__name__)


class TransactionTimeoutError(Exception):
    pass


def wait_for_confirmation(tx_hash: str) -> None:
    raise TransactionTimeoutError(f"Transaction {tx_hash} not confirmed after 30 seconds")


@app.get("/upload")
def upload():
    sentry_sdk.set_user({"email": request.args.get("email", "demo@test.com"), "id": "u-1"})
    with sentry_sdk.start_span(op="file.read", name="Read PDF") as span:
        span.set_data("file_size", 1234)
    fail = request.args.get("fail", "0")
    answer = requests.post(f"{os.environ['DOWNSTREAM_URL']}/process?fail={fail}", timeout=10)
    scope_span = sentry_sdk.get_current_span()
    return jsonify(
        trace_id=scope_span.trace_id if scope_span else None,
        downstream=answer.json(),
    )


@app.post("/process")
def process():
    if request.args.get("email"):
        user = {"email": request.args["email"]}
        if request.args.get("country"):
            user["geo"] = {"country_code": request.args["country"]}
        sentry_sdk.set_user(user)
    with sentry_sdk.start_span(op="blockchain.prepare", name="Prepare transaction data"):
        pass
    if request.args.get("fail") == "1":
        with sentry_sdk.start_span(op="blockchain.wait", name="Wait for confirmation") as span:
            sentry_sdk.set_context(
                "blockchain",
                {
                    "network": "base-sepolia",
                    "contractAddress": "0x742d35Cc6634C0532925a3b844Bc9e7595f0bEb5",
                    "gasLimit": 500000,
                    "caseId": "AAA-2025-0142",
                },
            )
            try:
                wait_for_confirmation("0x7a8b9c0d1e2f")
            except TransactionTimeoutError as exc:
                span.set_status("deadline_exceeded")
                sentry_sdk.capture_exception(exc)
                return jsonify(ok=False, span_id=span.span_id), 504
    return jsonify(ok=True)


if __name__ == "__main__":
    from serving import serve

    serve(app)
