// The scenario's React app, reduced to its upload page: @sentry/browser with
// browser tracing and Session Replay, as the scenario's src/main.tsx sets it
// up. The demo bundles this file with esbuild and the frontend-worker serves
// it; the demo's real Chromium users open it. The DSN, release and the signed-in
// user come from window.__integra, which the page's host sets before it loads.
import * as Sentry from "@sentry/browser";

const config = window.__integra || {};

Sentry.init({
  dsn: config.dsn,
  release: config.release,
  environment: "demo",
  integrations: [
    Sentry.browserTracingIntegration(),
    // The page's own text is shown (the timeline names the buttons); inputs stay masked.
    Sentry.replayIntegration({ maskAllText: false, blockAllMedia: false }),
  ],
  tracesSampleRate: config.tracesSampleRate ?? 0.1,
  replaysSessionSampleRate: config.replaysSessionSampleRate ?? 0.01,
  replaysOnErrorSampleRate: 1.0,
});
if (config.user) {
  Sentry.setUser(config.user);
}

class UploadError extends Error {
  constructor(message) {
    super(message);
    this.name = "UploadError";
  }
}

const status = document.getElementById("status");
const form = document.getElementById("upload-form");

function show(text, failed) {
  status.textContent = text;
  status.className = failed ? "failed" : "";
  status.dataset.done = "1";
}

document.getElementById("upload").addEventListener("click", () => {
  form.hidden = false;
});

async function uploadDocument(file, caseType) {
  return Sentry.startSpan(
    { name: "uploadDocument", op: "http.client.request", forceTransaction: true },
    async (span) => {
      span.setAttribute("fileName", file.name);
      span.setAttribute("fileSize", file.size);
      span.setAttribute("caseType", caseType);
      const body = new FormData();
      body.append("file", file);
      body.append("metadata", JSON.stringify({ caseType }));
      const answer = await fetch("/api/documents/upload", {
        method: "POST",
        body,
        headers: { Authorization: `Bearer ${config.token || ""}` },
      });
      const result = await answer.json().catch(() => ({}));
      if (!answer.ok) {
        span.setStatus({ code: 2, message: "unknown_error" });
        throw new UploadError(`Upload failed (${answer.status}): ${result.error || "error"}`);
      }
      return result.caseId;
    },
  );
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = document.getElementById("file").files[0];
  const caseType = document.getElementById("case-type").value;
  status.textContent = "Processing...";
  delete status.dataset.done;
  // The scenario's Sentry.metrics.increment('document.upload.started', 1, {tags}).
  Sentry.metrics.count("document.upload.started", 1, { attributes: { caseType } });
  try {
    const caseId = await uploadDocument(file, caseType);
    show(`Case ${caseId} created and registered on the blockchain`, false);
  } catch (error) {
    show(error.message, true);
    Sentry.captureException(error, {
      contexts: { document: { fileName: file.name, fileSize: file.size, caseType } },
    });
  }
});

// For the demo's driver: send the replay and the events now, not in five seconds.
window.__integraFlush = async () => {
  await Sentry.getReplay()?.flush();
  await Sentry.flush(5000);
  return Sentry.getReplay()?.getReplayId() || null;
};
