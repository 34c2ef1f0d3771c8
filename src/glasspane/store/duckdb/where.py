"""Filter tree → a parameterised DuckDB ``WHERE`` clause. No user text is ever
spliced into SQL: values always travel as parameters, and keys are looked up in
fixed tables of column expressions (anything else is a tag, read from the
row's JSON ``tags`` with the key as a JSON-pointer parameter).

Two row kinds are searchable: ``spans`` and ``errors``. A key that only the
other table knows is answered through the trace: ``error.type:KeyError`` over
spans means "spans of traces with a KeyError", ``span.op:db`` over errors
"errors in traces with a db span". Negations keep their meaning:
``!key:value`` is ``(... ) IS NOT TRUE``, so rows without the key match too.

Keys are checked before a query runs (:func:`check_keys`): a key that is
neither known here nor a tag seen in the data is a :class:`QueryError` naming
it and the closest known key. ``tags[name]`` always means the tag, unchecked.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb

from glasspane.errors import ProtocolError, QueryError
from glasspane.query.filters import And, Cmp, Filter, Not, Or, Text

_REQUEST_METHOD = (
    "coalesce(json_extract_string(request, '$.method'), "
    "json_extract_string(data, '$.\"http.request.method\"'), "
    "json_extract_string(data, '$.\"http.method\"'))"
)
_STATUS_CODE = (
    "coalesce(json_extract_string(tags, '$.\"http.status_code\"'), "
    "json_extract_string(data, '$.\"http.response.status_code\"'), "
    "json_extract_string(data, '$.\"http.status_code\"'))"
)
#: The project's name (a service may be named otherwise, by OpenTelemetry's service.name).
_PROJECT_NAME = "(SELECT name FROM projects WHERE projects.id = project_id)"
#: How a person is shown: email, else username, else id, else IP.
_USER_DISPLAY = "coalesce(user_email, user_username, user_id, user_ip)"

#: Search keys → SQL expressions over the ``spans`` table.
SPAN_COLUMNS: dict[str, str] = {
    "transaction": '"transaction"',
    "service": "service",
    "project": _PROJECT_NAME,
    "project_id": "project_id",
    "environment": "environment",
    "release": "release",
    "platform": "platform",
    "user": _USER_DISPLAY,
    "user.id": "user_id",
    "user.email": "user_email",
    "user.username": "user_username",
    "user.ip": "user_ip",
    "trace": "trace_id",
    "trace_id": "trace_id",
    "span.id": "span_id",
    "span.op": "op",
    "span.description": "description",
    "span.status": "status",
    "transaction.op": "op",
    "transaction.status": "status",
    "status": "status",
    "transaction.duration": "duration_ms",
    "span.duration": "duration_ms",
    "duration": "duration_ms",
    "timestamp": "start_ts",
    "http.method": _REQUEST_METHOD,
    "http.status_code": _STATUS_CODE,
    "browser.name": "browser_name",
    "os.name": "os_name",
    "geo.country_code": "country_code",
}

#: Search keys → SQL expressions over the ``errors`` table.
ERROR_COLUMNS: dict[str, str] = {
    "transaction": '"transaction"',
    "service": "service",
    "project": _PROJECT_NAME,
    "project_id": "project_id",
    "environment": "environment",
    "release": "release",
    "platform": "platform",
    "user": _USER_DISPLAY,
    "user.id": "user_id",
    "user.email": "user_email",
    "user.username": "user_username",
    "user.ip": "user_ip",
    "trace": "trace_id",
    "trace_id": "trace_id",
    "span.id": "span_id",
    "event.id": "event_id",
    "level": "level",
    "error.type": "type",
    "error.value": "value",
    "message": "message",
    "title": "title",
    "culprit": "culprit",
    "issue": "issue_id",
    "issue.id": "issue_id",
    "timestamp": '"timestamp"',
    "http.method": "json_extract_string(payload, '$.request.method')",
    "http.status_code": "json_extract_string(tags, '$.\"http.status_code\"')",
    "browser.name": "browser_name",
    "os.name": "os_name",
    "geo.country_code": "country_code",
}

#: Keys of ``errors`` computed per issue rather than per row.
ISSUE_KEYS = frozenset({"is", "first_seen", "last_seen"})

_DURATIONS = frozenset({"transaction.duration", "span.duration", "duration"})
_NUMERIC = _DURATIONS | frozenset(
    {
        "project_id",
        "timestamp",
        "issue",
        "issue.id",
        "first_seen",
        "last_seen",
    }
)
#: Span keys that describe the transaction: over errors they look at segments only.
_SEGMENT_KEYS = frozenset(
    {"transaction.op", "transaction.status", "status", "transaction.duration"}
)


@dataclass(frozen=True, slots=True)
class _Table:
    name: str
    columns: Mapping[str, str]
    text: tuple[str, ...]
    special: frozenset[str] = field(default_factory=frozenset)


SPANS = _Table("spans", SPAN_COLUMNS, ('"transaction"', "description"))
ERRORS = _Table("errors", ERROR_COLUMNS, ("title", "message", '"transaction"'), ISSUE_KEYS)
_OTHER = {"spans": ERRORS, "errors": SPANS}

#: Every key the search language knows (tags aside).
KNOWN_KEYS = frozenset(SPAN_COLUMNS) | frozenset(ERROR_COLUMNS) | ISSUE_KEYS


def _knows(table: _Table, key: str) -> bool:
    return key in table.columns or key in table.special


class Compiler:
    """Compiles one tree over one table; collects parameters in order."""

    def __init__(self, table: _Table) -> None:
        self.table = table
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
            return "(" + " OR ".join(f"{c} ILIKE ? ESCAPE '\\'" for c in self.table.text) + ")"
        return self._cmp(node)

    def _cmp(self, cmp: Cmp) -> str:
        table = self.table
        if cmp.key in table.special:
            return self._issue_cmp(cmp)
        if cmp.key not in table.columns and _knows(_OTHER[table.name], cmp.key):
            return self._linked(cmp)
        return self._compare(self._expr(cmp.key), cmp)

    def _expr(self, key: str) -> str:
        if key in self.table.columns:
            return self.table.columns[key]
        tag = key[5:-1] if key.startswith("tags[") and key.endswith("]") else key
        self.params.append(_json_pointer(tag))
        return "json_extract_string(tags, ?)"

    def _compare(self, expr: str, cmp: Cmp) -> str:
        numeric = cmp.key in _NUMERIC
        if cmp.op == "has":
            return f"({expr} IS NOT NULL)"
        if cmp.key in _DURATIONS and cmp.op in ("=", "!=", "in"):
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
            text = f"CAST({expr} AS VARCHAR)" if numeric else expr
            return f"({text} {negate}ILIKE ? ESCAPE '\\')"
        if cmp.op not in ("=", "!=", ">", ">=", "<", "<="):
            raise ProtocolError(f"Operator {cmp.op!r} is not supported for {cmp.key}")
        value = _number(cmp.key, cmp.value) if numeric else cmp.value
        if not numeric and _is_number(value):
            if cmp.op in ("=", "!="):
                self.params.append(str(cmp.value))
                return f"({expr} {cmp.op} ?)"
            expr = f"TRY_CAST({expr} AS DOUBLE)"  # tags are strings; compare them as numbers
        self.params.append(value)
        return f"({expr} {cmp.op} ?)"

    def _linked(self, cmp: Cmp) -> str:
        """A key of the other table, through the trace id."""
        other = _OTHER[self.table.name]
        inner = Compiler(other)
        condition = inner._cmp(cmp)
        if other is SPANS and cmp.key in _SEGMENT_KEYS:
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
            return f"(issue_id IN (SELECT id FROM issues WHERE {' OR '.join(conditions)}))"
        aggregate = 'min("timestamp")' if cmp.key == "first_seen" else 'max("timestamp")'
        having = self._compare(aggregate, cmp)
        return f"(issue_id IN (SELECT issue_id FROM errors GROUP BY issue_id HAVING {having}))"


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


def _json_pointer(key: str) -> str:
    """RFC 6901: any tag name, including ``/``, ``~``, quotes and dots, addressed exactly."""
    return "/" + key.replace("~", "~0").replace("/", "~1")


def _like_pattern(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def compile_spans(tree: Filter | None) -> tuple[str, list[Any]]:
    """``(sql, params)`` over the ``spans`` table; ``TRUE`` for no filter."""
    compiler = Compiler(SPANS)
    sql = compiler.compile(tree)
    return sql, compiler.params


def compile_errors(tree: Filter | None) -> tuple[str, list[Any]]:
    """``(sql, params)`` over the ``errors`` table; ``TRUE`` for no filter."""
    compiler = Compiler(ERRORS)
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


def _tag_seen(cur: duckdb.DuckDBPyConnection, key: str) -> bool:
    pointer = _json_pointer(key)
    row = cur.execute(
        "SELECT EXISTS (SELECT 1 FROM spans WHERE json_exists(tags, ?)) "
        "OR EXISTS (SELECT 1 FROM errors WHERE json_exists(tags, ?))",
        [pointer, pointer],
    ).fetchone()
    return bool(row and row[0])


def tag_keys(cur: duckdb.DuckDBPyConnection) -> set[str]:
    """Every tag name in the data (a full scan: only for suggestions on a mistake)."""
    rows = cur.execute(
        "SELECT DISTINCT unnest(json_keys(tags)) FROM spans WHERE tags IS NOT NULL "
        "UNION SELECT DISTINCT unnest(json_keys(tags)) FROM errors WHERE tags IS NOT NULL"
    ).fetchall()
    return {str(row[0]) for row in rows}


def check_keys(cur: duckdb.DuckDBPyConnection, tree: Filter | None) -> None:
    """:class:`QueryError` for the first key that is neither known nor a tag seen in the data."""
    for key in unknown_keys(tree):
        if _tag_seen(cur, key):
            continue
        raise QueryError(unknown_key_message(key, KNOWN_KEYS | tag_keys(cur)))


def unknown_key_message(key: str, candidates: set[str] | frozenset[str]) -> str:
    close = difflib.get_close_matches(key, sorted(candidates), n=1, cutoff=0.6)
    if close:
        return f'unknown key "{key}"; did you mean "{close[0]}"?'
    return (
        f'unknown key "{key}": it is neither a search key (transaction, service, user.email, '
        f"error.type, ...) nor a tag seen in the data; write tags[{key}] to search the tag anyway"
    )
