// A small express service for glasspane's end-to-end tests.
//
//   GET /upload  calls DOWNSTREAM_URL with the instrumented global fetch (so Sentry adds
//                sentry-trace + baggage and records an http.client span) and answers
//                {trace_id, span_id, downstream_status, downstream}.
//   GET /customers  fetches DOWNSTREAM_URL's /customers/<id> once per customer, one
//                after the other (an N+1 of API calls), and answers
//                {trace_id, span_id, names}.
//   GET /flush   waits until the SDK has delivered everything it buffered.
//
// Prints "listening" on stdout once it accepts connections on PORT.
import * as Sentry from "@sentry/node";
import express from "express";

const app = express();

app.get("/upload", async (_req, res) => {
  const span = Sentry.getActiveSpan();
  const segment = span ? Sentry.getRootSpan(span) : undefined;
  const context = segment ? segment.spanContext() : { traceId: null, spanId: null };
  const response = await fetch(process.env.DOWNSTREAM_URL);
  const downstream = await response.json();
  res.json({
    trace_id: context.traceId,
    span_id: context.spanId,
    downstream_status: response.status,
    downstream,
  });
});

app.get("/customers", async (_req, res) => {
  const span = Sentry.getActiveSpan();
  const segment = span ? Sentry.getRootSpan(span) : undefined;
  const context = segment ? segment.spanContext() : { traceId: null, spanId: null };
  const names = [];
  for (let id = 1; id <= Number(process.env.CUSTOMERS || 12); id++) {
    const response = await fetch(new URL(`/customers/${id}`, process.env.DOWNSTREAM_URL));
    names.push((await response.json()).name);
  }
  res.json({ trace_id: context.traceId, span_id: context.spanId, names });
});

app.get("/flush", async (_req, res) => {
  const flushed = await Sentry.flush(5000);
  res.status(flushed ? 200 : 504).json({ flushed });
});

Sentry.setupExpressErrorHandler(app);

const server = app.listen(Number(process.env.PORT), "127.0.0.1", () => {
  console.log("listening");
});

async function shutdown() {
  server.close();
  await Sentry.flush(5000);
  process.exit(0);
}

process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
