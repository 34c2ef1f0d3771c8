"""Artifact bundles as ``sentry-cli sourcemaps upload`` sends them, kept on disk.

The upload comes in two steps (Sentry's chunk-upload protocol): the chunks of a
bundle, each named by its SHA-1, then an *assemble* request naming the bundle's
SHA-1 and its chunks in order. Assembling checks every checksum, opens the zip
(its ``manifest.json`` lists the files with their ``debug-id`` headers) and keeps
each source map and minified file under its debug id, per project::

    DATA_DIR/sourcemaps/chunks/<sha1>
    DATA_DIR/sourcemaps/<project id>/<debug id>.map   (and .js, the minified file)

A debug id is a UUID the CLI writes into the minified file and its map, so an
event's ``debug_meta`` finds the map without releases or URLs. A bundle uploaded
``--release`` (the manifest names the release) is also kept as that release's
files, found by URL (``releases.py``).
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from glasspane.errors import LimitExceeded, ProtocolError
from glasspane.sourcemaps.releases import ReleaseArtifacts, write_whole

SHA1 = re.compile(r"[0-9a-f]{40}")
KINDS = {"source_map": ".map", "minified_source": ".js"}


@dataclass(frozen=True)
class Bundle:
    """An uploaded bundle as listed: its debug id, its files' kinds and sizes, when."""

    debug_id: str
    files: dict[str, int]
    uploaded_at: float


@dataclass(frozen=True)
class Assembled:
    """The answer to an assemble request: ``ok``, or ``not_found`` with the chunks to send."""

    state: str
    missing: list[str]
    files: int = 0


def checksum(value: Any, what: str) -> str:
    """A lowercase SHA-1 hex digest, else :class:`ProtocolError` naming ``what``."""
    if not isinstance(value, str) or not SHA1.fullmatch(value.lower()):
        raise ProtocolError(f"{what} must be a SHA-1 checksum (40 hex digits), got {value!r:.60}")
    return value.lower()


def debug_id(value: Any) -> str | None:
    """A debug id in its canonical form (lowercase UUID), or None if it is not one."""
    try:
        return str(uuid.UUID(str(value)[:64]))
    except ValueError:
        return None


class BundleStore:
    """Chunks and bundles under ``root``; ``max_bundle_size`` bounds a bundle both
    assembled and unpacked, ``chunk_size`` each chunk (both in bytes)."""

    def __init__(self, root: Path, max_bundle_size: int, chunk_size: int) -> None:
        self.root = root
        self.max_bundle_size = max_bundle_size
        self.chunk_size = chunk_size
        self.chunks = root / "chunks"
        self.releases = ReleaseArtifacts(root)

    def save_chunk(self, name: str, data: bytes) -> None:
        """Keep one chunk; its name must be the SHA-1 of its bytes."""
        expected = checksum(name, "A chunk's file name")
        if len(data) > self.chunk_size:
            raise LimitExceeded(
                f"Chunk {expected} has {len(data)} bytes, more than the chunk size "
                f"{self.chunk_size} (setting sourcemap_chunk_size)"
            )
        actual = hashlib.sha1(data).hexdigest()
        if actual != expected:
            raise ProtocolError(f"Chunk named {expected} has the SHA-1 {actual}: corrupted upload")
        write_whole(self.chunks / expected, data)

    def assemble(
        self,
        project_ids: list[int],
        bundle_sha1: str,
        chunk_ids: list[str],
        release: str | None = None,
    ) -> Assembled:
        """Join the chunks into the bundle and keep its files for each project, and for
        ``release`` (else the one its manifest names) if any; or say which chunks are missing."""
        missing = [c for c in chunk_ids if not (self.chunks / c).is_file()]
        if missing:
            return Assembled("not_found", missing)
        data = self._join(chunk_ids)
        actual = hashlib.sha1(data).hexdigest()
        if actual != bundle_sha1:
            raise ProtocolError(f"The chunks make a bundle with SHA-1 {actual}, not {bundle_sha1}")
        files = sum(self._unpack(project_id, data, release) for project_id in project_ids)
        for c in chunk_ids:
            (self.chunks / c).unlink(missing_ok=True)
        return Assembled("ok", [], files)

    def _join(self, chunk_ids: list[str]) -> bytes:
        out = bytearray()
        for c in chunk_ids:
            out += (self.chunks / c).read_bytes()
            if len(out) > self.max_bundle_size:
                raise LimitExceeded(_too_large(len(out), self.max_bundle_size))
        return bytes(out)

    def _unpack(self, project_id: int, data: bytes, release: str | None) -> int:
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            unpacked = sum(info.file_size for info in archive.infolist())
            if unpacked > self.max_bundle_size:
                raise LimitExceeded(_too_large(unpacked, self.max_bundle_size))
            manifest = orjson.loads(archive.read("manifest.json"))
            entries = manifest.get("files") if isinstance(manifest, dict) else None
            if not isinstance(entries, dict):
                raise ProtocolError("The bundle's manifest.json has no files object")
            release = release or manifest.get("release")
            if isinstance(release, str) and release:
                self._keep_release(project_id, release, archive, entries)
            return self._keep_files(project_id, archive, entries)
        except (zipfile.BadZipFile, KeyError, orjson.JSONDecodeError) as exc:
            raise ProtocolError(f"The bundle is not an artifact bundle: {exc}") from None

    def _keep_files(
        self, project_id: int, archive: zipfile.ZipFile, entries: dict[str, Any]
    ) -> int:
        kept = 0
        for path, entry in entries.items():
            entry = entry if isinstance(entry, dict) else {}
            headers = entry.get("headers")
            headers = headers if isinstance(headers, dict) else {}
            suffix = KINDS.get(entry.get("type", ""))
            found = debug_id(_header(headers, "debug-id"))
            if suffix and found:
                write_whole(self.root / str(project_id) / f"{found}{suffix}", archive.read(path))
                kept += 1
        return kept

    def _keep_release(
        self, project_id: int, release: str, archive: zipfile.ZipFile, entries: dict[str, Any]
    ) -> None:
        files = [
            (entry["url"], entry, archive.read(path))
            for path, entry in entries.items()
            if isinstance(entry, dict) and isinstance(entry.get("url"), str) and entry["url"]
        ]
        self.releases.keep(project_id, release[:200], files)

    def bundles(self, project_id: int) -> list[Bundle]:
        """The project's debug-id bundles, newest first."""
        by_id: dict[str, dict[str, int]] = {}
        when: dict[str, float] = {}
        for path in (self.root / str(project_id)).glob("*-*-*-*-*.*"):
            try:
                stat = path.stat()
            except FileNotFoundError:  # removed meanwhile (the retention sweep)
                continue
            by_id.setdefault(path.stem, {})[path.suffix.lstrip(".")] = stat.st_size
            when[path.stem] = max(when.get(path.stem, 0.0), stat.st_mtime)
        found = [Bundle(d, files, when[d]) for d, files in by_id.items()]
        return sorted(found, key=lambda b: b.uploaded_at, reverse=True)

    def remove_older(self, cutoff: float) -> int:
        """Remove every project's bundles and releases uploaded before ``cutoff`` (a
        timestamp), and chunks left unassembled; how many bundles and releases went."""
        removed = 0
        for chunk in self.chunks.glob("*") if self.chunks.is_dir() else []:
            try:
                old = chunk.stat().st_mtime < cutoff
            except FileNotFoundError:  # assembled or swept meanwhile
                continue
            if old:
                chunk.unlink(missing_ok=True)
        for folder in self.root.glob("[0-9]*"):
            project_id = int(folder.name) if folder.name.isdigit() else None
            if project_id is None:
                continue
            for bundle in self.bundles(project_id):
                if bundle.uploaded_at < cutoff:
                    for suffix in bundle.files:
                        (folder / f"{bundle.debug_id}.{suffix}").unlink(missing_ok=True)
                    removed += 1
            removed += self.releases.remove_older(project_id, cutoff)
        return removed

    def files(self, project_id: int, debug: str) -> tuple[bytes, bytes | None] | None:
        """The source map and minified file kept under ``debug`` for the project, if any."""
        found = debug_id(debug)
        if found is None:
            return None
        folder = self.root / str(project_id)
        try:
            source_map = (folder / f"{found}.map").read_bytes()
        except FileNotFoundError:
            return None
        minified = folder / f"{found}.js"
        return source_map, minified.read_bytes() if minified.is_file() else None


def _header(headers: dict[str, Any], name: str) -> Any:
    return next((v for k, v in headers.items() if str(k).lower() == name), None)


def _too_large(size: int, limit: int) -> str:
    return f"The bundle has {size} bytes, more than {limit} (setting sourcemap_max_bundle_size)"
