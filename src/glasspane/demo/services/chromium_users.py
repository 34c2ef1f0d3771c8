"""Some of react-app's users in real Chromium: the upload page with @sentry/browser
and Session Replay, driven by Playwright, so their visits come back as replays.

One user at a time, back to back while the traffic is on: the page opens at the
frontend-worker's ``/documents`` as that user (their User-Agent, id, email and
token), they click "Upload Document", pick their PDF, choose the case type,
submit, and wait until the page says how it went ("Upload failed (504) ..."
under the ``timeouts`` fault). The page is then flushed (the replay, the error,
the transaction) and closed. Each visit counts in the traffic's stats like any
upload.

Playwright is imported here only: the demo runs this only when
``glasspane.demo.webapp`` found everything it needs.
"""

from __future__ import annotations

import json
import random
import threading
import time
from typing import Any

from glasspane.demo.services import runtime
from glasspane.demo.users import User

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update"]  # fmt: skip
MIN_VISIT = 6.0  # wall seconds: Replay sends nothing for a visit shorter than 5 s
PAUSE = 2.0  # wall seconds between two visits
GIVE_UP_AFTER = 3  # visits in a row that break before the real users stop
POLL_MS = 1000  # how long one wait on the page lasts before the stop flag is checked again


class ChromiumUsers:
    def __init__(self, traffic: Any) -> None:
        self.traffic = traffic  # browser.Traffic: its users and its stats
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None
        self.visits = 0
        self.problem = ""

    def start(self) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="chromium", daemon=True)
            self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        if self.thread is not None:
            self.thread.join(timeout=15)

    def _run(self) -> None:
        from playwright.sync_api import Error, sync_playwright

        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=runtime.config().chromium, args=CHROMIUM_ARGS
                )
                try:
                    self._visits(browser, Error)
                finally:
                    browser.close()
        except Error as exc:  # Chromium did not start: the demo goes on without it
            self._gave_up(exc)

    def _visits(self, browser: Any, error_type: type[Exception]) -> None:
        """Visit after visit; a visit that breaks is skipped, several in a row end them."""
        failures = 0
        while not self.stopped.is_set() and failures < GIVE_UP_AFTER:
            try:
                self._visit(browser, self.traffic.pick_user())
                failures = 0
            except error_type as exc:  # a page that did not load, a click that timed out
                failures += 1
                self.problem = str(exc).splitlines()[0]
            self.stopped.wait(PAUSE)
        if failures >= GIVE_UP_AFTER:
            runtime.log.warning("real browser users stopped: %s", self.problem)

    def _gave_up(self, exc: Exception) -> None:
        self.problem = str(exc).splitlines()[0]
        runtime.log.warning("real browser users stopped: %s", self.problem)

    def _visit(self, browser: Any, user: User) -> None:
        context = browser.new_context(user_agent=user.user_agent)
        self.traffic.stats.start()
        error: str | None = "crashed"
        try:
            context.add_init_script(f"window.__integra = {json.dumps(self._page_config(user))};")
            page = context.new_page()
            opened = time.monotonic()
            page.goto(runtime.url("frontend-worker") + "/documents")
            error = self._upload(page)
            self.stopped.wait(max(0.0, opened + MIN_VISIT - time.monotonic()))
            page.evaluate("window.__integraFlush()")
            self.visits += 1
        finally:
            self.traffic.stats.finish(error)
            context.close()

    def _page_config(self, user: User) -> dict[str, Any]:
        cfg = runtime.config()
        return {
            "dsn": cfg.dsn,
            "release": f"{cfg.name}@{runtime.RELEASE}",
            "tracesSampleRate": cfg.sample_rate,
            "replaysSessionSampleRate": 1.0,  # the users driven here are the replayed ones
            "token": user.token,
            "user": {"id": user.id, "email": user.email},
        }

    def _upload(self, page: Any) -> str | None:
        """Click through the upload; None when it worked, else what the page said."""
        from glasspane.demo.services.browser import document  # it imports this module

        rng = random.Random()
        page.wait_for_timeout(rng.uniform(300, 900))  # reads the page
        page.click("#upload")
        name, pdf, case = document(rng)
        page.set_input_files("#file", files=[
            {"name": name, "mimeType": "application/pdf", "buffer": pdf}])  # fmt: skip
        page.select_option("#case-type", case["Case type"])
        page.wait_for_timeout(rng.uniform(200, 600))
        page.click("#submit")
        deadline = time.monotonic() + runtime.http_timeout()
        while not self.stopped.is_set() and time.monotonic() < deadline:
            done = page.evaluate("document.getElementById('status').dataset.done === '1'")
            if done:
                failed = page.evaluate("document.getElementById('status').className")
                text = str(page.text_content("#status"))
                return text if failed == "failed" else None
            page.wait_for_timeout(POLL_MS / 4)
        return "no answer"
