"""``python -m glasspane.demo.guard PARENT_PID MODULE [ARGS...]``: run MODULE as
``python -m MODULE ARGS...``, but die with the demo.

Every process the demo starts goes through this launcher, so none outlives it,
even when the demo itself is killed with SIGKILL (no chance to clean up):

- on Linux, ``prctl(PR_SET_PDEATHSIG, SIGTERM)`` asks the kernel to send
  SIGTERM when the parent dies;
- everywhere, a watchdog thread sees the parent change (re-parenting) and sends
  SIGTERM itself, then SIGKILL if the process is still alive 15 s later.

SIGTERM lets the child stop cleanly (the glasspane server commits, services
flush their SDK). The road not taken: a shell wrapper, which would leave the
wrapped process behind when the wrapper is killed.
"""

from __future__ import annotations

import ctypes
import os
import runpy
import signal
import sys
import threading

PR_SET_PDEATHSIG = 1
POLL_SECONDS = 0.5
KILL_AFTER_SECONDS = 15.0


def _ask_kernel() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # the watchdog still covers it


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        threading.Event().wait(POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)
    threading.Event().wait(KILL_AFTER_SECONDS)
    os.kill(os.getpid(), signal.SIGKILL)


def main(argv: list[str]) -> None:
    if len(argv) < 3 or not argv[1].isdigit():
        raise SystemExit("usage: python -m glasspane.demo.guard PARENT_PID MODULE [ARGS...]")
    parent, module = int(argv[1]), argv[2]
    _ask_kernel()
    if os.getppid() != parent:  # the parent died before we could ask
        raise SystemExit(0)
    threading.Thread(target=_watch, args=(parent,), name="parent-watchdog", daemon=True).start()
    sys.argv = [module, *argv[3:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv)
