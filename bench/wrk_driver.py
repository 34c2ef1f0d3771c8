"""Run ``wrk`` with ``bench/wrk_envelopes.lua`` and read what its ``done()`` prints.

The bench pre-generates the request bodies (see ``bench/ingest.py``); this module
only knows how to start wrk on them, wait while reporting progress, and parse
the result. wrk is C: it costs a small fraction of the CPU that Python client
threads need per request, so on a small machine it leaves the cores to the server.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LUA_SCRIPT = Path(__file__).with_name("wrk_envelopes.lua")
DONE_PREFIX = "glasspane-wrk "
INSTALL_HINT = (
    "wrk is not installed; install it with `apt-get install wrk` (Debian/Ubuntu) "
    "or `brew install wrk` (macOS). Falling back to --driver python."
)
THREADS = 2  # wrk threads: the machine's cores are the server's, not wrk's


def find_wrk() -> str | None:
    return shutil.which("wrk")


@dataclass
class WrkThread:
    """One wrk thread's share of the bodies and what became of its requests."""

    first: int  # index of its first body in the bodies file
    bodies: int
    issued: int  # request() calls
    skipped: int  # of those, calls whose request wrk did not send (see parse)
    completed: int  # answers received
    acked: int  # 2xx answers
    wrapped: int  # requests that re-sent a body after the thread ran out of them
    statuses: Counter[str]
    sample: list[str]  # event ids echoed in 2xx answers, a random sample

    @property
    def sent(self) -> int:
        """Requests started (the last few may have had no answer)."""
        return self.issued - self.skipped


@dataclass
class WrkRun:
    duration_s: float
    requests: int  # answers received, any status
    socket_errors: Counter[str]  # connect/read/write errors and timeouts
    p50_ms: float
    p99_ms: float
    max_ms: float
    threads: list[WrkThread]
    cpu_s: float  # wrk's user + system CPU time
    output: str  # wrk's own report


def command(
    wrk: str,
    url: str,
    *,
    bodies: Path,
    index: Path,
    threads: int,
    connections: int,
    duration_s: int,
    auth: str,
    encoding: str,
    sample: int,
) -> list[str]:
    return [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration_s}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(LUA_SCRIPT),
        url,
        "--",
        str(bodies),
        str(index),
        str(threads),
        auth,
        encoding,
        str(sample),
    ]


def run(
    cmd: list[str],
    duration_s: int,
    tick: Callable[[float], None],
    every: float,
    log: Path,
) -> WrkRun:
    """Run wrk, calling ``tick(elapsed)`` every ``every`` seconds until it exits.

    wrk's CPU time is the change in ``RUSAGE_CHILDREN`` across its wait: the
    bench's other child, a server it started, is only reaped after the run.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.monotonic()
    with open(log, "w+b") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        try:
            while True:
                try:
                    process.wait(timeout=every)
                    break
                except subprocess.TimeoutExpired:
                    if time.monotonic() - began > duration_s + 60:
                        raise SystemExit("wrk ran a minute past its duration; stopped it") from None
                    tick(time.monotonic() - began)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        out.seek(0)
        output = out.read().decode(errors="replace")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if process.returncode != 0:
        raise SystemExit(f"wrk exited with {process.returncode}:\n{output}")
    return parse(output, cpu)


def parse(output: str, cpu_s: float = 0.0) -> WrkRun:
    """The run described by the ``glasspane-wrk {...}`` line of ``output``.

    wrk calls the first thread's ``request()`` once before the run to check the
    script (``script_verify_request``) and does not send what it returns, so
    that thread's first body is skipped.
    """
    lines = [line for line in output.splitlines() if line.startswith(DONE_PREFIX)]
    if not lines:
        raise SystemExit(f"wrk printed no {DONE_PREFIX.strip()!r} line:\n{output}")
    done: dict[str, Any] = json.loads(lines[-1][len(DONE_PREFIX) :])
    latency = done["latency_us"]
    report = "\n".join(line for line in output.splitlines() if not line.startswith(DONE_PREFIX))
    return WrkRun(
        duration_s=done["duration_us"] / 1e6,
        requests=int(done["requests"]),
        socket_errors=Counter({k: int(v) for k, v in done["errors"].items() if v}),
        p50_ms=latency["p50"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        threads=[
            WrkThread(
                first=int(t["first"]),
                bodies=int(t["bodies"]),
                issued=int(t["issued"]),
                skipped=1 if number == 0 and int(t["issued"]) > 0 else 0,
                completed=int(t["completed"]),
                acked=int(t["acked"]),
                wrapped=int(t["wrapped"]),
                statuses=Counter({str(k): int(v) for k, v in (t["statuses"] or {}).items()}),
                sample=list(t["sample"] or []),
            )
            for number, t in enumerate(done["threads"])
        ],
        cpu_s=cpu_s,
        output=report,
    )
