"""An HTTP service traced with the OpenTelemetry SDK (no Sentry SDK at all).

It continues the caller's trace from the W3C ``traceparent`` header and exports
its spans to glasspane over OTLP/HTTP (protobuf). Environment: PORT, OTLP_ENDPOINT,
OTLP_KEY (the project's public key), SERVICE_NAME.
"""

from __future__ import annotations

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

provider = TracerProvider(resource=Resource.create({"service.name": os.environ["SERVICE_NAME"]}))
provider.add_span_processor(
    SimpleSpanProcessor(
        OTLPSpanExporter(
            endpoint=os.environ["OTLP_ENDPOINT"],
            headers={"Authorization": f"Bearer {os.environ['OTLP_KEY']}"},
        )
    )
)
tracer = provider.get_tracer("data-service")
propagator = TraceContextTextMapPropagator()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        context = propagator.extract(dict(self.headers.items()))
        with tracer.start_as_current_span(
            "GET /extract",
            context=context,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": "GET", "url.path": self.path},
        ):
            with tracer.start_as_current_span("ai.extract", attributes={"fields": 7}):
                pass
            body = json.dumps({"processed": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
    print("listening", flush=True)
    try:
        server.serve_forever()
    finally:
        provider.shutdown()
