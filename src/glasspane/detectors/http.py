"""Outgoing HTTP detectors, with Sentry's documented defaults.

``n_plus_one_api_calls``: at least :data:`N_PLUS_ONE_API_MIN_CALLS` ``http.client``
spans in a row under the same parent call the same URL once masked (ids in the
path and query values hidden, see :func:`mask_url`), together taking at least
:data:`N_PLUS_ONE_API_MIN_MS`. Calls may run one after the other or side by side;
a call to another URL pattern under the same parent ends the run.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from glasspane.detectors.spans import Finding, SpanFacts

N_PLUS_ONE_API_MIN_CALLS = 10
N_PLUS_ONE_API_MIN_MS = 300.0

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


def n_plus_one_api_calls(spans: Sequence[SpanFacts]) -> list[Finding]:
    """Runs of calls to one URL pattern, per parent span (``spans`` in start order)."""
    by_parent: dict[str | None, list[SpanFacts]] = {}
    for span in _calls(spans):
        by_parent.setdefault(span.parent_span_id, []).append(span)
    findings: list[Finding] = []
    for siblings in by_parent.values():
        if len(siblings) < N_PLUS_ONE_API_MIN_CALLS:
            continue
        run: list[SpanFacts] = []
        url = ""
        for span in sorted(siblings, key=lambda s: (s.start, s.end)):
            masked = _masked(span.description or "")
            if run and masked == url:
                run.append(span)
                continue
            findings += _finding(run, url)
            run, url = [span], masked
        findings += _finding(run, url)
    return findings


def _finding(run: list[SpanFacts], url: str) -> list[Finding]:
    total = round(sum(s.duration_ms for s in run), 3)
    if len(run) < N_PLUS_ONE_API_MIN_CALLS or total < N_PLUS_ONE_API_MIN_MS:
        return []
    ids = tuple(s.span_id for s in run)
    return [Finding("n_plus_one_api_calls", "N+1 API Call", url, ids, len(run), total)]
