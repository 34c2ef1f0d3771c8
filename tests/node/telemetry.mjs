// Logs and metrics from @sentry/node, run once by tests/e2e/test_logs_metrics.py:
//
//   node telemetry.mjs   (SENTRY_DSN in the environment)
//
// In a "createCase" span with an "insert case" child, logs "Case AAA-1 created" (info)
// and "slow insert" (warn) with Sentry.logger, counts cases.created twice (tier silver)
// and records 50 and 150 ms in case.creation.duration; then flushes and prints the trace
// id and the child span's id.
import * as Sentry from "@sentry/node";

Sentry.init({
  dsn: process.env.SENTRY_DSN,
  tracesSampleRate: 1.0,
  enableLogs: true,
  environment: "e2e",
  release: "node-telemetry@1.0.0",
});

let ids = {};
await Sentry.startSpan({ name: "createCase", op: "function" }, async () => {
  await Sentry.startSpan({ name: "insert case", op: "db" }, async (span) => {
    const context = span.spanContext();
    ids = { trace_id: context.traceId, span_id: context.spanId };
    Sentry.logger.info(Sentry.logger.fmt`Case ${"AAA-1"} created`, { tier: "silver" });
    Sentry.logger.warn("slow insert", { tier: "silver" });
    for (const ms of [50, 150]) {
      Sentry.metrics.count("cases.created", 1, { attributes: { tier: "silver" } });
      Sentry.metrics.distribution("case.creation.duration", ms, {
        unit: "millisecond",
        attributes: { tier: "silver" },
      });
    }
  });
});
const flushed = await Sentry.flush(10000);
console.log(JSON.stringify({ ...ids, flushed }));
