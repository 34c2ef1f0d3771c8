"""Minified JavaScript frames → their original file, line, column and function.

At read time (decision 012): a frame whose ``debug_id`` names a bundle uploaded
for the event's project, or whose file was uploaded for the event's release (by
URL, ``releases.py``), is looked up in its source map with Sentry's own parser
(``symbolic``); the frame shown is the original one, with five lines of context
from the map's ``sourcesContent``, and the minified location kept under ``raw``.
Frames of unknown bundles stay as they came.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock
from typing import Any

from symbolic.sourcemap import SourceMapView, SourceView

from glasspane.sourcemaps.bundles import BundleStore
from glasspane.sourcemaps.releases import mapping_url, resolve_reference, url_candidates

CONTEXT_LINES = 5
RAW_KEYS = ("filename", "abs_path", "function", "lineno", "colno")

Parsed = tuple[SourceMapView, SourceView | None]


class SourceMapper:
    """Maps the frames of stored events; keeps parsed maps whose files total at most
    ``cache_bytes`` (least recently used first out)."""

    def __init__(self, bundles: BundleStore, cache_bytes: int = 256 * 1024 * 1024) -> None:
        self.bundles = bundles
        self.cache_bytes = cache_bytes
        self._cache: OrderedDict[tuple[Any, ...], tuple[Parsed, int]] = OrderedDict()
        self._cached_bytes = 0
        self._lock = Lock()

    @property
    def cached_bytes(self) -> int:
        """The size of the files of the maps kept parsed now."""
        return self._cached_bytes

    def map_event(self, project_id: int, payload: dict[str, Any]) -> dict[str, Any]:
        """The event with its exceptions' frames mapped (a new dict; ``payload`` unchanged)."""
        exceptions = payload.get("exceptions")
        if not isinstance(exceptions, list):
            return payload
        release = payload.get("release") if isinstance(payload.get("release"), str) else None
        mapped = [self._map_exception(project_id, e, release) for e in exceptions]
        return {**payload, "exceptions": mapped}

    def _map_exception(self, project_id: int, exc: Any, release: str | None) -> Any:
        frames = exc.get("frames") if isinstance(exc, dict) else None
        if not isinstance(frames, list):
            return exc
        return {**exc, "frames": [self.map_frame(project_id, f, release) for f in frames]}

    def map_frame(self, project_id: int, frame: Any, release: str | None = None) -> Any:
        """The original frame, or ``frame`` itself when it cannot be mapped."""
        if not isinstance(frame, dict):
            return frame
        where = Minified.of(frame, release)
        original = self.original(project_id, where) if where else None
        if original is None:
            return frame
        return {
            **frame,
            "filename": original.file,
            "abs_path": original.file,
            "function": original.function,
            "lineno": original.line,
            "colno": original.column,
            "raw": {k: frame.get(k) for k in RAW_KEYS},
            **({"in_app": False} if original.library else {}),
            **original.context,
        }

    def original(self, project_id: int, where: Minified) -> Original | None:
        """Where ``where`` came from in the original sources, if a map says."""
        parsed = self._parsed(project_id, where)
        if parsed is None:
            return None
        source_map, minified = parsed
        token = source_map.lookup(where.line - 1, where.column - 1, where.function, minified)
        if token is None or token.src is None:
            return None
        return Original(
            file=token.src,
            function=token.function_name or where.function,
            line=token.src_line + 1,
            column=token.src_col + 1,
            context=_context(source_map, token.src_id, token.src_line),
        )

    def _parsed(self, project_id: int, where: Minified) -> Parsed | None:
        key = where.cache_key(project_id)
        if key is None:
            return None
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key][0]
        found = self._files(project_id, where)
        parsed = _parse(*found) if found else None
        if found is None or parsed is None:  # not cached: the bundle may be uploaded later
            return None
        self._keep(key, parsed, len(found[0]) + len(found[1] or b""))
        return parsed

    def _keep(self, key: tuple[Any, ...], parsed: Parsed, size: int) -> None:
        if size > self.cache_bytes:
            return
        with self._lock:
            if key in self._cache:
                return
            self._cache[key] = (parsed, size)
            self._cached_bytes += size
            while self._cached_bytes > self.cache_bytes:
                _, (_, dropped) = self._cache.popitem(last=False)
                self._cached_bytes -= dropped

    def _files(self, project_id: int, where: Minified) -> tuple[bytes, bytes | None] | None:
        if where.debug_id is not None:
            return self.bundles.files(project_id, where.debug_id)
        if where.release is None or where.abs_path is None:
            return None
        return self._release_files(project_id, where.release, where.abs_path)

    def _release_files(
        self, project_id: int, release: str, abs_path: str
    ) -> tuple[bytes, bytes | None] | None:
        """The map of the file served at ``abs_path`` in ``release``: the file is found by
        its URL, its map by its ``Sourcemap`` header or ``sourceMappingURL`` comment."""
        artifacts = self.bundles.releases
        if not artifacts.has(project_id, release):
            return None
        for url in url_candidates(abs_path):
            found = artifacts.lookup(project_id, release, url)
            if found is None:
                continue
            minified, header = found
            reference = header or mapping_url(minified)
            if reference is None:
                return None
            source_map = artifacts.lookup(project_id, release, resolve_reference(url, reference))
            return (source_map[0], minified) if source_map else None
        return None


@dataclass(frozen=True)
class Minified:
    """A frame's location in a minified file, and what finds its map."""

    line: int
    column: int
    function: str | None
    debug_id: str | None
    release: str | None
    abs_path: str | None

    @classmethod
    def of(cls, frame: dict[str, Any], release: str | None) -> Minified | None:
        """The frame's location, or None when it has no line and column or no way to a map."""
        line, column = frame.get("lineno"), frame.get("colno")
        if not isinstance(line, int) or not isinstance(column, int) or line < 1 or column < 1:
            return None
        debug = frame.get("debug_id") if isinstance(frame.get("debug_id"), str) else None
        path = frame.get("abs_path") or frame.get("filename")
        path = path if isinstance(path, str) and path else None
        if debug is None and (release is None or path is None):
            return None
        name = frame.get("function") if isinstance(frame.get("function"), str) else None
        return cls(line, column, name, debug, release, path)

    def cache_key(self, project_id: int) -> tuple[Any, ...] | None:
        if self.debug_id is not None:
            return (project_id, "debug", self.debug_id)
        return (project_id, "release", self.release, self.abs_path)


@dataclass(frozen=True)
class Original:
    """Where a minified location came from, with its context lines."""

    file: str
    function: str | None
    line: int
    column: int
    context: dict[str, Any]

    @property
    def library(self) -> bool:
        """Whether the original file is a dependency's (under ``node_modules``), not the
        app's: the minified bundle holds both, and only the app's frames are in-app."""
        return "node_modules/" in self.file


def _parse(source_map: bytes, minified: bytes | None) -> Parsed | None:
    try:
        view = SourceMapView.from_json_bytes(source_map)
    except Exception:  # symbolic raises its own errors for maps it cannot read
        return None
    return view, SourceView.from_bytes(minified) if minified is not None else None


def _context(source_map: SourceMapView, src_id: int | None, line: int) -> dict[str, Any]:
    """The line and its neighbours from ``sourcesContent`` (nothing if the map has none)."""
    text = source_map.get_source_contents(src_id) if src_id is not None else None
    if text is None:
        return {}
    lines = text.splitlines()
    if line >= len(lines):
        return {}
    return {
        "context_line": lines[line],
        "pre_context": lines[max(0, line - CONTEXT_LINES) : line],
        "post_context": lines[line + 1 : line + 1 + CONTEXT_LINES],
    }
