"""A Flask service that raises real exceptions, reported by the real sentry-sdk.

Each route is one grouping situation: the same bug from several loop
iterations and lines of one function, the same exception type from another
call site, an unhandled error, a chained error, a custom fingerprint, and a
message with variable parts. Configured by SENTRY_DSN and PORT.
"""

from __future__ import annotations

import os

import sentry_sdk
from flask import Flask, jsonify, request
from sentry_sdk.integrations.flask import FlaskIntegration

sentry_sdk.init(
    dsn=os.environ["SENTRY_DSN"],
    traces_sample_rate=1.0,
    integrations=[FlaskIntegration()],
    release="errors@1.0.0",
    environment="test",
)

app = Flask(__name__)


class PaymentDeclined(Exception):
    pass


class PaymentTimeout(Exception):
    pass


def parse_amount(text: str) -> int:
    if not text:
        raise ValueError("empty amount")  # one line of the bug ...
    return int(text)  # ... and another: int("x") raises ValueError here


def parse_header(value: str) -> tuple[str, str]:
    name, _, rest = value.partition(":")
    if not rest:
        raise ValueError(f"header {value!r} has no colon")
    return name, rest


def lookup_user(users: dict[str, str], name: str) -> str:
    return users[name]


def submit_transaction(tx_hash: str) -> None:
    try:
        raise TimeoutError(f"rpc node did not answer for {tx_hash}")
    except TimeoutError as exc:
        raise RuntimeError("could not submit the transaction") from exc


@app.get("/amounts")
def amounts():
    """Every bad amount is one event; all of them are one issue."""
    sentry_sdk.set_user({"id": request.args.get("user", "u-1")})
    bad = 0
    for text in request.args.get("values", "").split(","):
        try:
            parse_amount(text)
        except ValueError as exc:
            sentry_sdk.capture_exception(exc)
            bad += 1
    return jsonify(bad=bad)


@app.get("/header")
def header():
    try:
        parse_header(request.args.get("value", "broken"))
    except ValueError as exc:
        sentry_sdk.capture_exception(exc)
    return jsonify(ok=False)


@app.get("/user")
def user():
    """Unhandled: the Flask integration reports it, the client gets a 500."""
    sentry_sdk.set_user({"email": request.args.get("email", "demo@test.com")})
    sentry_sdk.set_context("blockchain", {"network": "base-sepolia", "gasLimit": 500000})
    sentry_sdk.add_breadcrumb(category="auth", message="looking up the user")
    return jsonify(name=lookup_user({"alice": "Alice"}, request.args.get("name", "bob")))


@app.get("/chained")
def chained():
    submit_transaction("0x7a8b9c0d1e2f")
    return jsonify(ok=True)


@app.get("/payment")
def payment():
    """Two exception types, one custom fingerprint: one issue."""
    kind = PaymentTimeout if request.args.get("kind") == "timeout" else PaymentDeclined
    with sentry_sdk.new_scope() as scope:
        scope.fingerprint = ["payment-failure"]
        try:
            raise kind("payment failed")
        except Exception as exc:
            sentry_sdk.capture_exception(exc)
    return jsonify(ok=False)


@app.get("/disk")
def disk():
    used = request.args.get("used", "93")
    sentry_sdk.capture_message(f"disk almost full on /dev/sda1 at {used}%", level="warning")
    return jsonify(ok=True)


if __name__ == "__main__":
    from serving import serve

    serve(app)
