"""Filter trees over the ``logs`` and ``metrics`` tables.

The search language's compiler (:mod:`.where`) with two differences: a key
that is not a column is an attribute (the rows' JSON ``attributes`` take the
place of ``tags``), and a key only spans know (``transaction:createCase``,
``span.op:db``) is answered through the trace, so ``transaction:X level:warn``
finds the warnings logged while X ran. Values travel as parameters, as there.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

import duckdb

from glasspane.errors import QueryError
from glasspane.query.filters import And, Cmp, Filter, Not, Or, Text
from glasspane.store.duckdb import where

_PROJECT_NAME = "(SELECT name FROM projects WHERE projects.id = project_id)"

#: Keys both tables have.
_COMMON: dict[str, str] = {
    "service": "service",
    "project": _PROJECT_NAME,
    "project_id": "project_id",
    "environment": "environment",
    "release": "release",
    "trace": "trace_id",
    "trace_id": "trace_id",
    "span.id": "span_id",
    "span_id": "span_id",
    "timestamp": '"timestamp"',
}
LOG_KEYS: dict[str, str] = {
    **_COMMON,
    "level": "level",
    "severity": "CAST(severity_number AS VARCHAR)",
    "message": "body",
    "body": "body",
}
METRIC_KEYS: dict[str, str] = {**_COMMON, "metric.type": "type", "unit": "unit"}

LOGS = where._Table("logs", LOG_KEYS, ("body",))
METRICS = where._Table("metrics", METRIC_KEYS, ())


class AttributeCompiler(where.Compiler):
    def _cmp(self, cmp: Cmp) -> str:
        if cmp.key not in self.table.columns and cmp.key in where.SPAN_COLUMNS:
            return self._through_spans(cmp)
        return self._compare(self._expr(cmp.key), cmp)

    def _expr(self, key: str) -> str:
        if key in self.table.columns:
            return self.table.columns[key]
        self.params.append(where._json_pointer(attribute_name(key)))
        return "json_extract_string(attributes, ?)"

    def _through_spans(self, cmp: Cmp) -> str:
        inner = where.Compiler(where.SPANS)
        condition = inner._cmp(cmp)
        if cmp.key in where._SEGMENT_KEYS:
            condition = f"is_segment AND {condition}"
        self.params.extend(inner.params)
        return f"(trace_id IN (SELECT trace_id FROM spans WHERE {condition}))"


def attribute_name(key: str) -> str:
    """``tags[name]`` and ``name`` both address the attribute ``name``."""
    return key[5:-1] if key.startswith("tags[") and key.endswith("]") else key


def compile_filter(table: where._Table, tree: Filter | None) -> tuple[str, list[Any]]:
    """``(sql, params)`` over ``table`` (:data:`LOGS` or :data:`METRICS`)."""
    if not table.text and any(isinstance(node, Text) for node in _nodes(tree)):
        raise QueryError(
            f"{table.name} take key:value filters, not free text; "
            "quote a value after its key, e.g. service:api"
        )
    compiler = AttributeCompiler(table)
    return compiler.compile(tree), compiler.params


def group_expression(table: where._Table, key: str) -> tuple[str, list[Any]]:
    """The SQL for a ``group_by`` key: a column, else an attribute."""
    if key in table.columns:
        return table.columns[key], []
    return "json_extract_string(attributes, ?)", [where._json_pointer(attribute_name(key))]


def check_keys(cur: duckdb.DuckDBPyConnection, table: where._Table, keys: list[str]) -> None:
    """:class:`QueryError` for a key that is neither a column of ``table``, a span key,
    written ``tags[...]``, nor an attribute seen in ``table``."""
    for key in keys:
        if key in table.columns or key in where.SPAN_COLUMNS or key.startswith("tags["):
            continue
        pointer = where._json_pointer(key)
        row = cur.execute(
            f"SELECT EXISTS (SELECT 1 FROM {table.name} WHERE json_exists(attributes, ?))",
            [pointer],
        ).fetchone()
        if row and row[0]:
            continue
        raise QueryError(_unknown(cur, table, key))


def filter_keys(tree: Filter | None) -> list[str]:
    return [node.key for node in _nodes(tree) if isinstance(node, Cmp)]


def _nodes(tree: Filter | None) -> Iterator[Filter]:
    if tree is None:
        return
    yield tree
    if isinstance(tree, (And, Or)):
        for part in tree.parts:
            yield from _nodes(part)
    elif isinstance(tree, Not):
        yield from _nodes(tree.part)


def _unknown(cur: duckdb.DuckDBPyConnection, table: where._Table, key: str) -> str:
    seen = cur.execute(
        f"SELECT DISTINCT unnest(json_keys(attributes)) FROM {table.name} "
        "WHERE attributes IS NOT NULL LIMIT 10000"
    ).fetchall()
    candidates: Mapping[str, Any] = {
        **table.columns,
        **where.SPAN_COLUMNS,
        **{str(r[0]): None for r in seen},
    }
    close = difflib.get_close_matches(key, sorted(candidates), n=1, cutoff=0.6)
    if close:
        return f'unknown key "{key}"; did you mean "{close[0]}"?'
    return (
        f'unknown key "{key}": it is neither a {table.name} key ({", ".join(table.columns)}), '
        f"a span key, nor an attribute seen in {table.name}; write tags[{key}] to filter on "
        "the attribute anyway"
    )
