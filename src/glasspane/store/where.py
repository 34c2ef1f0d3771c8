"""Filter tree → a parameterised ``WHERE`` clause, for DuckDB or ClickHouse
(the :class:`Dialect` holds their few differences). No user text is ever
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
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from glasspane.errors import ProtocolError, QueryError
from glasspane.query.filters import And, Cmp, Filter, Not, Or, Text


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs between the SQL of the backends, for filters."""

    name: str
    #: ``json(column, key, ...)``: the value at that key path as text, NULL if absent.
    json: Callable[..., str]
    #: A tag (or attribute) read from a JSON column, its key as the one parameter.
    json_param: Callable[[str], str]
    #: The parameter that :attr:`json_param` takes for a key.
    json_key: Callable[[str], str]
    try_double: str
    to_text: str
    #: The issues table as a query reads it (ClickHouse: the latest row of each).
    issues: str
    #: Whether ``project:name`` can be a correlated subquery.
    correlated: bool
    #: A backslash as an SQL string literal (ClickHouse reads ``\`` in a literal as an escape).
    backslash: str = "'\\'"


def _duckdb_json(column: str, *keys: str) -> str:
    path = "$" + "".join('."' + k + '"' if "." in k else "." + k for k in keys)
    return f"json_extract_string({column}, '{path}')"


def _clickhouse_json(column: str, *keys: str) -> str:
    args = "".join(f", '{k}'" for k in keys)
    return f"JSONExtract({column}{args}, 'Nullable(String)')"


def _json_pointer(key: str) -> str:
    """RFC 6901: any tag name, including ``/``, ``~``, quotes and dots, addressed exactly."""
    return "/" + key.replace("~", "~0").replace("/", "~1")


DUCKDB = Dialect(
    "duckdb",
    _duckdb_json,
    lambda column: f"json_extract_string({column}, ?)",
    _json_pointer,
    "TRY_CAST({} AS DOUBLE)",
    "CAST({} AS VARCHAR)",
    "issues",
    True,
)
CLICKHOUSE = Dialect(
    "clickhouse",
    _clickhouse_json,
    lambda column: f"JSONExtract({column}, ?, 'Nullable(String)')",
    lambda key: key,
    "toFloat64OrNull({})",
    "toString({})",
    "issues FINAL",
    False,
    "'\\\\'",
)


#: The project's name (a service may be named otherwise, by OpenTelemetry's service.name).
_PROJECT_NAME = "(SELECT name FROM projects WHERE projects.id = project_id)"
#: How a person is shown: email, else username, else id, else IP.
_USER_DISPLAY = "coalesce(user_email, user_username, user_id, user_ip)"


#: Keys both row kinds have, in the same columns.
_SHARED: dict[str, str] = {
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
    "browser.name": "browser_name",
    "os.name": "os_name",
    "geo.country_code": "country_code",
}


def _span_columns(d: Dialect) -> dict[str, str]:
    """Search keys → SQL expressions over the ``spans`` table."""
    return {
        **_SHARED,
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
        "http.method": f"coalesce({d.json('request', 'method')}, "
        f"{d.json('data', 'http.request.method')}, {d.json('data', 'http.method')})",
        "http.status_code": f"coalesce({d.json('tags', 'http.status_code')}, "
        f"{d.json('data', 'http.response.status_code')}, {d.json('data', 'http.status_code')})",
    }


def _error_columns(d: Dialect) -> dict[str, str]:
    """Search keys → SQL expressions over the ``errors`` table."""
    return {
        **_SHARED,
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
        "http.method": d.json("payload", "request", "method"),
        "http.status_code": d.json("tags", "http.status_code"),
    }


SPAN_COLUMNS = _span_columns(DUCKDB)
ERROR_COLUMNS = _error_columns(DUCKDB)

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
CH_SPANS = _Table("spans", _span_columns(CLICKHOUSE), SPANS.text)
CH_ERRORS = _Table("errors", _error_columns(CLICKHOUSE), ERRORS.text, ISSUE_KEYS)
_TABLES = {DUCKDB.name: (SPANS, ERRORS), CLICKHOUSE.name: (CH_SPANS, CH_ERRORS)}


def _other(table: _Table, dialect: Dialect) -> _Table:
    spans, errors = _TABLES[dialect.name]
    return errors if table.name == "spans" else spans


#: Every key the search language knows (tags aside).
KNOWN_KEYS = frozenset(SPAN_COLUMNS) | frozenset(ERROR_COLUMNS) | ISSUE_KEYS


def _knows(table: _Table, key: str) -> bool:
    return key in table.columns or key in table.special


class Compiler:
    """Compiles one tree over one table; collects parameters in order."""

    def __init__(self, table: _Table, dialect: Dialect = DUCKDB) -> None:
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
        return self._cmp(node)

    def _cmp(self, cmp: Cmp) -> str:
        table = self.table
        if cmp.key in table.special:
            return self._issue_cmp(cmp)
        if cmp.key not in table.columns and _knows(_other(table, self.dialect), cmp.key):
            return self._linked(cmp)
        if cmp.key == "project" and not self.dialect.correlated:
            names = Compiler(_Table("projects", {"project": "name"}, ()), self.dialect)
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
        other = _other(self.table, self.dialect)
        inner = Compiler(other, self.dialect)
        condition = inner._cmp(cmp)
        if other.name == "spans" and cmp.key in _SEGMENT_KEYS:
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
    compiler = Compiler(_TABLES[dialect.name][0], dialect)
    sql = compiler.compile(tree)
    return sql, compiler.params


def compile_errors(tree: Filter | None, dialect: Dialect = DUCKDB) -> tuple[str, list[Any]]:
    """``(sql, params)`` over the ``errors`` table; ``TRUE`` for no filter."""
    compiler = Compiler(_TABLES[dialect.name][1], dialect)
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
        pointer = _json_pointer(key)
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
