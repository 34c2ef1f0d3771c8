"""Starting the demo's child processes, and making sure none outlives it.

Each child runs through ``glasspane.demo.guard`` (it dies with the demo, even
when the demo is SIGKILLed) in a session of its own (Ctrl-C in the terminal
reaches only the demo, which then stops the children in order: traffic first,
the server last, so the last events still land). Output goes to one log file
per child.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    url: str | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class Supervisor:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[Child] = []
        self.stopping: set[str] = set()

    def start(self, name: str, module: str, args: list[str], env: dict[str, str]) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        log = open(log_path, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        command = [sys.executable, "-m", "glasspane.demo.guard", str(os.getpid()), module, *args]
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )
        child = Child(name, process, log_path, _log=log)
        self.children.append(child)
        return child

    def dead(self) -> list[Child]:
        """Children that exited without being asked to."""
        return [c for c in self.children if not c.alive and c.name not in self.stopping]

    def stop(self, children: Iterable[Child], timeout: float) -> None:
        """SIGTERM each child's process group, then SIGKILL what is left after ``timeout``."""
        children = [c for c in children if c.name not in self.stopping or c.alive]
        for child in children:
            self.stopping.add(child.name)
            _signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in children:
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(child, signal.SIGKILL)
                child.process.wait(timeout=5)
        for child in children:
            if child._log is not None:
                child._log.close()

    def kill_all(self) -> None:
        """No waiting: for a second Ctrl-C, or when stopping cleanly failed."""
        for child in self.children:
            self.stopping.add(child.name)
            _signal_group(child, signal.SIGKILL)
        for child in self.children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=5)


def _signal_group(child: Child, sig: int) -> None:
    """Signal the child's group while the child is alive (never a reaped, reusable pid)."""
    if child.process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, sig)  # the child leads its own session: its group id is its pid
