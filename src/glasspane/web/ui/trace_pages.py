"""The trace waterfall and the search results."""

from __future__ import annotations

import re
import time
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from glasspane.errors import ProtocolError
from glasspane.normalize.enrich import describe_client
from glasspane.query import issues, performance, profiles, trace_compare
from glasspane.query.traces import get_trace, matching_spans, normalize_trace_id
from glasspane.web.deps import instance_of
from glasspane.web.ui import waterfall
from glasspane.web.ui.render import page
from glasspane.web.ui.session import LoggedIn

router = APIRouter(include_in_schema=False)
SEARCH_LIMIT = 100
#: At most this many span ids in ``highlight`` (a performance issue names its run's spans).
HIGHLIGHT_LIMIT = 1000
_SPAN_ID = re.compile(r"[0-9a-f]{16}")


def parse_highlight(text: str | None) -> set[str]:
    """The span ids of ``?highlight=ID,ID,...`` (16 hex digits each); bad ones are a 400."""
    ids = {part.strip().lower() for part in (text or "").split(",") if part.strip()}
    if len(ids) > HIGHLIGHT_LIMIT:
        raise ProtocolError(f"highlight names more than {HIGHLIGHT_LIMIT} spans")
    bad = sorted(i for i in ids if not _SPAN_ID.fullmatch(i))
    if bad:
        raise ProtocolError(f"highlight: {bad[0][:40]!r} is not a span id (16 hex digits)")
    return ids


def _root(trace: dict[str, Any]) -> dict[str, Any] | None:
    """The trace's first segment (the request as the first service saw it)."""
    segments = [s for s in trace["spans"] if s.get("is_transaction") and not s.get("orphan")]
    segments = segments or [s for s in trace["spans"] if s.get("is_transaction")]
    return min(segments, key=lambda s: s["start_timestamp"]) if segments else None


def _client(trace: dict[str, Any], root: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """The user's browser and OS, from the root segment or else the first segment with
    a browser (a backend's OS is not the user's): the SDK's contexts, else the
    User-Agent parsed."""
    segments = [s for s in trace["spans"] if s.get("is_transaction")]
    for segment in [root, *segments] if root else segments:
        browser, os_name = describe_client(
            segment.get("contexts"), segment.get("request"), segment.get("data")
        )
        if browser:
            return browser, os_name
    return None, None


@router.get("/traces/compare")
def compare_page(
    request: Request, session: LoggedIn, a: str | None = None, b: str | None = None
) -> HTMLResponse:
    """Two traces' spans aligned; with one id or none, the form to name the other."""
    compared = None
    if a and a.strip() and b and b.strip():
        instance = instance_of(request)
        compared = trace_compare.compare_traces(instance.store, instance.projects(), a, b)
        scale = max(compared["a"]["duration_ms"], compared["b"]["duration_ms"], 0.001)
        for row in compared["rows"]:
            row["bars"] = {side: _bar(row[side], scale) for side in ("a", "b")}
    return page(
        request,
        "trace_compare.html",
        session=session,
        nav="performance",
        a=(a or "").strip(),
        b=(b or "").strip(),
        compared=compared,
    )


def _bar(side: dict[str, Any] | None, scale_ms: float) -> tuple[float, float] | None:
    """A span's (x, width) on a 0-100 axis of the longer trace (at least a sliver)."""
    if side is None:
        return None
    x = min(max(side["offset_ms"] / scale_ms * 100, 0.0), 100.0)
    return round(x, 2), round(max(side["duration_ms"] / scale_ms * 100, 0.4), 2)


@router.get("/traces/{trace_id}")
def trace_page(
    request: Request,
    trace_id: str,
    session: LoggedIn,
    span: str | None = None,
    query: str | None = None,
    highlight: str | None = None,
) -> HTMLResponse:
    """The waterfall; with ``query``, the spans meeting its span-level terms are marked,
    and so are the spans named in ``highlight`` (a performance issue's evidence)."""
    highlighted = parse_highlight(highlight)
    instance = instance_of(request)
    trace = get_trace(instance.store, instance.projects(), trace_id, instance.sourcemaps)
    matched: set[str] = set()
    query_error = None
    if query and query.strip():
        try:
            matched = matching_spans(instance.store, trace_id, query)
        except ProtocolError as exc:  # QueryError too: the page still shows the trace
            query_error = str(exc)
    highlighted &= {s["span_id"] for s in trace["spans"]}
    matched |= highlighted
    if span is None and matched:
        span = next((s["span_id"] for s in trace["spans"] if s["span_id"] in matched), None)
    view = waterfall.build(trace, span, now=time.time())
    root = _root(trace)
    browser, os_name = _client(trace, root)
    return page(
        request,
        "trace.html",
        session=session,
        nav="performance",
        trace=trace,
        view=view,
        root=root,
        browser=browser,
        os_name=os_name,
        custom_contexts=waterfall.custom_contexts,
        profile_of=profiles.of_trace(instance.store, trace["trace_id"]),
        query=(query or "").strip(),
        matched=matched,
        highlighted=highlighted,
        query_error=query_error,
    )


@router.get("/search")
def search_page(
    request: Request,
    session: LoggedIn,
    query: str | None = None,
    period: str | None = None,
) -> Response:
    """Traces and issues matching a query; a bare trace id opens that trace."""
    text = (query or "").strip()
    try:
        return RedirectResponse(f"/traces/{normalize_trace_id(text)}", status_code=303)
    except ProtocolError:
        pass
    instance = instance_of(request)
    w = performance.window(query, period)
    found = performance.traces(instance.store, w, "-timestamp", SEARCH_LIMIT)["traces"]
    issue_error = None
    try:
        matched = issues.list_issues(instance.store, instance.projects(), w, "-last_seen", 50)
    except ProtocolError as exc:  # a key that only spans have, such as transaction.duration
        matched, issue_error = {"issues": []}, str(exc)
    return page(
        request,
        "search.html",
        session=session,
        nav="search",
        traces=found,
        limit=SEARCH_LIMIT,
        issues=matched["issues"],
        issue_error=issue_error,
    )
