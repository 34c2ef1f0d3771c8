"""Appending to the journal: one writer per process, group fsync, acknowledged after it.

:meth:`JournalWriter.append` writes a record to the current segment at once
(the file's page cache, under a lock, so records never interleave) and
returns a future that resolves when the record is on disk. One sync thread
fsyncs whatever was appended since its last fsync, then resolves all of those
futures: under load hundreds of requests share one fsync; a lone request pays
one fsync, a few milliseconds of waiting and almost no CPU, instead of a
database commit.

Failure modes:

* a write the OS refuses (no space, file size limit) raises
  :class:`DiskFull` to the caller; what was partly written is cut off again
  and the segment is closed, so a torn record is always the last of its
  segment. An append is refused at once unless the file system has room for
  it and a margin (``statvfs``), so a full disk answers 503 consistently in
  every worker and ingest resumes by itself once space is freed;
* an fsync that fails fails every record waiting for it (they may or may not
  be on disk: a retried request may then be stored twice, never lost) and the
  segment is closed, since the kernel may have dropped its dirty pages.

A segment is closed once it grows past ``segment_bytes``; the feeder deletes
closed segments once it has fed them.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import threading
from concurrent.futures import Future
from pathlib import Path

from glasspane.errors import DiskFull, StoreError
from glasspane.journal.segments import SegmentName

log = logging.getLogger(__name__)

#: Free bytes, beyond a record's size, before writing resumes after a full disk.
FULL_MARGIN = 1 << 20
#: Errors that mean the disk (or the file size limit) is full.
_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


def disk_full(directory: Path, exc: OSError) -> DiskFull:
    return DiskFull(
        f"disk full: cannot write to the data directory {directory} "
        f"({exc.strerror or exc}). Nothing from this request was stored and the data "
        "stored before is intact; free space there and ingest resumes by itself"
    )


class JournalWriter:
    """Appends records to ``directory/<writer>-<seq>.seg``; see the module docstring."""

    def __init__(self, directory: Path, writer: str, segment_bytes: int = 64 << 20) -> None:
        self.directory = directory
        self.writer = writer
        self.segment_bytes = segment_bytes
        directory.mkdir(parents=True, exist_ok=True)
        self._seq = 0
        self._fd: int | None = None
        self._size = 0
        self._waiting: list[Future[None]] = []
        self._retiring: list[int] = []  # closed segments' descriptors, to fsync and close
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._sync_loop, name="journal-sync", daemon=True)
        self._thread.start()

    @property
    def appended(self) -> tuple[int, int]:
        """(current segment's number, its size): how far this writer has written."""
        return self._seq, self._size

    def append(self, record: bytes) -> Future[None]:
        """Write ``record``; the future resolves once it is durable. Raises :class:`DiskFull`."""
        future: Future[None] = Future()
        with self._cond:
            if self._closed:
                raise StoreError("The server is shutting down; retry shortly")
            if not self._room_for(len(record)):
                raise self._error(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
            fd = self._segment()
            try:
                written = os.write(fd, record)
            except OSError as exc:
                self._refused(fd)
                raise self._error(exc) from None
            if written < len(record):  # the disk filled up in the middle of it
                self._refused(fd)
                raise self._error(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
            self._size += written
            self._waiting.append(future)
            self._cond.notify()
        return future

    def close(self) -> None:
        """Sync what is waiting, then stop."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    # -- under the lock ------------------------------------------------------
    def _segment(self) -> int:
        if self._fd is not None and self._size < self.segment_bytes:
            return self._fd
        if self._fd is not None:
            self._retire()
        self._seq += 1
        path = self.directory / SegmentName(self.writer, self._seq).filename
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
            _sync_directory(self.directory)
        except OSError as exc:
            self._fd = None
            raise self._error(exc) from None
        self._size = 0
        return self._fd

    def _retire(self) -> None:
        """Hand the current segment to the sync thread to fsync and close; start anew."""
        if self._fd is not None:
            self._retiring.append(self._fd)
        self._fd = None
        self._cond.notify()

    def _refused(self, fd: int) -> None:
        """After a refused write: cut off what was written of it, and write no more into
        this segment (the slack of its last block would take a few small records while
        the disk is full, acknowledging some requests and refusing others at random)."""
        with contextlib.suppress(OSError):
            os.ftruncate(fd, self._size)
        self._retire()

    def _room_for(self, size: int) -> bool:
        """Room for ``size`` bytes and a margin? Asked before every append (a ``statvfs``,
        about a microsecond), so every worker refuses alike while the disk is full, and
        the store keeps the margin for its own writes."""
        try:
            stats = os.statvfs(self.directory)
        except OSError:
            return False
        return stats.f_bavail * stats.f_frsize >= size + FULL_MARGIN

    def _error(self, exc: OSError) -> StoreError:
        if exc.errno in _FULL:
            return disk_full(self.directory.parent, exc)
        return StoreError(f"Cannot write to the ingest journal in {self.directory}: {exc}")

    # -- the sync thread -----------------------------------------------------
    def _sync_loop(self) -> None:
        while True:
            with self._cond:
                while not (self._waiting or self._retiring or self._closed):
                    self._cond.wait()
                waiting, self._waiting = self._waiting, []
                retiring, self._retiring = self._retiring, []
                fd = self._fd
                closing = self._closed
            error = self._sync([*retiring, *([fd] if fd is not None and waiting else [])])
            for old in retiring:
                os.close(old)
            for future in waiting:
                if error is None:
                    future.set_result(None)
                else:
                    future.set_exception(error)
            if error is not None and fd is not None:
                with self._cond:
                    if self._fd == fd:  # its dirty pages may be gone: never append to it again
                        self._retire()
            if closing and not waiting and not retiring:
                return

    def _sync(self, fds: list[int]) -> StoreError | None:
        for fd in fds:
            try:
                os.fsync(fd)
            except OSError as exc:
                log.error("journal fsync failed: %s", exc)
                return self._error(exc)
        return None


def _sync_directory(directory: Path) -> None:
    """Make a new file's name durable too (its directory entry)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
