"""``glasspane status``: the server's ``/api/v1/status`` at a glance."""

from __future__ import annotations

from typing import Any


def render_status(status: dict[str, Any], url: str) -> str:
    """Three lines: the server, its ingest, its store."""
    ingest = status["ingest"]
    store = status["store"]
    flow = [f"{_number(ingest['accepted_per_s'])} envelopes/s accepted"]
    if "stored_per_s" in ingest:
        flow.append(f"{_number(ingest['stored_per_s'])}/s stored")
    flow.append(f"queue {ingest['queue_depth']}")
    flow.append(f"journal lag {ingest['lag_s']:.1f} s")
    disk = status.get("disk_bytes")
    size = f", {byte_size(disk)} on disk" if disk is not None else ""
    return "\n".join(
        [
            f"glasspane {status['version']} at {url}",
            "ingest: " + ", ".join(flow),
            f"store:  {store['kind']} {store['location']}{size}",
        ]
    )


def _number(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == 0 else f"{value:.1f}"


def byte_size(count: float) -> str:
    """1536 → ``1.5 KiB``; binary units, as ``du -h`` and the limits' settings."""
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")
