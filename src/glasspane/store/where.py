"""Filter tree → a parameterised ``WHERE`` clause, for DuckDB or ClickHouse
(the :class:`~.search_keys.Dialect` holds their few differences). No user text
is ever spliced into SQL: values always travel as parameters, and keys are
looked up in fixed tables of column expressions (:mod:`.search_keys`; anything
else is a tag, read from the row's JSON ``tags`` with the key as a
JSON-pointer parameter).

Two row kinds are searchable: ``spans`` and ``errors``. A key that only the
other table knows is answered through the trace: ``error.type:KeyError`` over
spans means "spans of traces with a KeyError", ``span.op:db`` over errors
"errors in traces with a db span". Negations keep their meaning:
``!key:value`` is ``(... ) IS NOT TRUE``, so rows without the key match too.

Transactions (the ``segments`` table) are searched by :class:`SegmentCompiler`:
span-level terms (``span.op``, ``span.description``, ``span.status``,
``span.duration``, tags) ask about any span of the transaction (or of the
trace), and the span-level terms ANDed side by side must all hold for one span.

Keys are checked before a query runs (:func:`check_keys`): a key that is
neither known here nor a tag seen in the data is a :class:`QueryError` naming
it and the closest known key. ``tags[name]`` always means the tag, unchecked.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any, Literal

from glasspane.errors import ProtocolError, QueryError
from glasspane.filters import And, Cmp, Filter, Not, Or, Text, all_of, conjuncts
from glasspane.store.search_keys import (
    DUCKDB,
    DURATIONS,
    KNOWN_KEYS,
    NUMERIC,
    SEGMENT_KEYS,
    SPAN_LEVEL_KEYS,
    TABLES,
    Dialect,
    Table,
    json_pointer,
    knows,
    other_table,
)


class Compiler:
    """Compiles one tree over one table; collects parameters in order."""

    def __init__(self, table: Table, dialect: Dialect = DUCKDB) -> None:
        self.table = table
        self.dialect = dialect
        self.params: list[Any] = []

    def compile(self, tree: Filter | None) -> str:
        return "TRUE" if tree is None else self._node(tree)

    def _node(self, node: Filter) -> str:
        if isinstance(node, And):
            return "(" + " AND ".join(self._node(p) for p in node.parts) + ")"
        if isinstance(node, Or):
            return "(" + " OR ".join(self._node(p) for p in node.parts) + ")"
        if isinstance(node, Not):
            inner = self._node(node.part)
            return f"(({inner}) IS NOT TRUE)"  # rows without the key match too
        if isinstance(node, Text):
            pattern = "%" + _like_pattern(node.value) + "%"
            self.params.extend([pattern] * len(self.table.text))
            escape = self.dialect.backslash
            return "(" + " OR ".join(f"{c} ILIKE ? ESCAPE {escape}" for c in self.table.text) + ")"
        return self.comparison(node)

    def comparison(self, cmp: Cmp) -> str:
        """One ``key op value`` as SQL (subclasses change how keys resolve)."""
        table = self.table
        if cmp.key in table.special:
            return self._issue_cmp(cmp)
        if cmp.key not in table.columns and knows(other_table(table, self.dialect), cmp.key):
            return self._linked(cmp)
        if cmp.key == "project" and not self.dialect.correlated:
            names = Compiler(Table("projects", {"project": "name"}, ()), self.dialect)
            condition = names._compare("name", cmp)
            self.params.extend(names.params)
            return f"(project_id IN (SELECT id FROM projects FINAL WHERE {condition}))"
        return self._compare(self._expr(cmp.key), cmp)

    def _expr(self, key: str) -> str:
        if key in self.table.columns:
            return self.table.columns[key]
        tag = key[5:-1] if key.startswith("tags[") and key.endswith("]") else key
        self.params.append(self.dialect.json_key(tag))
        return self.dialect.json_param("tags")

    def _compare(self, expr: str, cmp: Cmp) -> str:
        numeric = cmp.key in NUMERIC
        if cmp.op == "has":
            return f"({expr} IS NOT NULL)"
        if cmp.key in DURATIONS and cmp.op in ("=", "!=", "in"):
            # Durations are differences of epoch floats (799.9999 for 800 ms): equality
            # means equal to the microsecond.
            expr = f"round({expr}, 3)"
        if cmp.op == "in":
            values: list[Any]
            if numeric:
                values = [_number(cmp.key, v) for v in cmp.value]
            else:
                values = [str(v) if _is_number(v) else v for v in cmp.value]
            self.params.extend(values)
            return f"({expr} IN ({', '.join('?' for _ in values)}))"
        if cmp.op in ("=", "!=") and isinstance(cmp.value, str) and "*" in cmp.value:
            self.params.append(_like_pattern(cmp.value))
            negate = "NOT " if cmp.op == "!=" else ""
            text = self.dialect.to_text.format(expr) if numeric else expr
            return f"({text} {negate}ILIKE ? ESCAPE {self.dialect.backslash})"
        if cmp.op not in ("=", "!=", ">", ">=", "<", "<="):
            raise ProtocolError(f"Operator {cmp.op!r} is not supported for {cmp.key}")
        value = _number(cmp.key, cmp.value) if numeric else cmp.value
        if not numeric and _is_number(value):
            if cmp.op in ("=", "!="):
                self.params.append(str(cmp.value))
                return f"({expr} {cmp.op} ?)"
            expr = self.dialect.try_double.format(expr)  # tags are strings; compare as numbers
        self.params.append(value)
        return f"({expr} {cmp.op} ?)"

    def _linked(self, cmp: Cmp) -> str:
        """A key of the other table, through the trace id."""
        other = other_table(self.table, self.dialect)
        inner = Compiler(other, self.dialect)
        condition = inner.comparison(cmp)
        if other.name == "spans" and cmp.key in SEGMENT_KEYS:
            condition = f"is_segment AND {condition}"
        self.params.extend(inner.params)
        return f"(trace_id IN (SELECT trace_id FROM {other.name} WHERE {condition}))"

    def _issue_cmp(self, cmp: Cmp) -> str:
        """``is:``, ``first_seen``, ``last_seen``: properties of the event's issue."""
        if cmp.key == "is":
            values = list(cmp.value) if cmp.op == "in" else [cmp.value]
            conditions = []
            for value in values:
                if value == "regressed":
                    conditions.append("regressed_at IS NOT NULL")
                else:
                    self.params.append(value)
                    conditions.append("status = ?")
            issues = self.dialect.issues
            return f"(issue_id IN (SELECT id FROM {issues} WHERE {' OR '.join(conditions)}))"
        aggregate = 'min("timestamp")' if cmp.key == "first_seen" else 'max("timestamp")'
        having = self._compare(aggregate, cmp)
        return f"(issue_id IN (SELECT issue_id FROM errors GROUP BY issue_id HAVING {having}))"


#: What a span-level term looks at: the spans of the transaction, or of its whole trace.
Per = Literal["transaction", "trace"]


class SegmentCompiler(Compiler):
    """Compiles a tree over the ``segments`` table (one row per transaction).

    Span-level terms match when a span of the transaction (``per="transaction"``)
    or of its trace (``per="trace"``) meets them; the span-level terms of one AND
    are grouped, so ``span.op:db span.duration:>1s`` asks for one slow db span.
    A negated span-level term means "no such span". Free text matches the
    transaction's name or any span's description.
    """

    def __init__(self, dialect: Dialect = DUCKDB, per: Per = "transaction") -> None:
        super().__init__(TABLES[dialect.name][0], dialect)
        self.per = per

    def _node(self, node: Filter) -> str:
        if isinstance(node, And):
            group = [p for p in node.parts if self._span_level(p)]
            if any(not isinstance(p, Not) for p in group):
                rest = [p for p in node.parts if not self._span_level(p)]
                grouped = And(tuple(group)) if len(group) > 1 else group[0]
                parts = [self._any_span(grouped), *(self._node(p) for p in rest)]
                return "(" + " AND ".join(parts) + ")"
            return super()._node(node)
        if isinstance(node, Text):
            own = super()._node(node)
            return f"({own} OR {self._any_span(node)})"
        if isinstance(node, Cmp) and self._span_level(node):
            return self._any_span(node)
        return super()._node(node)

    def _span_level(self, node: Filter) -> bool:
        return is_span_level(node, self.dialect)

    def _any_span(self, node: Filter) -> str:
        """Whether one span of the transaction (or trace) meets ``node``."""
        # Free text: the transaction's own name was looked at already.
        table = replace(self.table, text=("description",)) if isinstance(node, Text) else self.table
        inner = Compiler(table, self.dialect)
        condition = inner.compile(node)
        self.params.extend(inner.params)
        if self.per == "trace":
            return f"(trace_id IN (SELECT trace_id FROM spans WHERE {condition}))"
        return (
            f"((trace_id, span_id) IN (SELECT trace_id, segment_id FROM spans WHERE {condition}))"
        )


def is_span_level(node: Filter, dialect: Dialect = DUCKDB) -> bool:
    """Whether every key of ``node`` is about a single span (span keys, tags)."""
    if isinstance(node, Cmp):
        if node.key in SPAN_LEVEL_KEYS:
            return True
        spans, errors = TABLES[dialect.name]
        return not knows(spans, node.key) and not knows(errors, node.key)
    if isinstance(node, Not):
        return is_span_level(node.part, dialect)
    if isinstance(node, (And, Or)):
        return all(is_span_level(p, dialect) for p in node.parts)
    return False


def span_terms(tree: Filter | None) -> Filter | None:
    """The part of a query that one span meets (its span-level terms and free text,
    ANDed at the top); ``None`` when it has none. What a trace page highlights."""
    parts = [p for p in conjuncts(tree) if isinstance(p, Text) or is_span_level(p)]
    if not any(not isinstance(p, Not) for p in parts):
        return None  # "no such span" highlights nothing
    return all_of(parts)


def compile_span_terms(tree: Filter, dialect: Dialect = DUCKDB) -> tuple[str, list[Any]]:
    """``(sql, params)`` over ``spans`` for :func:`span_terms` (free text: descriptions)."""
    table = replace(TABLES[dialect.name][0], text=("description",))
    compiler = Compiler(table, dialect)
    sql = compiler.compile(tree)
    return sql, compiler.params


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(key: str, value: Any) -> int | float:
    """A numeric key's value; ``project_id:3`` arrives from the parser as the string "3"."""
    if _is_number(value):
        return value  # type: ignore[no-any-return]
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise QueryError(f'{key} takes a number, not "{value}"') from None
    if number != number or number in (float("inf"), float("-inf")):
        raise QueryError(f'{key} takes a number, not "{value}"')
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _like_pattern(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def compile_spans(tree: Filter | None, dialect: Dialect = DUCKDB) -> tuple[str, list[Any]]:
    """``(sql, params)`` over the ``spans`` table; ``TRUE`` for no filter."""
    compiler = Compiler(TABLES[dialect.name][0], dialect)
    sql = compiler.compile(tree)
    return sql, compiler.params


def compile_segments(
    tree: Filter | None, dialect: Dialect = DUCKDB, per: Per = "transaction"
) -> tuple[str, list[Any]]:
    """``(sql, params)`` over the ``segments`` table (see :class:`SegmentCompiler`)."""
    compiler = SegmentCompiler(dialect, per)
    sql = compiler.compile(tree)
    return sql, compiler.params


def compile_errors(tree: Filter | None, dialect: Dialect = DUCKDB) -> tuple[str, list[Any]]:
    """``(sql, params)`` over the ``errors`` table; ``TRUE`` for no filter."""
    compiler = Compiler(TABLES[dialect.name][1], dialect)
    sql = compiler.compile(tree)
    return sql, compiler.params


# -- key checking ---------------------------------------------------------------------


def _keys(tree: Filter | None) -> Iterator[str]:
    if isinstance(tree, Cmp):
        yield tree.key
    elif isinstance(tree, (And, Or)):
        for part in tree.parts:
            yield from _keys(part)
    elif isinstance(tree, Not):
        yield from _keys(tree.part)


def unknown_keys(tree: Filter | None) -> list[str]:
    """Keys that are neither known nor written ``tags[...]``: they must be tags in the data."""
    seen: list[str] = []
    for key in _keys(tree):
        if key not in KNOWN_KEYS and not key.startswith("tags[") and key not in seen:
            seen.append(key)
    return seen


def _tag_seen(cur: Any, key: str, dialect: Dialect) -> bool:
    if dialect.name == "clickhouse":
        sql = (
            "SELECT (SELECT count() FROM (SELECT 1 FROM spans WHERE JSONHas(tags, ?) LIMIT 1)) "
            "+ (SELECT count() FROM (SELECT 1 FROM errors WHERE JSONHas(tags, ?) LIMIT 1))"
        )
        row = cur.execute(sql, [key, key]).fetchone()
    else:
        pointer = json_pointer(key)
        row = cur.execute(
            "SELECT EXISTS (SELECT 1 FROM spans WHERE json_exists(tags, ?)) "
            "OR EXISTS (SELECT 1 FROM errors WHERE json_exists(tags, ?))",
            [pointer, pointer],
        ).fetchone()
    return bool(row and row[0])


def tag_keys(cur: Any, dialect: Dialect = DUCKDB) -> set[str]:
    """Every tag name in the data (a full scan: only for suggestions on a mistake)."""
    if dialect.name == "clickhouse":
        # JSONExtractKeys takes no Nullable (an array cannot be NULL).
        keys = "arrayJoin(JSONExtractKeys(assumeNotNull(tags)))"
        sql = (
            f"SELECT DISTINCT {keys} FROM spans WHERE tags IS NOT NULL "
            f"UNION DISTINCT SELECT DISTINCT {keys} FROM errors WHERE tags IS NOT NULL"
        )
    else:
        sql = (
            "SELECT DISTINCT unnest(json_keys(tags)) FROM spans WHERE tags IS NOT NULL "
            "UNION SELECT DISTINCT unnest(json_keys(tags)) FROM errors WHERE tags IS NOT NULL"
        )
    return {str(row[0]) for row in cur.execute(sql).fetchall()}


def check_keys(cur: Any, tree: Filter | None, dialect: Dialect = DUCKDB) -> None:
    """:class:`QueryError` for the first key that is neither known nor a tag seen in the data.

    ``cur`` is a DuckDB cursor or a ClickHouse connection: anything whose
    ``execute(sql, params)`` returns rows through ``fetchone``/``fetchall``.
    """
    for key in unknown_keys(tree):
        if _tag_seen(cur, key, dialect):
            continue
        raise QueryError(unknown_key_message(key, KNOWN_KEYS | tag_keys(cur, dialect)))


#: Keys and candidates longer than this get no "did you mean": difflib's ratio is
#: quadratic in the lengths, and the candidates include names sent by clients.
SUGGEST_LENGTH = 64


def closest_key(key: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like ``key`` (difflib's ratio ≥ 0.6), if any."""
    if len(key) > SUGGEST_LENGTH:
        return None
    short = sorted(c for c in candidates if len(c) <= SUGGEST_LENGTH)
    close = difflib.get_close_matches(key, short, n=1, cutoff=0.6)
    return close[0] if close else None


def unknown_key_message(key: str, candidates: set[str] | frozenset[str]) -> str:
    close = closest_key(key, candidates)
    if close:
        return f'unknown key "{key}"; did you mean "{close}"?'
    return (
        f'unknown key "{key}": it is neither a search key (transaction, service, user.email, '
        f"error.type, ...) nor a tag seen in the data; write tags[{key}] to search the tag anyway"
    )
