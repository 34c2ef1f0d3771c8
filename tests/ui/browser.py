"""Debian's Chromium, as the UI tests and ``scripts/screenshots.py`` launch it.

A test tool's own browser download does not work here (no network but the
package registries), so Playwright drives the system ``chromium`` package
(``make system-deps`` installs it).
"""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
