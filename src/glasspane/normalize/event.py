"""An ``event`` item (error or message) → :class:`ErrorEvent`."""

from __future__ import annotations

import uuid
from typing import Any

from glasspane.domain import ErrorEvent, ExceptionInfo, Frame, Location
from glasspane.errors import ItemError
from glasspane.normalize import enrich
from glasspane.normalize.context import IngestContext
from glasspane.normalize.fingerprint import fingerprint
from glasspane.normalize.values import (
    mapping,
    optional_hex_id,
    string_tags,
    text,
    timestamp,
)

LEVELS = frozenset({"fatal", "error", "warning", "info", "debug"})


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _lines(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _debug_ids(payload: dict[str, Any]) -> dict[str, str]:
    """File URL → debug id, from the ``sourcemap`` images of ``debug_meta``."""
    images = mapping(payload.get("debug_meta")).get("images")
    found = {}
    for image in images if isinstance(images, list) else []:
        image = mapping(image)
        code_file, debug_id = text(image.get("code_file")), text(image.get("debug_id"))
        if image.get("type") == "sourcemap" and code_file and debug_id:
            found[code_file] = debug_id
    return found


def _frame(raw: Any, debug_ids: dict[str, str]) -> Frame:
    raw = mapping(raw)
    in_app = raw.get("in_app")
    abs_path = text(raw.get("abs_path"))
    filename = text(raw.get("filename"))
    return Frame(
        filename=filename,
        abs_path=abs_path,
        function=text(raw.get("function")),
        module=text(raw.get("module")),
        lineno=_int(raw.get("lineno")),
        colno=_int(raw.get("colno")),
        in_app=in_app if isinstance(in_app, bool) else None,
        context_line=text(raw.get("context_line")),
        pre_context=_lines(raw.get("pre_context")),
        post_context=_lines(raw.get("post_context")),
        vars=mapping(raw.get("vars")),
        debug_id=debug_ids.get(abs_path or filename or ""),
    )


def _exceptions(payload: dict[str, Any]) -> list[ExceptionInfo]:
    raw = payload.get("exception")
    values = raw.get("values") if isinstance(raw, dict) else raw
    out = []
    debug_ids = _debug_ids(payload)
    for value in values if isinstance(values, list) else []:
        value = mapping(value)
        frames = mapping(value.get("stacktrace")).get("frames")
        out.append(
            ExceptionInfo(
                type=text(value.get("type")),
                value=text(value.get("value")),
                module=text(value.get("module")),
                mechanism=mapping(value.get("mechanism")),
                frames=[_frame(f, debug_ids) for f in frames] if isinstance(frames, list) else [],
            )
        )
    return out


def _message(payload: dict[str, Any]) -> str | None:
    for key in ("logentry", "message"):
        value = payload.get(key)
        if isinstance(value, dict):
            value = value.get("formatted") or value.get("message")
        if isinstance(value, str) and value:
            return value
    return None


def _location(exceptions: list[ExceptionInfo]) -> Location | None:
    """The crashing frame (last), preferring the innermost in-app one."""
    if not exceptions or not exceptions[-1].frames:
        return None
    frames = exceptions[-1].frames
    frame = next((f for f in reversed(frames) if f.in_app), frames[-1])
    return Location(
        file=frame.filename or frame.abs_path, line=frame.lineno, function=frame.function
    )


def _breadcrumbs(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        value = value.get("values")
    return [b for b in value if isinstance(b, dict)] if isinstance(value, list) else []


def normalize_event(payload: dict[str, Any], ctx: IngestContext, what: str) -> ErrorEvent:
    if not isinstance(payload, dict):
        raise ItemError(f"{what} must be a JSON object")
    exceptions = _exceptions(payload)
    message = _message(payload)
    contexts = mapping(payload.get("contexts"))
    trace = mapping(contexts.get("trace"))
    location = _location(exceptions)
    last = exceptions[-1] if exceptions else None
    if last:
        kind = last.type or "Error"
        title = f"{kind}: {last.value}" if last.value else kind
    else:
        title = message or "<no message>"
    level = text(payload.get("level")) or "error"
    event_id = (
        optional_hex_id(payload.get("event_id") or ctx.envelope_event_id, 32, f"{what} event_id")
        or uuid.uuid4().hex
    )
    raw_ts = payload.get("timestamp")
    user = ctx.user(payload.get("user"))
    return ErrorEvent(
        project_id=ctx.project_id,
        event_id=event_id,
        timestamp=ctx.received_at if raw_ts is None else timestamp(raw_ts, f"{what} timestamp"),
        received_at=ctx.received_at,
        level=level if level in LEVELS else "error",
        platform=text(payload.get("platform")),
        trace_id=optional_hex_id(trace.get("trace_id"), 32, f"{what} contexts.trace.trace_id"),
        span_id=optional_hex_id(trace.get("span_id"), 16, f"{what} contexts.trace.span_id"),
        transaction=text(payload.get("transaction")),
        message=message,
        exceptions=exceptions,
        fingerprint=fingerprint(exceptions, message, payload.get("fingerprint")),
        title=title[:1000],
        culprit=f"{location.file} in {location.function}"
        if location
        else text(payload.get("transaction")),
        location=location,
        service=ctx.service,
        breadcrumbs=_breadcrumbs(payload.get("breadcrumbs")),
        contexts=contexts,
        tags=string_tags(payload.get("tags")),
        extra=mapping(payload.get("extra")),
        user=user,
        client=enrich.from_event(payload, user.ip_address),
        release=text(payload.get("release")),
        environment=text(payload.get("environment")),
        request=mapping(payload.get("request")),
        sdk=mapping(payload.get("sdk")),
    )
