"""Outgoing HTTP detectors, with Sentry's documented defaults.

``n_plus_one_api_calls``: at least ``min_calls`` ``http.client`` spans in a row
under the same parent call the same URL once masked (ids in the path and query
values hidden, see :func:`mask_url`), together taking at least ``min_total_ms``.
Calls may run one after the other or side by side; a call to another URL pattern
under the same parent ends the run.

``large_http_payload``: one ``http.client`` span (the browser's fetch and XHR)
whose response body is larger than ``min_size_bytes`` and that took at least
``min_duration_ms``. Static files (a URL ending in an extension other than
``.json``, or under ``/_next/static/`` or ``/_next/data/``) are left to the asset
detectors.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from glasspane.detectors.spans import Finding, Limits, SpanFacts, Transaction

DEFAULTS: dict[str, dict[str, float]] = {
    "n_plus_one_api_calls": {"min_calls": 10, "min_total_ms": 300.0},
    "large_http_payload": {"min_size_bytes": 300 * 1024, "min_duration_ms": 100.0},
}
_NO_TRANSACTION = Transaction()

# A whole path segment that is an id: a number, a UUID, or 8+ hex digits with at
# least one decimal digit (so a word such as "accepted" is not taken for one).
_ID_SEGMENT = re.compile(
    r"(?<=/)(?:\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|(?=[a-fA-F]*\d)[0-9a-fA-F]{8,})(?=[/?#]|$)"
)
_QUERY_VALUE = re.compile(r"=[^&#]*")


def mask_url(description: str) -> str:
    """An ``http.client`` span's description (``GET https://host/a/42?x=1``) with the
    ids in its path as ``*`` and its query values as ``*``; the fragment is dropped."""
    url, _, _ = description.strip().partition("#")
    path, sep, query = url.partition("?")
    return _ID_SEGMENT.sub("*", path) + sep + _QUERY_VALUE.sub("=*", query)


#: Clients call the same URLs again and again: mask each once (bounded).
_masked = lru_cache(maxsize=1024)(mask_url)


def _calls(spans: Sequence[SpanFacts]) -> list[SpanFacts]:
    return [s for s in spans if s.op == "http.client" and s.description]


def n_plus_one_api_calls(
    spans: Sequence[SpanFacts],
    transaction: Transaction = _NO_TRANSACTION,
    limits: Limits = DEFAULTS["n_plus_one_api_calls"],
) -> list[Finding]:
    """Runs of calls to one URL pattern, per parent span (``spans`` in start order)."""
    by_parent: dict[str | None, list[SpanFacts]] = {}
    for span in _calls(spans):
        by_parent.setdefault(span.parent_span_id, []).append(span)
    findings: list[Finding] = []
    for siblings in by_parent.values():
        if len(siblings) < limits["min_calls"]:
            continue
        run: list[SpanFacts] = []
        url = ""
        for span in sorted(siblings, key=lambda s: (s.start, s.end)):
            masked = _masked(span.description or "")
            if run and masked == url:
                run.append(span)
                continue
            findings += _finding(run, url, limits)
            run, url = [span], masked
        findings += _finding(run, url, limits)
    return findings


def _finding(run: list[SpanFacts], url: str, limits: Limits) -> list[Finding]:
    total = round(sum(s.duration_ms for s in run), 3)
    if len(run) < limits["min_calls"] or total < limits["min_total_ms"]:
        return []
    ids = tuple(s.span_id for s in run)
    return [Finding("n_plus_one_api_calls", "N+1 API Call", url, ids, len(run), total)]


# The last path segment's extension (".js", ".png"), if any: one character class
# per part, anchored at the end of the path.
_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,8})$")


def _is_static_file(url: str) -> bool:
    path = url.partition("?")[0].partition("#")[0]
    if "/_next/static/" in path or "/_next/data/" in path:
        return True
    extension = _EXTENSION.search(path[path.rfind("/") + 1 :])
    return extension is not None and extension.group(1).lower() != "json"


def large_http_payload(
    spans: Sequence[SpanFacts],
    transaction: Transaction = _NO_TRANSACTION,
    limits: Limits = DEFAULTS["large_http_payload"],
) -> list[Finding]:
    """Each outgoing HTTP call whose response body is larger than ``min_size_bytes``."""
    return [
        Finding(
            "large_http_payload",
            "Large HTTP Payload",
            _masked(s.description or ""),
            (s.span_id,),
            1,
            s.duration_ms,
            s.encoded_size,
        )
        for s in _calls(spans)
        if s.encoded_size is not None
        and s.encoded_size > limits["min_size_bytes"]
        and s.duration_ms >= limits["min_duration_ms"]
        and not _is_static_file(s.description or "")
    ]
