"""The scenario's browser app for real Chromium users, and whether this machine can run it.

Where Chromium, Playwright (Python) and the npm packages of ``tests/browser``
(``@sentry/browser`` and esbuild, installed by ``make npm`` / ``npm ci``) are
all present, the demo bundles ``webapp/app.js`` with esbuild at start; the
frontend-worker serves the page and the react-app process drives it in
Chromium for some of the users, so their sessions come back as Session
Replays. Where one is missing, :func:`prepare` says which, and the demo runs
without replays.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SOURCE = Path(__file__).resolve().parent / "webapp"
#: A checkout's npm packages for the browser tests (absent from an installed wheel).
NODE_PACKAGES = Path(__file__).resolve().parents[3] / "tests" / "browser"
CHROMIUM_NAMES = ("chromium", "chromium-browser")
BUILD_TIMEOUT = 120.0  # seconds


@dataclass(frozen=True)
class WebApp:
    """Where the built page is (``app_dir``) and the Chromium to drive it; or why not."""

    app_dir: str = ""
    chromium: str = ""
    missing: str = ""  # what is missing, for the start-up output; "" when ready

    @property
    def ready(self) -> bool:
        return bool(self.app_dir and self.chromium)


def find_chromium() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return ""


def prepare(out: Path, packages: Path = NODE_PACKAGES) -> WebApp:
    """Build the page into ``out`` if everything it needs is here; else say what is not."""
    chromium = find_chromium()
    esbuild = packages / "node_modules" / ".bin" / "esbuild"
    if not chromium:
        return WebApp(missing="no chromium on PATH (apt-get install chromium)")
    if importlib.util.find_spec("playwright") is None:
        return WebApp(missing="Playwright is not installed (pip install 'glasspane[replays]')")
    if not (packages / "node_modules" / "@sentry" / "browser").is_dir() or not esbuild.exists():
        return WebApp(missing=f"no @sentry/browser and esbuild in {packages} (npm ci there)")
    out.mkdir(parents=True, exist_ok=True)
    command = [str(esbuild), str(SOURCE / "app.js"), "--bundle", "--format=iife",
               "--target=es2020", f"--outfile={out / 'app.js'}", "--log-level=error"]  # fmt: skip
    try:
        done = subprocess.run(
            command,
            cwd=packages,
            env={**os.environ, "NODE_PATH": str(packages / "node_modules")},  # the app's imports
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return WebApp(missing=f"esbuild could not bundle the page: {exc}")
    if done.returncode != 0:
        return WebApp(missing=f"esbuild could not bundle the page: {done.stderr.strip()[:300]}")
    shutil.copy(SOURCE / "index.html", out / "index.html")
    return WebApp(app_dir=str(out), chromium=chromium)
