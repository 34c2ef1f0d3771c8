"""Grouping on original frames: one bug in two builds of a JavaScript bundle is one issue.

Normalize fingerprints the frames as the SDK sent them, and minified frames
differ from build to build (``t`` at column 48213, then ``n`` at 51007). So
when an error's frames point into a bundle already uploaded (by debug id, or
by release and URL), ingest fingerprints them again with the original file and
function from the source map, a dependency's frames (``node_modules``) not in-app
(decision 012). Only the fingerprint changes: the
event keeps the frames the SDK sent, and the read side maps them for display.
An SDK's own ``fingerprint`` is left alone, and an error that arrives before
its map groups by its minified frames, as before.
"""

from __future__ import annotations

import dataclasses
import logging

from glasspane.domain import Batch, ErrorEvent, ExceptionInfo, Frame
from glasspane.normalize.fingerprint import fingerprint
from glasspane.sourcemaps.mapping import Minified, SourceMapper

log = logging.getLogger(__name__)


def may_map(batch: Batch) -> bool:
    """Whether an error of the batch has a frame a source map might map (cheap: no I/O)."""
    return any(
        f.debug_id or (e.release and f.colno)
        for e in batch.errors
        for x in e.exceptions
        for f in x.frames
    )


def regroup(batch: Batch, mapper: SourceMapper) -> Batch:
    """The batch with each error fingerprinted on its mapped frames, where a map is known."""
    batch.errors = [_regrouped(e, mapper) for e in batch.errors]
    return batch


def _regrouped(event: ErrorEvent, mapper: SourceMapper) -> ErrorEvent:
    if event.fingerprint != fingerprint(event.exceptions, event.message):
        return event  # the SDK chose the grouping
    try:
        mapped = [_mapped(event, x, mapper) for x in event.exceptions]
    except OSError:  # a bundle being removed by retention, say: group as sent
        log.warning("source maps unreadable while grouping", exc_info=True)
        return event
    if mapped == event.exceptions:
        return event
    return dataclasses.replace(event, fingerprint=fingerprint(mapped, event.message))


def _mapped(event: ErrorEvent, exc: ExceptionInfo, mapper: SourceMapper) -> ExceptionInfo:
    frames = [_frame(event, f, mapper) for f in exc.frames]
    return exc if frames == exc.frames else dataclasses.replace(exc, frames=frames)


def _frame(event: ErrorEvent, frame: Frame, mapper: SourceMapper) -> Frame:
    where = Minified.of(
        {
            "lineno": frame.lineno,
            "colno": frame.colno,
            "function": frame.function,
            "debug_id": frame.debug_id,
            "abs_path": frame.abs_path or frame.filename,
        },
        event.release,
    )
    original = mapper.original(event.project_id, where) if where else None
    if original is None:
        return frame
    return dataclasses.replace(
        frame,
        filename=original.file,
        abs_path=original.file,
        function=original.function,
        in_app=False if original.library else frame.in_app,
    )
