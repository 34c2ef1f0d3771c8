"""A service logging and measuring with the OpenTelemetry SDK, exporting OTLP/HTTP.

Usage: otel_telemetry.py BASE_URL PROJECT_ID KEY SERVICE_NAME proto|json

Spans go to ``/v1/traces``, logs to ``/v1/logs`` and metrics to
``/api/PROJECT_ID/integration/otlp/v1/metrics``, all with ``Authorization:
Bearer KEY``. Python's ``logging`` feeds the OTel log pipeline; one warning is
written inside a span. Metrics (cumulative, the SDK's default temporality):

* counter ``cases.created``: +1 gold, +1 gold, +1 free, exported, then +1 gold
  (exported again on shutdown): 4 in all;
* histogram ``case.creation.duration`` (ms): 120 and 80 (gold), 200 (free);
* up-down counter ``queue.depth``: +5, -2 (a level of 3).

Prints the trace id and the span id of the span the warning was written in.
"""

from __future__ import annotations

import logging
import sys
import warnings

from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

base, project_id, key, service, encoding = sys.argv[1:6]
if encoding == "json":
    from opentelemetry.exporter.otlp.json.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.json.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.json.http.trace_exporter import OTLPSpanExporter
else:
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

headers = {"Authorization": f"Bearer {key}"}
resource = Resource.create(
    {"service.name": service, "service.version": "3.0.0", "deployment.environment.name": "e2e"}
)

tracer_provider = TracerProvider(resource=resource)
tracer_provider.add_span_processor(
    SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces", headers=headers))
)
logger_provider = LoggerProvider(resource=resource)
logger_provider.add_log_record_processor(
    SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{base}/v1/logs", headers=headers))
)
reader = PeriodicExportingMetricReader(
    OTLPMetricExporter(
        endpoint=f"{base}/api/{project_id}/integration/otlp/v1/metrics", headers=headers
    ),
    export_interval_millis=3_600_000,  # exported by force_flush and shutdown only
)
meter_provider = MeterProvider(resource=resource, metric_readers=[reader])

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # the handler moves packages in 1.4x
    handler = LoggingHandler(level=logging.INFO, logger_provider=logger_provider)
log = logging.getLogger("cases")
log.setLevel(logging.INFO)
log.addHandler(handler)

meter = meter_provider.get_meter("cases")
created = meter.create_counter("cases.created", unit="{case}")
duration = meter.create_histogram("case.creation.duration", unit="ms")
depth = meter.create_up_down_counter("queue.depth")

tracer = tracer_provider.get_tracer("cases")
with tracer.start_as_current_span("POST /cases") as root:
    with tracer.start_as_current_span("insert case") as insert:
        log.warning("Case %s created slowly", "AAA-1", extra={"case.tier": "gold"})
        for ms, tier in ((120, "gold"), (80, "gold"), (200, "free")):
            created.add(1, {"tier": tier})
            duration.record(ms, {"tier": tier})
    depth.add(5)
    depth.add(-2)
    context = insert.get_span_context()
log.info("outside any span")

meter_provider.force_flush()
created.add(1, {"tier": "gold"})
meter_provider.force_flush()
print(format(context.trace_id, "032x"), format(context.span_id, "016x"), flush=True)
meter_provider.shutdown()
logger_provider.shutdown()
tracer_provider.shutdown()
