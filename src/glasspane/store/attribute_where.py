"""Filter trees over the ``logs`` and ``metrics`` tables, for DuckDB or ClickHouse.

The search language's compiler (:mod:`.where`) with two differences: a key
that is not a column is an attribute (the rows' JSON ``attributes`` take the
place of ``tags``), and a key only spans know (``transaction:createCase``,
``span.op:db``) is answered through the trace, so ``transaction:X level:warn``
finds the warnings logged while X ran. Values travel as parameters, as there,
and the :class:`~.search_keys.Dialect` says how each backend reads an attribute.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from glasspane.errors import QueryError
from glasspane.filters import And, Cmp, Filter, Not, Or, Text
from glasspane.store.search_keys import (
    CLICKHOUSE,
    DUCKDB,
    SEGMENT_KEYS,
    SPAN_COLUMNS,
    TABLES,
    Dialect,
    Table,
)
from glasspane.store.where import Compiler, closest_key

_PROJECT_NAME = "(SELECT name FROM projects WHERE projects.id = project_id)"
#: ClickHouse has no correlated subqueries: the project's name is looked up in
#: a map of every project, built once per query (projects are few). Filters on
#: ``project`` do not use it (see :meth:`.where.Compiler.comparison`); ``group_by`` does.
_CH_PROJECT_NAME = (
    "(SELECT CAST(mapFromArrays(groupArray(id), groupArray(name)), "
    "'Map(UInt32, Nullable(String))') FROM projects FINAL)[project_id]"
)


def _common(d: Dialect) -> dict[str, str]:
    """Keys both tables have."""
    return {
        "service": "service",
        "project": _PROJECT_NAME if d.correlated else _CH_PROJECT_NAME,
        "project_id": "project_id",
        "environment": "environment",
        "release": "release",
        "trace": "trace_id",
        "trace_id": "trace_id",
        "span.id": "span_id",
        "span_id": "span_id",
        "timestamp": '"timestamp"',
    }


def _log_keys(d: Dialect) -> dict[str, str]:
    return {
        **_common(d),
        "level": "level",
        "severity": d.to_text.format("severity_number"),
        "message": "body",
        "body": "body",
    }


def _metric_keys(d: Dialect) -> dict[str, str]:
    return {**_common(d), "metric.type": "type", "unit": "unit"}


LOG_KEYS = _log_keys(DUCKDB)
METRIC_KEYS = _metric_keys(DUCKDB)

LOGS = Table("logs", LOG_KEYS, ("body",))
METRICS = Table("metrics", METRIC_KEYS, ())
CH_LOGS = Table("logs", _log_keys(CLICKHOUSE), LOGS.text)
CH_METRICS = Table("metrics", _metric_keys(CLICKHOUSE), METRICS.text)


class AttributeCompiler(Compiler):
    def comparison(self, cmp: Cmp) -> str:
        if cmp.key not in self.table.columns and cmp.key in SPAN_COLUMNS:
            return self._through_spans(cmp)
        return super().comparison(cmp)

    def _expr(self, key: str) -> str:
        if key in self.table.columns:
            return self.table.columns[key]
        self.params.append(self.dialect.json_key(attribute_name(key)))
        return self.dialect.json_param("attributes")

    def _through_spans(self, cmp: Cmp) -> str:
        inner = Compiler(TABLES[self.dialect.name][0], self.dialect)
        condition = inner.comparison(cmp)
        if cmp.key in SEGMENT_KEYS:
            condition = f"is_segment AND {condition}"
        self.params.extend(inner.params)
        return f"(trace_id IN (SELECT trace_id FROM spans WHERE {condition}))"


def attribute_name(key: str) -> str:
    """``tags[name]`` and ``name`` both address the attribute ``name``."""
    return key[5:-1] if key.startswith("tags[") and key.endswith("]") else key


def compile_filter(
    table: Table, tree: Filter | None, dialect: Dialect = DUCKDB
) -> tuple[str, list[Any]]:
    """``(sql, params)`` over ``table`` (:data:`LOGS`, :data:`METRICS` or their
    ``CH_`` twins, matching ``dialect``)."""
    if not table.text and any(isinstance(node, Text) for node in _nodes(tree)):
        raise QueryError(
            f"{table.name} take key:value filters, not free text; "
            "quote a value after its key, e.g. service:api"
        )
    compiler = AttributeCompiler(table, dialect)
    return compiler.compile(tree), compiler.params


def checked_filter(
    cur: Any,
    table: Table,
    tree: Filter | None,
    dialect: Dialect = DUCKDB,
    also: Sequence[str] = (),
) -> tuple[str, list[Any]]:
    """:func:`compile_filter`, after :func:`check_keys` on the tree's keys and ``also``
    (e.g. a ``group_by`` key)."""
    check_keys(cur, table, [*filter_keys(tree), *also], dialect)
    return compile_filter(table, tree, dialect)


def group_expression(table: Table, key: str, dialect: Dialect = DUCKDB) -> tuple[str, list[Any]]:
    """The SQL for a ``group_by`` key: a column, else an attribute."""
    if key in table.columns:
        return table.columns[key], []
    return dialect.json_param("attributes"), [dialect.json_key(attribute_name(key))]


def check_keys(cur: Any, table: Table, keys: list[str], dialect: Dialect = DUCKDB) -> None:
    """:class:`QueryError` for a key that is neither a column of ``table``, a span key,
    written ``tags[...]``, nor an attribute seen in ``table``.

    ``cur`` is a DuckDB cursor or a ClickHouse connection (``execute`` → rows).
    """
    for key in keys:
        if key in table.columns or key in SPAN_COLUMNS or key.startswith("tags["):
            continue
        if not _attribute_seen(cur, table, key, dialect):
            raise QueryError(_unknown(cur, table, key, dialect))


def _attribute_seen(cur: Any, table: Table, key: str, dialect: Dialect) -> bool:
    if dialect.name == CLICKHOUSE.name:
        sql = (
            f"SELECT count() FROM (SELECT 1 FROM {table.name} WHERE JSONHas(attributes, ?) LIMIT 1)"
        )
    else:
        sql = f"SELECT EXISTS (SELECT 1 FROM {table.name} WHERE json_exists(attributes, ?))"
    row = cur.execute(sql, [dialect.json_key(key)]).fetchone()
    return bool(row and row[0])


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


def _attribute_keys(cur: Any, table: Table, dialect: Dialect) -> list[str]:
    """Attribute names in ``table`` (a scan: only for suggestions on a mistake)."""
    if dialect.name == CLICKHOUSE.name:
        # JSONExtractKeys returns an array, which cannot be Nullable like the column.
        keys = "arrayJoin(JSONExtractKeys(assumeNotNull(attributes)))"
    else:
        keys = "unnest(json_keys(attributes))"
    found = cur.execute(
        f"SELECT DISTINCT {keys} FROM {table.name} WHERE attributes IS NOT NULL LIMIT 10000"
    ).fetchall()
    return [str(row[0]) for row in found]


def _unknown(cur: Any, table: Table, key: str, dialect: Dialect) -> str:
    candidates: Mapping[str, Any] = {
        **table.columns,
        **SPAN_COLUMNS,
        **dict.fromkeys(_attribute_keys(cur, table, dialect)),
    }
    close = closest_key(key, candidates)
    if close:
        return f'unknown key "{key}"; did you mean "{close}"?'
    return (
        f'unknown key "{key}": it is neither a {table.name} key ({", ".join(table.columns)}), '
        f"a span key, nor an attribute seen in {table.name}; write tags[{key}] to filter on "
        "the attribute anyway"
    )
