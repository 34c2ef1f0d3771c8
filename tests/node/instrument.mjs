// Loaded with `node --import ./instrument.mjs service.mjs`, the way @sentry/node v11
// documents for ESM: Sentry must be initialised before express (or http) is imported so
// that its OpenTelemetry instrumentation can patch them.
import * as Sentry from "@sentry/node";

Sentry.init({
  dsn: process.env.SENTRY_DSN,
  tracesSampleRate: 1.0,
  environment: "e2e",
  release: "node-frontend@1.0.0",
  // W3C traceparent beside sentry-trace, so OpenTelemetry services continue the trace.
  propagateTraceparent: process.env.PROPAGATE_TRACEPARENT === "1",
  // Spans go out in v2 batches by default (traceLifecycle "stream"); left as the default
  // on purpose: this is what real v11 users send.
});
