"""What each search key means in each searchable table, per SQL dialect.

The fixed tables of column expressions that the filter compilers (``where``
for spans and errors, ``attribute_where`` for logs and metrics) look keys up
in, and the :class:`Dialect` that holds the few differences between the SQL of
DuckDB and ClickHouse. A key that is in none of these tables is a tag (or an
attribute), read from the row's JSON with the key as a parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


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


def json_pointer(key: str) -> str:
    """RFC 6901: any tag name, including ``/``, ``~``, quotes and dots, addressed exactly."""
    return "/" + key.replace("~", "~0").replace("/", "~1")


DUCKDB = Dialect(
    "duckdb",
    _duckdb_json,
    lambda column: f"json_extract_string({column}, ?)",
    json_pointer,
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
        "issue.category": "category",
        "issue.type": "type",
        "timestamp": '"timestamp"',
        "http.method": d.json("payload", "request", "method"),
        "http.status_code": d.json("tags", "http.status_code"),
    }


SPAN_COLUMNS = _span_columns(DUCKDB)
ERROR_COLUMNS = _error_columns(DUCKDB)

#: Keys of ``errors`` computed per issue rather than per row.
ISSUE_KEYS = frozenset({"is", "first_seen", "last_seen"})

#: Keys in milliseconds (equality is to the microsecond).
DURATIONS = frozenset({"transaction.duration", "span.duration", "duration"})
#: Keys whose values are numbers (``project_id:3`` arrives as the string "3").
NUMERIC = DURATIONS | frozenset(
    {
        "project_id",
        "timestamp",
        "issue",
        "issue.id",
        "first_seen",
        "last_seen",
    }
)
#: Keys of one span: over transactions they ask about any span of the transaction
#: (tags too, being neither span nor error columns).
SPAN_LEVEL_KEYS = frozenset({"span.op", "span.description", "span.status", "span.duration"})
#: Span keys that describe the transaction: over errors they look at segments only.
SEGMENT_KEYS = frozenset({"transaction.op", "transaction.status", "status", "transaction.duration"})


@dataclass(frozen=True, slots=True)
class Table:
    """A searchable table: its name, its keys' SQL expressions, the columns free
    text searches, and keys it answers otherwise (``special``, e.g. ``is:``)."""

    name: str
    columns: Mapping[str, str]
    text: tuple[str, ...]
    special: frozenset[str] = field(default_factory=frozenset)


SPANS = Table("spans", SPAN_COLUMNS, ('"transaction"', "description"))
ERRORS = Table("errors", ERROR_COLUMNS, ("title", "message", '"transaction"'), ISSUE_KEYS)
CH_SPANS = Table("spans", _span_columns(CLICKHOUSE), SPANS.text)
CH_ERRORS = Table("errors", _error_columns(CLICKHOUSE), ERRORS.text, ISSUE_KEYS)
#: Per dialect name: the (spans, errors) tables.
TABLES = {DUCKDB.name: (SPANS, ERRORS), CLICKHOUSE.name: (CH_SPANS, CH_ERRORS)}


def other_table(table: Table, dialect: Dialect) -> Table:
    """Errors for spans, spans for errors (a key only the other knows goes through the trace)."""
    spans, errors = TABLES[dialect.name]
    return errors if table.name == "spans" else spans


#: Every key the search language knows (tags aside).
KNOWN_KEYS = frozenset(SPAN_COLUMNS) | frozenset(ERROR_COLUMNS) | ISSUE_KEYS


def knows(table: Table, key: str) -> bool:
    """Whether ``key`` is one of the table's own keys (not a tag)."""
    return key in table.columns or key in table.special
