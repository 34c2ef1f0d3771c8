"""react-app: the simulated users' browsers, and so the demo's traffic.

Uploads arrive as a Poisson process at ``rate_per_min`` (real time). Each is
the scenario's ``uploadDocument`` transaction — the head of the trace, so
``traces_sample_rate=0.1`` decides for the whole trace and every service
reports the same 10% — with the user (id, email, ``geo.country_code``) and
the browser's request (its User-Agent) on the event, as the browser SDK sends
them. The user's file is a PDF generated here; one upload in two hundred is
cut short on the way, as real uploads sometimes are.

Each upload is also one release-health session of ``react-app`` (errored when
the upload fails), counts ``document.upload.started`` (the scenario's
``Sentry.metrics.increment``, with the case type, browser and country as
attributes), and one failed upload in :data:`FEEDBACK_SHARE` is followed by the
user's feedback about the error, sent as the browser SDK's feedback widget
sends it (a ``feedback`` envelope item naming the error's event id): the Python
SDK has no ``capture_feedback``.

Where the demo could build the browser app, some users are also real: one at
a time in Chromium, with @sentry/browser and Session Replay
(:mod:`.chromium_users`).

``/_demo/stats`` counts what was really sent, which is what glasspane's
throughput must show despite the sampling.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
import sentry_sdk
import sentry_sdk.metrics
from sentry_sdk.envelope import Envelope, Item, PayloadRef

from glasspane.demo.pdf import make_pdf
from glasspane.demo.services import runtime, serving
from glasspane.demo.services.chromium_users import ChromiumUsers
from glasspane.demo.users import User, population

MAX_IN_FLIGHT = 400  # concurrent uploads; arrivals beyond wait for a free slot
TRUNCATED = 0.005  # share of uploads whose file arrives cut short
APP_URL = "https://app.integra.example/documents/upload"
CASE_TYPES = ("Commercial", "Construction", "Employment", "Insurance", "Consumer")
FEEDBACK_SHARE = 0.2  # failed uploads whose user tells what happened
FEEDBACK_WORDS = (
    "The upload spun on Processing... and then said it failed. My filing deadline is today.",
    "Upload failed twice with the same PDF. Is the blockchain step down?",
    "I waited almost a minute, then got an error. Did my case get created or not?",
)
PARTIES = ("Acme Corp", "Globex LLC", "Initech", "Umbrella Ltd", "Stark Industries", "Wayne Ent.")


class UploadError(Exception):
    """What the user sees as the error toast."""


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.started = self.ok = self.failed = 0
        self.first_at: float | None = None
        self.by_error: dict[str, int] = {}

    def start(self) -> None:
        with self._lock:
            self.started += 1
            self.first_at = self.first_at or time.time()

    def finish(self, error: str | None) -> None:
        with self._lock:
            if error is None:
                self.ok += 1
            else:
                self.failed += 1
                self.by_error[error] = self.by_error.get(error, 0) + 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            done = self.ok + self.failed
            return {
                "started": self.started,
                "completed": done,
                "ok": self.ok,
                "failed": self.failed,
                "in_flight": self.started - done,
                "first_at": self.first_at,
                "errors": dict(self.by_error),
            }


def document(rng: random.Random) -> tuple[str, bytes, dict[str, str]]:
    number = rng.randint(100, 999)
    case = {
        "Case type": rng.choice(CASE_TYPES),
        "Claimant": rng.choice(PARTIES),
        "Respondent": rng.choice(PARTIES),
        "Amount in dispute": f"USD {rng.randint(10, 900) * 1000:,}",
    }
    lines = [f"Demand for arbitration no. {number}", *[f"{k}: {v}" for k, v in case.items()]]
    pdf = make_pdf(lines)
    if rng.random() < TRUNCATED:
        pdf = pdf[: len(pdf) // 2]
    return f"arbitration-case-{number}.pdf", pdf, case


def _browser_request(user: User) -> Any:
    """An event processor: the request as the browser SDK describes it."""

    def processor(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
        event.setdefault("request", {"url": APP_URL, "headers": {"User-Agent": user.user_agent}})
        return event

    return processor


class Traffic:
    def __init__(self) -> None:
        cfg = runtime.config()
        self.users = population(cfg.users, cfg.seed)
        self.weights = [u.weight for u in self.users]
        self.rng = random.Random()  # arrivals differ run to run; the users do not
        self.stats = Stats()
        self.stop_event = threading.Event()
        self.pool = ThreadPoolExecutor(MAX_IN_FLIGHT, thread_name_prefix="user")
        self.endpoint = runtime.url("frontend-worker") + "/api/documents/upload"
        self.arrivals: threading.Thread | None = None
        self.chromium = ChromiumUsers(self) if cfg.chromium and cfg.app_dir else None

    def pick_user(self) -> User:
        """A user, the busy ones more often."""
        return self.rng.choices(self.users, weights=self.weights)[0]

    def on_state(self, state: dict[str, Any]) -> None:
        """Traffic starts when the demo says so: once every service is up."""
        if state.get("traffic") == "on" and self.arrivals is None:
            self.arrivals = threading.Thread(target=self._arrivals, name="arrivals", daemon=True)
            self.arrivals.start()
            if self.chromium is not None:
                self.chromium.start()

    def snapshot(self) -> dict[str, Any]:
        """The stats, and how many visits the real browsers made (None: no real browsers)."""
        chromium = self.chromium
        return {
            **self.stats.snapshot(),
            "chromium_visits": None if chromium is None else chromium.visits,
            "chromium_problem": None if chromium is None else chromium.problem or None,
        }

    def stop(self) -> None:
        """No new uploads; give the ones in flight a few seconds to finish."""
        self.stop_event.set()
        if self.arrivals is not None:
            self.arrivals.join(timeout=5)
        if self.chromium is not None:
            self.chromium.stop()
        self.pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + 2
        while self.stats.snapshot()["in_flight"] and time.monotonic() < deadline:
            time.sleep(0.1)

    def _arrivals(self) -> None:
        per_second = runtime.config().rate_per_min / 60.0
        while not self.stop_event.wait(self.rng.expovariate(per_second)):
            user = self.pick_user()
            self.stats.start()
            self.pool.submit(self._upload, user)

    def _upload(self, user: User) -> None:
        error: str | None = "crashed"
        try:
            error = self._traced_upload(user)
        finally:
            self.stats.finish(error)

    def _traced_upload(self, user: User) -> str | None:
        with sentry_sdk.isolation_scope() as scope:
            scope.set_user(
                {"id": user.id, "email": user.email, "geo": {"country_code": user.country}}
            )
            scope.add_event_processor(_browser_request(user))
            scope.start_session(session_mode="application")  # the user's visit: release health
            try:
                return self._upload_in_session(user)
            finally:
                scope.end_session()

    def _upload_in_session(self, user: User) -> str | None:
        with sentry_sdk.start_transaction(
            op="http.client.request", name="uploadDocument", source="custom"
        ) as transaction:
            with sentry_sdk.start_span(op="file.read", name="Read selected file"):
                name, pdf, case = document(random.Random())
            transaction.set_data("fileName", name)
            transaction.set_data("fileSize", len(pdf))
            transaction.set_data("caseType", case["Case type"])
            sentry_sdk.metrics.count(
                "document.upload.started",
                1,
                attributes={
                    "caseType": case["Case type"],
                    "browser": user.browser,
                    "country": user.country,
                },
            )
            try:
                case_id = self._post(user, name, pdf)
            except UploadError as exc:
                transaction.set_status("unknown_error")
                document_context = {
                    "fileName": name,
                    "fileSize": len(pdf),
                    "caseType": case["Case type"],
                }
                event_id = sentry_sdk.capture_exception(
                    exc, contexts={"document": document_context}
                )
                if event_id and self.rng.random() < FEEDBACK_SHARE:
                    send_feedback(user, event_id, transaction.trace_id)
                return str(exc)
            transaction.set_status("ok")
            transaction.set_data("caseId", case_id)
            return None

    def _post(self, user: User, name: str, pdf: bytes) -> str:
        headers = {"Authorization": f"Bearer {user.token}", "User-Agent": user.user_agent}
        files = {"file": (name, pdf, "application/pdf")}
        try:
            answer = runtime.http().post(
                self.endpoint, files=files, headers=headers, timeout=runtime.http_timeout()
            )
        except requests.RequestException as exc:
            raise UploadError(f"Network error: {type(exc).__name__}") from exc
        if answer.status_code != 200:
            try:
                body = answer.json()
            except ValueError:
                body = {}
            raise UploadError(f"Upload failed ({answer.status_code}): {body.get('error', 'error')}")
        return str(answer.json()["caseId"])


def feedback_event(user: User, event_id: str, trace_id: str, words: str) -> dict[str, Any]:
    """The ``feedback`` item's payload as @sentry/browser's feedback widget builds it."""
    return {
        "event_id": uuid.uuid4().hex,
        "timestamp": time.time(),
        "platform": "javascript",
        "type": "feedback",
        "level": "info",
        "release": sentry_sdk.get_client().options.get("release"),
        "environment": sentry_sdk.get_client().options.get("environment"),
        "user": {"id": user.id, "email": user.email},
        "request": {"url": APP_URL, "headers": {"User-Agent": user.user_agent}},
        "contexts": {
            "feedback": {
                "message": words,
                "contact_email": user.email,
                "name": user.email.split("@")[0],
                "url": APP_URL,
                "source": "widget",
                "associated_event_id": event_id,
            },
            "trace": {"trace_id": trace_id, "span_id": uuid.uuid4().hex[:16]},
        },
    }


def send_feedback(user: User, event_id: str, trace_id: str) -> None:
    """Send the user's words about error ``event_id`` through the SDK's own transport."""
    client = sentry_sdk.get_client()
    if client.transport is None:
        return
    payload = feedback_event(user, event_id, trace_id, random.choice(FEEDBACK_WORDS))
    envelope = Envelope(headers={"event_id": payload["event_id"]})
    envelope.add_item(Item(payload=PayloadRef(json=payload), type="feedback"))
    client.transport.capture_envelope(envelope)


def build() -> serving.Service:
    traffic = Traffic()
    runtime.on_state_change(traffic.on_state)
    return serving.Service(
        app=None,
        kind="wsgi",
        admin={"stats": lambda method, body: traffic.snapshot()},
        on_stop=traffic.stop,
    )
