"""The search compiler's SQL, per dialect, against snapshot files.

``tests/store/test_search_sql.py`` checks what the SQL finds on every backend;
this checks what the SQL *is*, so a change to the compiler shows up in review
as a diff of ``snapshots/search_sql.<dialect>.sql`` for DuckDB and ClickHouse
side by side. After an intended change, rewrite the snapshots with
``GLASSPANE_UPDATE_SNAPSHOTS=1 pytest tests/unit/test_search_sql_snapshots.py``
and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from glasspane.query.search import parse
from glasspane.store import attribute_where
from glasspane.store.search_keys import CLICKHOUSE, DUCKDB, Dialect
from glasspane.store.where import compile_errors, compile_segments, compile_spans

SNAPSHOTS = Path(__file__).parent / "snapshots"
NOW = 1_700_000_000.0

SPAN_QUERIES = [
    "",
    "transaction:uploadDocument",
    "transaction:*DOC*",
    "!transaction:[login,registerOnBlockchain]",
    "service:frontend environment:staging",
    "project:sh*",
    "user.email:demo@test.com",
    "!user.id:42",
    "http.status_code:>=500",
    "transaction.duration:>1.5s",
    "span.duration:<=200ms",
    "timestamp:-15m",
    "browser.name:Firefox OR os.name:Linux",
    "(service:api OR service:web) !status:ok",
    "tags[customer]:acme",
    "has:user.email",
    "!has:release",
    "checkout failed",
    "trace.status:error",
]
#: Over transactions: span-level terms go through the spans (grouped per AND).
SEGMENT_QUERIES = [
    "span.op:blockchain.wait",
    "span.op:db span.duration:>1s transaction:checkout",
    "!span.status:ok tags[chain]:base*",
    "span.op:db OR service:api",
    "confirmation",
]
ERROR_QUERIES = [
    "",
    "is:unresolved",
    "level:error !handled:yes",
    "error.type:ValueError error.value:*timeout*",
    "message:*connection*",
    "first_seen:-24h",
    "tags[region]:eu-*",
]
LOG_QUERIES = ["", "severity:error", "body:*timeout*", "service:api http.route:/checkout", "oops"]
METRIC_QUERIES = ["", "service:api", "!environment:prod region:eu*"]


def render(dialect: Dialect) -> str:
    """Every query's ``(sql, params)`` in ``dialect``, one block per query."""
    logs = attribute_where.LOGS if dialect is DUCKDB else attribute_where.CH_LOGS
    metrics = attribute_where.METRICS if dialect is DUCKDB else attribute_where.CH_METRICS
    compilers = [
        ("spans", SPAN_QUERIES, lambda tree: compile_spans(tree, dialect)),
        ("segments", SEGMENT_QUERIES, lambda tree: compile_segments(tree, dialect)),
        (
            "segments per trace",
            SEGMENT_QUERIES[:2],
            lambda tree: compile_segments(tree, dialect, "trace"),
        ),
        ("errors", ERROR_QUERIES, lambda tree: compile_errors(tree, dialect)),
        ("logs", LOG_QUERIES, lambda tree: attribute_where.compile_filter(logs, tree, dialect)),
        (
            "metrics",
            METRIC_QUERIES,
            lambda tree: attribute_where.compile_filter(metrics, tree, dialect),
        ),
    ]
    blocks = []
    for kind, queries, compile_ in compilers:
        for query in queries:
            sql, params = compile_(parse(query, NOW))
            blocks.append(f"-- {kind}: {query}\n{sql}\n-- params: {json.dumps(params)}\n")
    return "\n".join(blocks)


@pytest.mark.parametrize("dialect", [DUCKDB, CLICKHOUSE], ids=["duckdb", "clickhouse"])
def test_search_sql_matches_snapshot(dialect: Dialect) -> None:
    name = "duckdb" if dialect is DUCKDB else "clickhouse"
    path = SNAPSHOTS / f"search_sql.{name}.sql"
    actual = render(dialect)
    if os.environ.get("GLASSPANE_UPDATE_SNAPSHOTS") == "1":
        path.write_text(actual)
    assert path.exists(), f"{path} is missing: run with GLASSPANE_UPDATE_SNAPSHOTS=1"
    assert actual == path.read_text(), (
        f"The {name} SQL of the search compiler changed; if intended, rewrite "
        f"{path.name} with GLASSPANE_UPDATE_SNAPSHOTS=1 and review its diff"
    )
