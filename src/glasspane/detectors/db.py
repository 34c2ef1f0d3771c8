"""Database detectors, with Sentry's documented defaults.

``n_plus_one_db_queries``: after a *source* query, at least
:data:`N_PLUS_ONE_MIN_REPEATS` sequential, non-overlapping DB spans under the same
parent run the same statement once masked, together taking at least
:data:`N_PLUS_ONE_MIN_MS`. Truncated statements (ending in ``...``) are left out,
as Sentry does, since two of them may differ past the cut.

``slow_db_query``: one DB span longer than :data:`SLOW_DB_QUERY_MS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from glasspane.detectors.spans import Finding, SpanFacts, mask_statement

N_PLUS_ONE_MIN_REPEATS = 5
N_PLUS_ONE_MIN_MS = 50.0
SLOW_DB_QUERY_MS = 500.0

#: ORMs send the same parameterised statements again and again: mask each once.
#: Bounded: 1024 statements of at most ``max_string_length`` characters.
_masked = lru_cache(maxsize=1024)(mask_statement)


def _queries(spans: Sequence[SpanFacts]) -> list[SpanFacts]:
    return [s for s in spans if s.is_db and not (s.description or "").endswith("...")]


def n_plus_one_db_queries(spans: Sequence[SpanFacts]) -> list[Finding]:
    """Runs of one repeated statement after a source query, per parent span."""
    by_parent: dict[str | None, list[SpanFacts]] = {}
    for span in _queries(spans):
        by_parent.setdefault(span.parent_span_id, []).append(span)
    findings: list[Finding] = []
    for siblings in by_parent.values():
        if _may_repeat(siblings):
            findings += _runs(sorted(siblings, key=lambda s: (s.start, s.end)))
    return findings


def _may_repeat(siblings: list[SpanFacts]) -> bool:
    """Whether a source and a long enough run fit at all, before any statement is masked
    (most transactions fail this, and masking is the detector's cost)."""
    if len(siblings) <= N_PLUS_ONE_MIN_REPEATS:
        return False
    durations = [s.duration_ms for s in siblings]  # the run leaves out at least the source
    return sum(durations) - min(durations) >= N_PLUS_ONE_MIN_MS - 0.001


def _runs(siblings: list[SpanFacts]) -> list[Finding]:
    """The qualifying runs among one parent's queries (in start order): a run is
    broken by another statement or by a span that overlaps the previous one."""
    findings: list[Finding] = []
    run: list[SpanFacts] = []
    statement = ""
    for index, span in enumerate(siblings):
        masked = _masked(span.description or "")
        if run and masked == statement and span.start >= run[-1].end:
            run.append(span)
            continue
        findings += _finding(run, statement, has_source=index - len(run) > 0)
        run, statement = [span], masked
    findings += _finding(run, statement, has_source=len(siblings) - len(run) > 0)
    return findings


def _finding(run: list[SpanFacts], statement: str, has_source: bool) -> list[Finding]:
    total = round(sum(s.duration_ms for s in run), 3)  # to the microsecond, as stored
    if not has_source or len(run) < N_PLUS_ONE_MIN_REPEATS or total < N_PLUS_ONE_MIN_MS:
        return []
    ids = tuple(s.span_id for s in run)
    return [Finding("n_plus_one_db_queries", "N+1 Query", statement, ids, len(run), total)]


def slow_db_query(spans: Sequence[SpanFacts]) -> list[Finding]:
    """Each DB span slower than :data:`SLOW_DB_QUERY_MS`."""
    return [
        Finding(
            "slow_db_query",
            "Slow DB Query",
            mask_statement(s.description or ""),
            (s.span_id,),
            1,
            s.duration_ms,
        )
        for s in _queries(spans)
        if round(s.duration_ms, 3) > SLOW_DB_QUERY_MS
    ]
