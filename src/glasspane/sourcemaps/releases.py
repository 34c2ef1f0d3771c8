"""Release artifacts: files uploaded for a release, found by the URL they are served at.

The older flow, for builds without debug ids: ``sentry-cli releases new VERSION``
then ``sentry-cli sourcemaps upload --release VERSION --url-prefix '~/' dist/``.
sentry-cli 3 sends the files as an artifact bundle whose ``manifest.json`` names
the release and, for each file, its ``url`` (``~/checkout.min.js``: ``~`` stands
for any scheme and host) and its ``Sourcemap`` header. They are kept per project
and release::

    DATA_DIR/sourcemaps/<project id>/releases/<sha1 of the release>/release.json
    DATA_DIR/sourcemaps/<project id>/releases/<sha1 of the release>/<sha1 of the url>

``release.json`` holds the version, when it was created and the file index
(url → kind, size, source map reference, upload time).
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path
from threading import Lock, get_ident
from typing import Any
from urllib.parse import SplitResult, urlsplit

import orjson

#: How far from the end of a minified file ``//# sourceMappingURL=`` is looked for.
TAIL_BYTES = 4096
_MAPPING_URL = re.compile(rb"//[#@] ?sourceMappingURL=(\S++)")


@dataclass(frozen=True)
class ReleaseFile:
    """One uploaded file of a release, as listed."""

    url: str
    kind: str
    size: int
    sourcemap: str | None
    uploaded_at: float
    #: SHA-1 of the file's bytes (empty for files kept before it was recorded).
    sha1: str = ""


@dataclass(frozen=True)
class Release:
    """A release with its files, as listed."""

    version: str
    created_at: float
    files: list[ReleaseFile]


def url_candidates(abs_path: str) -> list[str]:
    """The artifact URLs a frame's file may have been uploaded as, best first: the
    URL itself, then ``~/path?query`` and ``~/path`` (scheme and host as ``~``)."""
    found = [abs_path]
    parts = _split(abs_path)
    if parts and parts.scheme and parts.path:
        tilde = "~" + parts.path
        if parts.query:
            found.append(f"{tilde}?{parts.query}")
        found.append(tilde)
    return found


def resolve_reference(file_url: str, reference: str) -> str:
    """The URL of the map ``reference`` points to, read from the file at ``file_url``
    (absolute URLs become ``~/path`` like uploaded ones)."""
    parts = _split(reference)
    if parts is None or parts.scheme:
        return url_candidates(reference)[-1]
    if reference.startswith("/"):
        return "~" + reference
    base, _, _ = file_url.rpartition("/")
    return posixpath.normpath(f"{base}/{reference}") if base else reference


def _split(url: str) -> SplitResult | None:
    try:
        return urlsplit(url)
    except ValueError:  # an unbalanced [ in the host, say
        return None


def mapping_url(minified: bytes) -> str | None:
    """The ``//# sourceMappingURL=`` at the end of a minified file, if any."""
    found = _MAPPING_URL.findall(minified[-TAIL_BYTES:])
    return found[-1].decode("utf-8", "replace") if found else None


class ReleaseArtifacts:
    """The release files of every project under ``root`` (``DATA_DIR/sourcemaps``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = Lock()

    def folder(self, project_id: int, version: str) -> Path:
        key = hashlib.sha1(version.encode()).hexdigest()
        return self.root / str(project_id) / "releases" / key

    def create(self, project_id: int, version: str, now: float | None = None) -> float:
        """Record the release (kept as it is if it exists); when it was created."""
        with self._lock:
            index = self._index(project_id, version)
            if index is None:
                index = {"version": version, "created_at": now or time.time(), "files": {}}
                self._save(project_id, version, index)
            return float(index["created_at"])

    def finalize(self, project_id: int, version: str, when: float) -> tuple[float, float] | None:
        """Mark the release released at ``when``; when it was created and released, or
        None if there is no such release."""
        with self._lock:
            index = self._index(project_id, version)
            if index is None:
                return None
            index["released_at"] = when
            self._save(project_id, version, index)
            return float(index["created_at"]), when

    def keep(self, project_id: int, version: str, files: list[tuple[str, Any, bytes]]) -> None:
        """Keep files of the release, each as (its ``url``, its manifest entry, its bytes)."""
        self.create(project_id, version)
        folder = self.folder(project_id, version)
        described = {}
        for url, entry, data in files:
            write_whole(folder / _key(url), data)
            described[url] = _described(entry if isinstance(entry, dict) else {}, data)
        with self._lock:
            index = self._index(project_id, version) or {}
            index.setdefault("files", {}).update(described)
            self._save(project_id, version, index)

    def lookup(self, project_id: int, version: str, url: str) -> tuple[bytes, str | None] | None:
        """The file uploaded for the release at ``url`` and its ``Sourcemap`` header."""
        index = self._index(project_id, version)
        entry = (index or {}).get("files", {}).get(url)
        if entry is None:
            return None
        path = self.folder(project_id, version) / _key(url)
        try:
            return path.read_bytes(), entry.get("sourcemap")
        except FileNotFoundError:
            return None

    def release(self, project_id: int, version: str) -> Release | None:
        """The release with its files (each with its SHA-1), if the project has it."""
        index = self._index(project_id, version)
        if index is None:
            return None
        found = _listed(index)
        folder = self.folder(project_id, version)
        files = [
            f if f.sha1 else replace(f, sha1=_sha1_of(folder / _key(f.url))) for f in found.files
        ]
        return replace(found, files=files)

    def has(self, project_id: int, version: str) -> bool:
        return (self.folder(project_id, version) / "release.json").is_file()

    def releases(self, project_id: int) -> list[Release]:
        """The project's releases, newest first."""
        found = []
        for path in (self.root / str(project_id) / "releases").glob("*/release.json"):
            index = _read(path)
            if index is not None:
                found.append(_listed(index))
        return sorted(found, key=lambda r: r.created_at, reverse=True)

    def remove_older(self, project_id: int, cutoff: float) -> int:
        """Remove the releases whose last upload is before ``cutoff``; how many."""
        removed = 0
        for release in self.releases(project_id):
            last = max([f.uploaded_at for f in release.files], default=release.created_at)
            if last < cutoff:
                shutil.rmtree(self.folder(project_id, release.version), ignore_errors=True)
                removed += 1
        return removed

    def _index(self, project_id: int, version: str) -> dict[str, Any] | None:
        return _read(self.folder(project_id, version) / "release.json")

    def _save(self, project_id: int, version: str, index: dict[str, Any]) -> None:
        write_whole(self.folder(project_id, version) / "release.json", orjson.dumps(index))


def _listed(index: dict[str, Any]) -> Release:
    files = [
        ReleaseFile(
            url, e["kind"], e["size"], e.get("sourcemap"), e["uploaded_at"], e.get("sha1", "")
        )
        for url, e in sorted(index.get("files", {}).items())
    ]
    return Release(index["version"], index["created_at"], files)


def _key(url: str) -> str:
    return hashlib.sha1(url.encode()).hexdigest()


def _sha1_of(path: Path) -> str:
    try:
        with path.open("rb") as file:
            return hashlib.file_digest(file, "sha1").hexdigest()
    except FileNotFoundError:
        return ""


def _described(entry: dict[str, Any], data: bytes) -> dict[str, Any]:
    headers = entry.get("headers")
    headers = headers if isinstance(headers, dict) else {}
    reference = next(
        (str(v) for k, v in headers.items() if str(k).lower() in ("sourcemap", "x-sourcemap")),
        None,
    )
    kind = entry.get("type")
    return {
        "kind": kind if isinstance(kind, str) and kind else "file",
        "size": len(data),
        "sha1": hashlib.sha1(data).hexdigest(),
        "sourcemap": reference,
        "uploaded_at": time.time(),
    }


def _read(path: Path) -> dict[str, Any] | None:
    try:
        index = orjson.loads(path.read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        return None
    return index if isinstance(index, dict) else None


def write_whole(path: Path, data: bytes) -> None:
    """Write whole or not at all (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{get_ident()}.partial")
    partial.write_bytes(data)
    partial.replace(path)
