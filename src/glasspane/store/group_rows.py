"""A write group's rows: the batches of one group as the rows of each table.

Both backends insert what :func:`group_rows` assembles, so a column or a table
is added in one place. Each backend keeps what is its own: the insert (DuckDB
registers Arrow tables inside its transaction, ClickHouse sends one INSERT per
table) and the issue-id policy, passed in as ``issue_id`` (DuckDB numbers new
issues from a counter, ClickHouse hashes the fingerprint so every process
agrees). Replays, sessions, check-ins, feedback and profiles are assembled by
:func:`glasspane.store.sdk_rows.tables`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from glasspane.detectors import ProjectThresholds
from glasspane.domain import Batch
from glasspane.store.findings import WaitingChildren, performance_events
from glasspane.store.rows import (
    ERROR_COLUMNS,
    IS_SEGMENT,
    LOG_COLUMNS,
    METRIC_COLUMNS,
    OUTCOME_COLUMNS,
    SPAN_COLUMNS,
    error_row,
    log_row,
    metric_row,
    outcome_row,
    span_row,
)

Row = tuple[Any, ...]


@dataclass
class GroupRows:
    spans: list[Row]
    errors: list[Row]
    outcomes: list[Row]
    logs: list[Row]
    metrics: list[Row]
    #: Every issue the error rows point at: issue id → (project id, fingerprint).
    issues: dict[int, tuple[int, str]]
    #: Journal positions the group covers (segment file name → offset; -1: forgotten).
    checkpoint: dict[str, int]

    def tables(self) -> list[tuple[str, tuple[str, ...], list[Row]]]:
        """``(table, columns, rows)`` for each table, in the order the backends insert them;
        ``segments`` is the copy of the segment spans (the transactions)."""
        return [
            ("spans", SPAN_COLUMNS, self.spans),
            ("segments", SPAN_COLUMNS, [row for row in self.spans if row[IS_SEGMENT]]),
            ("errors", ERROR_COLUMNS, self.errors),
            ("outcomes", OUTCOME_COLUMNS, self.outcomes),
            ("logs", LOG_COLUMNS, self.logs),
            ("metrics", METRIC_COLUMNS, self.metrics),
        ]


def group_rows(
    batches: Sequence[Batch],
    now: float,
    issue_id: Callable[[int, str], int],
    thresholds: Mapping[int, ProjectThresholds] | None = None,
    waiting: WaitingChildren | None = None,
) -> GroupRows:
    """The rows of ``batches``, received at ``now``; ``issue_id(project id, fingerprint)``
        is the backend's issue-id policy, asked once per error event. The transactions
    among the spans go through the performance detectors; what they find is stored
    as events of category ``performance`` (``store/findings.py``), with each
    project's own ``thresholds``; ``waiting`` holds children whose segment comes in a
    later group (the writer's, kept between groups)."""
    spans = [span_row(s, now) for b in batches for s in b.spans]
    spans += [row for b in batches for row in b.span_rows]
    outcomes = [outcome_row(o) for b in batches for o in b.outcomes]
    logs = [log_row(r, now) for b in batches for r in b.logs]
    metrics = [metric_row(p, now) for b in batches for p in b.metrics]
    errors: list[Row] = []
    issues: dict[int, tuple[int, str]] = {}
    found = performance_events(spans, now, thresholds, waiting)
    for event in [*(e for b in batches for e in b.errors), *found]:
        ident = issue_id(event.project_id, event.fingerprint)
        errors.append(error_row(event, ident))
        issues[ident] = (event.project_id, event.fingerprint)
    checkpoint: dict[str, int] = {}
    for batch in batches:
        checkpoint.update(batch.checkpoint)
    return GroupRows(spans, errors, outcomes, logs, metrics, issues, checkpoint)
