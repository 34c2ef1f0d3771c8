// The document-upload page of the scenario, instrumented as a user would:
// @sentry/browser with browser tracing and Session Replay. The test passes
// the DSN and the backend's URL in the query string.
import * as Sentry from "@sentry/browser";

const params = new URLSearchParams(window.location.search);
const backend = params.get("backend");

Sentry.init({
  dsn: params.get("dsn"),
  release: "browser-e2e@1.0.0",
  environment: "e2e",
  integrations: [
    Sentry.browserTracingIntegration(),
    // Text is unmasked so the timeline can name the button; inputs stay masked.
    Sentry.replayIntegration({ maskAllText: false, blockAllMedia: false }),
  ],
  tracesSampleRate: 1.0,
  tracePropagationTargets: [backend],
  replaysSessionSampleRate: 1.0,
  replaysOnErrorSampleRate: 1.0,
});
Sentry.setUser({ id: "u-42", email: "demo@test.com" });

const status = document.getElementById("status");

document.getElementById("upload").addEventListener("click", async () => {
  status.textContent = "Processing...";
  const answer = await fetch(`${backend}/upload?fail=1`);
  const body = await answer.json();
  window.__backendTrace = body.trace_id;
  if (!answer.ok) {
    status.textContent = "Blockchain confirmation timeout";
    // Thrown outside the click handler's stack, so it reaches the global handler.
    setTimeout(() => {
      throw new Error("Blockchain confirmation timeout");
    });
  }
});

// Hooks for the test: flush the replay now rather than in five seconds, and
// send feedback the way a feedback widget would.
window.__glasspane = {
  flushReplay: () => Sentry.getReplay()?.flush(),
  replayId: () => Sentry.getReplay()?.getReplayId(),
  feedback: (message) =>
    Sentry.captureFeedback({ message, name: "Demo User", email: "demo@test.com" }),
  flush: () => Sentry.flush(5000),
};
