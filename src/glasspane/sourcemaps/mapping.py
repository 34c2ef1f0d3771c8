"""Minified JavaScript frames → their original file, line, column and function.

At read time (decision 012): a frame whose ``debug_id`` names a bundle uploaded
for the event's project is looked up in its source map with Sentry's own parser
(``symbolic``); the frame shown is the original one, with five lines of context
from the map's ``sourcesContent``, and the minified location kept under ``raw``.
Frames of unknown bundles stay as they came.
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock
from typing import Any

from symbolic.sourcemap import SourceMapView, SourceView

from glasspane.sourcemaps.bundles import BundleStore

CONTEXT_LINES = 5
RAW_KEYS = ("filename", "abs_path", "function", "lineno", "colno")

Parsed = tuple[SourceMapView, SourceView | None]


class SourceMapper:
    """Maps the frames of stored events; keeps at most ``cached`` parsed maps."""

    def __init__(self, bundles: BundleStore, cached: int = 32) -> None:
        self.bundles = bundles
        self.cached = cached
        self._cache: OrderedDict[tuple[int, str], Parsed] = OrderedDict()
        self._lock = Lock()

    def map_event(self, project_id: int, payload: dict[str, Any]) -> dict[str, Any]:
        """The event with its exceptions' frames mapped (a new dict; ``payload`` unchanged)."""
        exceptions = payload.get("exceptions")
        if not isinstance(exceptions, list):
            return payload
        mapped = [self._map_exception(project_id, e) for e in exceptions]
        return {**payload, "exceptions": mapped}

    def _map_exception(self, project_id: int, exc: Any) -> Any:
        frames = exc.get("frames") if isinstance(exc, dict) else None
        if not isinstance(frames, list):
            return exc
        return {**exc, "frames": [self.map_frame(project_id, f) for f in frames]}

    def map_frame(self, project_id: int, frame: Any) -> Any:
        """The original frame, or ``frame`` itself when it cannot be mapped."""
        if not isinstance(frame, dict) or not isinstance(frame.get("debug_id"), str):
            return frame
        line, column = frame.get("lineno"), frame.get("colno")
        if not isinstance(line, int) or not isinstance(column, int) or line < 1 or column < 1:
            return frame
        parsed = self._parsed(project_id, frame["debug_id"])
        if parsed is None:
            return frame
        source_map, minified = parsed
        name = frame.get("function") if isinstance(frame.get("function"), str) else None
        token = source_map.lookup(line - 1, column - 1, name, minified)
        if token is None or token.src is None:
            return frame
        original = {
            **frame,
            "filename": token.src,
            "abs_path": token.src,
            "function": token.function_name or name,
            "lineno": token.src_line + 1,
            "colno": token.src_col + 1,
            "raw": {k: frame.get(k) for k in RAW_KEYS},
        }
        return original | _context(source_map, token.src_id, token.src_line)

    def _parsed(self, project_id: int, debug: str) -> Parsed | None:
        key = (project_id, debug)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        parsed = self._parse(project_id, debug)
        if parsed is None:  # not cached: the bundle may be uploaded later
            return None
        with self._lock:
            self._cache[key] = parsed
            while len(self._cache) > self.cached:
                self._cache.popitem(last=False)
        return parsed

    def _parse(self, project_id: int, debug: str) -> Parsed | None:
        found = self.bundles.files(project_id, debug)
        if found is None:
            return None
        source_map, minified = found
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
