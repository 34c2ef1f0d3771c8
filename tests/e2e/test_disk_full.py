"""A full disk: ingest answers 503 naming the data directory, loses nothing, heals by itself.

The disk is made full for real, in whichever way this machine allows:

- ``tmpfs``: a 32 MiB tmpfs mounted for the test and filled with a filler file
  (ENOSPC); freeing it deletes the filler. Needs root and a container that
  allows ``mount``.
- ``fsize``: the server's ``RLIMIT_FSIZE`` lowered to the size its files have
  (EFBIG on every write that would grow one; Python ignores SIGXFSZ), then
  raised again. Works anywhere on Linux, for any user.

``GLASSPANE_TEST_FULL_DISK=fsize`` forces the second one.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from envelopes import envelope_bytes, error_event, transaction
from serverproc import RunningServer

pytestmark = pytest.mark.e2e


class FullDisk:
    """Makes the data directory's disk full, and frees it again."""

    kind = ""

    def attach(self, server: RunningServer) -> None:
        """Called once the server runs (the fsize way limits that process)."""

    def fill(self) -> None:
        raise NotImplementedError

    def free(self) -> None:
        raise NotImplementedError


class TmpfsDisk(FullDisk):
    kind = "tmpfs"

    def __init__(self, mount_point: Path) -> None:
        self.mount_point = mount_point
        self.filler = mount_point / "filler"

    def fill(self) -> None:
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            size = 1 << 20
            while size:  # write until ENOSPC, in ever smaller pieces down to one byte
                try:
                    os.write(fd, b"\0" * size)
                except OSError:
                    size //= 2
        finally:
            os.close(fd)

    def free(self) -> None:
        self.filler.unlink()


class FileSizeLimit(FullDisk):
    kind = "fsize"

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.pid = 0

    def attach(self, server: RunningServer) -> None:
        assert server.process is not None
        self.pid = server.process.pid

    def fill(self) -> None:
        # The WAL is the file each commit appends to: no file may grow past its size now.
        wal = self.data_dir / "glasspane.duckdb.wal"
        size = wal.stat().st_size if wal.exists() else 0
        resource.prlimit(self.pid, resource.RLIMIT_FSIZE, (size, resource.RLIM_INFINITY))
        # The ingest workers append to journal segments of their own: none may grow.
        for child in self._children():
            resource.prlimit(child, resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))

    def free(self) -> None:
        limit = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
        for pid in (self.pid, *self._children()):
            resource.prlimit(pid, resource.RLIMIT_FSIZE, limit)

    def _children(self) -> list[int]:
        listed = subprocess.run(
            ["pgrep", "-P", str(self.pid)], capture_output=True, text=True, check=False
        )
        return [int(pid) for pid in listed.stdout.split()]


@contextlib.contextmanager
def small_disk(tmp_path: Path) -> Iterator[tuple[Path, FullDisk]]:
    """(a data directory, the way to fill its disk): a tmpfs if mountable, else RLIMIT_FSIZE."""
    mount_point = Path(tempfile.mkdtemp(prefix="glasspane-disk-", dir=tmp_path))
    forced = os.environ.get("GLASSPANE_TEST_FULL_DISK", "")
    mounted = forced != "fsize" and _mount_tmpfs(mount_point)
    try:
        data_dir = mount_point / "data"
        yield data_dir, TmpfsDisk(mount_point) if mounted else FileSizeLimit(data_dir)
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(mount_point)], check=False, capture_output=True)
        shutil.rmtree(mount_point, ignore_errors=True)


def _mount_tmpfs(mount_point: Path) -> bool:
    if not shutil.which("mount"):
        return False
    command = ["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(mount_point)]
    return subprocess.run(command, check=False, capture_output=True).returncode == 0


def _post(
    server: RunningServer, project: dict[str, Any], payload: dict[str, Any]
) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/{project['id']}/envelope/",
        content=envelope_bytes(payload),
        headers={"X-Sentry-Auth": f"Sentry sentry_key={project['public_key']}"},
        timeout=30,
    )


def _payload(i: int) -> dict[str, Any]:
    return transaction(children=3) if i % 3 else error_event()


def _missing(server: RunningServer, acknowledged: list[dict[str, Any]]) -> list[str]:
    """Trace ids of acknowledged payloads the API cannot show in full."""
    missing = []
    for payload in acknowledged:
        trace_id = payload["contexts"]["trace"]["trace_id"]
        answer = server.api("GET", f"/api/v1/traces/{trace_id}")
        if answer.status_code != 200:
            missing.append(trace_id)
        elif payload.get("type") == "transaction":
            assert len(answer.json()["spans"]) == 4
        else:
            assert [e["event_id"] for e in answer.json()["errors"]] == [payload["event_id"]]
    return missing


def test_full_disk_answers_503_keeps_data_and_resumes(tmp_path: Path) -> None:
    with small_disk(tmp_path) as (data_dir, disk):
        running = RunningServer(data_dir)
        running.log_path = tmp_path / "server.log"  # not on the disk that fills up
        running.start()
        disk.attach(running)
        project = running.project("default")
        try:
            acknowledged = [_payload(i) for i in range(12)]
            assert {_post(running, project, p).status_code for p in acknowledged} == {200}
            # In the store, not only in the ingest journal: what is stored stays readable.
            assert _missing(running, acknowledged) == []

            disk.fill()
            refused = None
            for i in range(20):  # a commit may still fit into a partly used page or block
                payload = _payload(i)
                answer = _post(running, project, payload)
                if answer.status_code == 200:
                    acknowledged.append(payload)
                    continue
                refused = answer
                break
            assert refused is not None, f"no write failed on the full disk ({disk.kind})"
            assert refused.status_code == 503, refused.text
            detail = refused.json()["detail"]
            assert detail.startswith("disk full: "), detail
            assert str(data_dir) in detail
            assert refused.headers["Retry-After"].isdigit()
            assert _post(running, project, _payload(1)).status_code == 503  # still full

            # The server stays up and serves what it has while the disk is full.
            assert httpx.get(running.url + "/healthz", timeout=5).status_code == 200
            assert _missing(running, acknowledged[:3]) == []

            disk.free()
            resumed = [_payload(i) for i in range(10)]
            assert [_post(running, project, p).status_code for p in resumed] == [200] * 10
            acknowledged += resumed
            assert _missing(running, acknowledged) == []
        finally:
            running.stop(signal.SIGKILL)  # only what was committed survives this

        restarted = RunningServer(data_dir)
        restarted.log_path = tmp_path / "server.log"
        restarted.start()
        try:
            assert _missing(restarted, acknowledged) == [], f"lost after restart ({disk.kind})"
            assert _post(restarted, project, _payload(0)).status_code == 200
        finally:
            restarted.stop()
