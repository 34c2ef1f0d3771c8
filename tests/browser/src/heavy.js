// A heavy page, instrumented as a user would with @sentry/browser's browser
// tracing: the page (heavy.html) loads a large script its server sends
// uncompressed, a compressed stylesheet, and fetches a large report. The test
// passes the DSN in the query string.
import * as Sentry from "@sentry/browser";

const params = new URLSearchParams(window.location.search);

Sentry.init({
  dsn: params.get("dsn"),
  release: "browser-e2e@1.0.0",
  environment: "e2e",
  integrations: [Sentry.browserTracingIntegration()],
  tracesSampleRate: 1.0,
});

window.addEventListener("load", async () => {
  const answer = await fetch("report.json");
  const report = await answer.json();
  document.getElementById("status").textContent = `${report.rows.length} rows`;
});

window.__glasspane = { flush: () => Sentry.flush(5000) };
