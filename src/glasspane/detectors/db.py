"""Database detectors, with Sentry's documented defaults (:data:`DEFAULTS`).

``n_plus_one_db_queries``: after a *source* query, at least ``min_repeats``
sequential, non-overlapping DB spans under the same parent run the same statement
once masked, together taking at least ``min_total_ms``. Truncated statements
(ending in ``...``) are left out, as Sentry does, since two of them may differ
past the cut.

``slow_db_query``: one DB span longer than ``min_duration_ms``.

``consecutive_db_queries``: among sequential, non-overlapping sibling DB spans,
the *independent* ones (a ``SELECT`` with no ``WHERE`` and no parameters, not the
first of the sequence, each at least ``min_span_ms``) could all have run beside
the others. The sequence is found when doing so would save at least
``min_time_saved_ms`` and at least ``min_time_saved_ratio`` of the sequence's time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from glasspane.detectors.spans import Finding, Limits, SpanFacts, Transaction, mask_statement

DEFAULTS: dict[str, dict[str, float]] = {
    "n_plus_one_db_queries": {"min_repeats": 5, "min_total_ms": 50.0},
    "slow_db_query": {"min_duration_ms": 500.0},
    "consecutive_db_queries": {
        "min_time_saved_ms": 100.0,
        "min_time_saved_ratio": 0.1,
        "min_span_ms": 30.0,
    },
}
_NO_TRANSACTION = Transaction()

#: ORMs send the same parameterised statements again and again: mask each once.
#: Bounded: 1024 statements of at most ``max_string_length`` characters.
_masked = lru_cache(maxsize=1024)(mask_statement)


def _queries(spans: Sequence[SpanFacts]) -> list[SpanFacts]:
    return [s for s in spans if s.is_db and not (s.description or "").endswith("...")]


def _by_parent(spans: Sequence[SpanFacts]) -> list[list[SpanFacts]]:
    """The queries among ``spans`` per parent span, each list in start order."""
    by_parent: dict[str | None, list[SpanFacts]] = {}
    for span in _queries(spans):
        by_parent.setdefault(span.parent_span_id, []).append(span)
    return [sorted(group, key=lambda s: (s.start, s.end)) for group in by_parent.values()]


def n_plus_one_db_queries(
    spans: Sequence[SpanFacts],
    transaction: Transaction = _NO_TRANSACTION,
    limits: Limits = DEFAULTS["n_plus_one_db_queries"],
) -> list[Finding]:
    """Runs of one repeated statement after a source query, per parent span."""
    findings: list[Finding] = []
    for siblings in _by_parent(spans):
        if _may_repeat(siblings, limits):
            findings += _runs(siblings, limits)
    return findings


def _may_repeat(siblings: list[SpanFacts], limits: Limits) -> bool:
    """Whether a source and a long enough run fit at all, before any statement is masked
    (most transactions fail this, and masking is the detector's cost)."""
    if len(siblings) <= limits["min_repeats"]:
        return False
    durations = [s.duration_ms for s in siblings]  # the run leaves out at least the source
    return sum(durations) - min(durations) >= limits["min_total_ms"] - 0.001


def _runs(siblings: list[SpanFacts], limits: Limits) -> list[Finding]:
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
        findings += _finding(run, statement, index - len(run) > 0, limits)
        run, statement = [span], masked
    findings += _finding(run, statement, len(siblings) - len(run) > 0, limits)
    return findings


def _finding(
    run: list[SpanFacts], statement: str, has_source: bool, limits: Limits
) -> list[Finding]:
    total = round(sum(s.duration_ms for s in run), 3)  # to the microsecond, as stored
    if not has_source or len(run) < limits["min_repeats"] or total < limits["min_total_ms"]:
        return []
    ids = tuple(s.span_id for s in run)
    return [Finding("n_plus_one_db_queries", "N+1 Query", statement, ids, len(run), total)]


def slow_db_query(
    spans: Sequence[SpanFacts],
    transaction: Transaction = _NO_TRANSACTION,
    limits: Limits = DEFAULTS["slow_db_query"],
) -> list[Finding]:
    """Each DB span slower than ``min_duration_ms``."""
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
        if round(s.duration_ms, 3) > limits["min_duration_ms"]
    ]


# Independent of what came before: a plain SELECT with no WHERE and no parameter.
# Each pattern is a single word or token: linear in the statement.
_SELECT = re.compile(r"\s*select\b", re.IGNORECASE)
_WHERE = re.compile(r"\bwhere\b", re.IGNORECASE)
_PARAMETER = re.compile(r"\?|%s|%\(\w+\)s|\$\d|:\w")


def _independent(statement: str) -> bool:
    return (
        _SELECT.match(statement) is not None
        and _WHERE.search(statement) is None
        and _PARAMETER.search(statement) is None
    )


def consecutive_db_queries(
    spans: Sequence[SpanFacts],
    transaction: Transaction = _NO_TRANSACTION,
    limits: Limits = DEFAULTS["consecutive_db_queries"],
) -> list[Finding]:
    """Sequences of sibling queries whose independent members could run in parallel."""
    findings: list[Finding] = []
    for siblings in _by_parent(spans):
        sequence: list[SpanFacts] = []
        for span in siblings:
            if sequence and span.start < sequence[-1].end:  # overlapping: already parallel
                findings += _consecutive(sequence, limits)
                sequence = []
            sequence.append(span)
        findings += _consecutive(sequence, limits)
    return findings


def _consecutive(sequence: list[SpanFacts], limits: Limits) -> list[Finding]:
    """The finding in one sequence of non-overlapping queries, if running its
    independent queries beside the rest saves enough time."""
    independent = [
        s
        for s in sequence[1:]
        if s.duration_ms >= limits["min_span_ms"] and _independent(s.description or "")
    ]
    if not independent:
        return []
    total = sum(s.duration_ms for s in sequence)
    dependent = total - sum(s.duration_ms for s in independent)
    # In parallel, the sequence takes as long as the dependent chain or the
    # longest independent query, whichever is longer.
    saved = round(total - max(dependent, max(s.duration_ms for s in independent)), 3)
    if saved < limits["min_time_saved_ms"] or saved < limits["min_time_saved_ratio"] * total:
        return []
    statement = "; ".join(dict.fromkeys(_masked(s.description or "") for s in independent))
    ids = tuple(s.span_id for s in sequence)
    return [
        Finding(
            "consecutive_db_queries",
            "Consecutive DB Queries",
            statement,
            ids,
            len(independent),
            saved,
        )
    ]
