"""Where a store keeps its data, for operators: kind, place (no password), size on disk.

Read from the ``--store`` URL the way :func:`glasspane.store.open_store` reads
it, not asked of the open store: the answer needs no connection and no method
in the store contract. A ClickHouse server's disk is its own (its
``system.parts`` tells), so its size here is unknown (None), not guessed.
"""

from __future__ import annotations

import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StoreLocation:
    kind: str  # duckdb, chdb or clickhouse
    location: str  # a file, a folder, or the server's URL without its password
    files: tuple[Path, ...] = ()  # what takes space on this machine

    def disk_bytes(self) -> int | None:
        """Bytes of the store's files and folders now; None for a server's."""
        if not self.files:
            return None
        return sum(_size(path) for path in self.files)


def store_location(url: str, data_dir: Path) -> StoreLocation:
    scheme, sep, rest = url.partition("://")
    if not url or (scheme == "duckdb" and sep):
        path = Path(rest) if rest else data_dir / "glasspane.duckdb"
        path = path.resolve()
        return StoreLocation("duckdb", str(path), (path, Path(f"{path}.wal")))
    if scheme == "chdb" and sep:
        folder = (Path(rest) if rest else data_dir / "clickhouse").resolve()
        return StoreLocation("chdb", str(folder), (folder,))
    return StoreLocation("clickhouse", redacted(url))


def redacted(url: str) -> str:
    """The URL with its password replaced by ``***``."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{parts.username}:***@{host}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _size(path: Path) -> int:
    """A file's size, or everything under a folder; 0 for what is not there."""
    try:
        if not path.is_dir():
            return path.stat().st_size
    except OSError:
        return 0
    total = 0
    for folder, _, names in os.walk(path):
        for name in names:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:  # removed meanwhile (a merged part)
                continue
    return total
