"""A service traced with the OpenTelemetry SDK, exporting OTLP/HTTP to glasspane.

Usage: otel_client.py ENDPOINT KEY SERVICE_NAME proto|json — prints the trace id.
"""

from __future__ import annotations

import sys

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

endpoint, key, service, encoding = sys.argv[1:5]
if encoding == "json":
    from opentelemetry.exporter.otlp.json.http.trace_exporter import OTLPSpanExporter
else:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

provider = TracerProvider(
    resource=Resource.create(
        {
            "service.name": service,
            "service.version": "2.1.0",
            "deployment.environment.name": "test",
        }
    )
)
provider.add_span_processor(
    SimpleSpanProcessor(
        OTLPSpanExporter(endpoint=endpoint, headers={"Authorization": f"Bearer {key}"})
    )
)
tracer = provider.get_tracer("glasspane-e2e")


def confirm(tx_hash: str) -> None:
    raise TimeoutError(f"Transaction {tx_hash} not confirmed after 30 seconds")


with tracer.start_as_current_span(
    "GET /register",
    kind=SpanKind.SERVER,
    attributes={"http.request.method": "GET", "url.path": "/register"},
) as root:
    with tracer.start_as_current_span(
        "SELECT cases", kind=SpanKind.CLIENT, attributes={"db.system": "sqlite", "db.rows": 3}
    ):
        pass
    with tracer.start_as_current_span("blockchain.wait") as wait:
        try:
            confirm("0x7a8b")
        except TimeoutError as exc:
            wait.record_exception(exc)
            wait.set_status(Status(StatusCode.ERROR, str(exc)))
    print(format(root.get_span_context().trace_id, "032x"), flush=True)
provider.shutdown()
