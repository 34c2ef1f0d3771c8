"""A Flask service writing logs and metrics with the real sentry-sdk (``enable_logs``).

Configured by environment: SENTRY_DSN, PORT. ``GET /cases?tier=gold&ms=120``
creates a case inside the request's transaction: in an ``insert case`` span it
logs ``Case <id> created`` (info) and ``Case creation took <ms> ms`` (warning)
with ``sentry_sdk.logger``, counts ``cases.created`` and records ``ms`` in the
``case.creation.duration`` distribution, both tagged with the tier. It answers
the trace id and the span id. ``GET /flush`` sends everything buffered.
"""

from __future__ import annotations

import os

import sentry_sdk
from flask import Flask, jsonify, request
from sentry_sdk.integrations.flask import FlaskIntegration

sentry_sdk.init(
    dsn=os.environ["SENTRY_DSN"],
    traces_sample_rate=1.0,
    enable_logs=True,
    integrations=[FlaskIntegration()],
    release="cases@1.0.0",
    environment="test",
)

app = Flask(__name__)
counter = iter(range(1, 1_000_000))


@app.get("/cases")
def create_case():
    tier = request.args.get("tier", "free")
    ms = float(request.args.get("ms", "100"))
    case_id = f"AAA-2025-{next(counter):04d}"
    with sentry_sdk.start_span(op="db", name="insert case") as span:
        sentry_sdk.logger.info("Case {case_id} created", case_id=case_id, attributes={"tier": tier})
        sentry_sdk.logger.warning("Case creation took {ms} ms", ms=ms, attributes={"tier": tier})
        sentry_sdk.metrics.count("cases.created", 1, attributes={"tier": tier})
        sentry_sdk.metrics.distribution(
            "case.creation.duration", ms, unit="millisecond", attributes={"tier": tier}
        )
    return jsonify(trace_id=span.trace_id, span_id=span.span_id, case_id=case_id)


if __name__ == "__main__":
    from serving import serve

    serve(app)
