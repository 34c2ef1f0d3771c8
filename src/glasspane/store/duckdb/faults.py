"""What a full disk does to DuckDB, and how the store reads the errors.

Measured with DuckDB 2.0 on a full tmpfs (ENOSPC) and under ``RLIMIT_FSIZE``
(EFBIG):

- When a COMMIT cannot write the WAL, DuckDB raises ``TransactionException``
  ("Failed to commit: Could not write file ".../glasspane.duckdb.wal": No space
  left on device"). The transaction is already rolled back, nothing committed
  before is touched, and the next commit succeeds once space returns.
- When the WAL write succeeds but the automatic checkpoint that follows cannot
  grow the database file, DuckDB raises ``FatalException`` ("Transaction COMMIT
  succeeded and is durable, but the autocheckpoint failed") and invalidates
  the whole instance: every statement on every connection fails until the
  file is opened again, with every old connection closed first (DuckDB keeps
  one instance per path while any connection to it lives). That commit is in
  the WAL, so it may be acknowledged; opening the file again replays it.

The messages are the only way to tell these apart (DuckDB raises the same
classes for other causes), so they are matched here, in one place.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from glasspane.errors import DiskFull

#: How the OS's write failures read in DuckDB's messages (ENOSPC, EFBIG, EDQUOT, EROFS).
_OS_WRITE_FAILURES = (
    "No space left on device",
    "File too large",
    "Disk quota exceeded",
    "Read-only file system",
)


def disk_full(exc: BaseException, directory: Path) -> DiskFull | None:
    """The :class:`DiskFull` to answer with when ``exc`` is the OS refusing a write."""
    message = str(exc)
    reason = next((r for r in _OS_WRITE_FAILURES if r in message), None)
    if reason is None and "Could not write file" not in message:
        return None
    return DiskFull(
        f"disk full: cannot write to the data directory {directory} "
        f"({reason or 'write failed'}). Nothing from this request was stored and the data "
        "stored before is intact; free space there and ingest resumes by itself"
    )


def committed_anyway(exc: BaseException) -> bool:
    """True when the COMMIT reached the WAL although DuckDB raised (a failed checkpoint)."""
    return isinstance(exc, duckdb.FatalException) and "COMMIT succeeded" in str(exc)


def invalidates(exc: BaseException) -> bool:
    """True when ``exc`` left the database instance unusable until it is opened again."""
    return isinstance(exc, duckdb.FatalException) or "database has been invalidated" in str(exc)
