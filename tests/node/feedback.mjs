// User feedback from @sentry/node, run by tests/ui/test_health_browser.py:
//
//   node feedback.mjs   (SENTRY_DSN in the environment)
//
// In an "uploadDocument" span, captures the upload's error, then the user's feedback
// about it (Sentry.captureFeedback with associatedEventId); flushes and prints the
// trace id, the error's and the feedback's event ids.
import * as Sentry from "@sentry/node";

Sentry.init({
  dsn: process.env.SENTRY_DSN,
  tracesSampleRate: 1.0,
  environment: "e2e",
  release: "node-feedback@1.0.0",
});

let ids = {};
await Sentry.startSpan({ name: "uploadDocument", op: "function" }, async (span) => {
  const error_id = Sentry.captureException(new Error("Upload failed: blockchain timeout"));
  const feedback_id = Sentry.captureFeedback({
    message: "My upload failed twice",
    name: "Ana Souza",
    email: "ana@example.org",
    url: "https://app.example.org/upload",
    associatedEventId: error_id,
  });
  ids = { trace_id: span.spanContext().traceId, error_id, feedback_id };
});
const flushed = await Sentry.flush(10000);
console.log(JSON.stringify({ ...ids, flushed }));
