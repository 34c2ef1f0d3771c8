"""One way to talk to ClickHouse, two transports: a server over HTTP
(``clickhouse-connect``) or the engine in-process (chDB).

The store's SQL is written once, with ``?`` placeholders like the DuckDB
store's. Values are bound on the client as ClickHouse literals (escaped by
``clickhouse-connect``'s own binding code), because chDB has no positional
parameters and the HTTP interface's named ones would need a type per value.
No user text is spliced into SQL unescaped.
"""

from __future__ import annotations

import math
import sys
import threading
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
from clickhouse_connect.driver.binding import format_query_value

from glasspane.errors import ConfigError, StoreError


class Result:
    """Rows of a query, read like a DB-API cursor's (``fetchall``/``fetchone``)."""

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None


class Connection(Protocol):
    database: str

    @property
    def shared_between_processes(self) -> bool:
        """Whether other processes may use the same database at once."""
        ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        """Run one statement; its rows (none for DDL and mutations)."""
        ...

    def insert(self, table: str, rows: pa.Table) -> None:
        """Append Arrow rows to ``table`` (columns by name)."""
        ...

    def close(self) -> None: ...


def literal(value: Any) -> str:
    """A Python value as a ClickHouse literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            # ClickHouse cannot prune day partitions against an infinite bound
            # (it converts the bound to a DateTime and fails): the largest double
            # compares the same against every stored value.
            return repr(math.copysign(sys.float_info.max, value))
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return str(format_query_value(value))


def bind(sql: str, params: Sequence[Any]) -> str:
    """Replace each ``?`` outside quotes with the next parameter as a literal."""
    if not params:
        return sql
    out: list[str] = []
    values = iter(params)
    quote: str | None = None
    i = 0
    while i < len(sql):
        ch = sql[i]
        if quote:
            out.append(ch)
            if ch == "\\":
                out.append(sql[i + 1 : i + 2])
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "'\"`":
            quote = ch
            out.append(ch)
        elif ch == "?":
            try:
                out.append(literal(next(values)))
            except StopIteration:
                raise StoreError("More placeholders than parameters in a query") from None
        else:
            out.append(ch)
        i += 1
    if next(values, _END) is not _END:
        raise StoreError("More parameters than placeholders in a query")
    return "".join(out)


_END = object()


def _rows(table: pa.Table) -> list[tuple[Any, ...]]:
    columns = [column.to_pylist() for column in table.columns]
    return list(zip(*columns, strict=True)) if columns else []


class ChdbConnection:
    """ClickHouse's engine in this process, its data in a directory.

    chDB runs one embedded server per process; statements are serialised here
    so a write and a read never interleave on its single session.
    """

    #: chDB locks its data directory to the process that opened it.
    shared_between_processes = False

    def __init__(self, path: Path, database: str = "glasspane") -> None:
        from chdb import session

        path.mkdir(parents=True, exist_ok=True)
        try:
            self._session = session.Session(str(path))
        except Exception as exc:  # chDB raises its own or RuntimeError
            raise ConfigError(
                f"Cannot open {path} with chDB: {exc}. chDB opens one data directory per "
                "process; is another glasspane using it?"
            ) from None
        self._lock = threading.Lock()
        self.database = database
        self.execute(f"CREATE DATABASE IF NOT EXISTS {database}")
        self.execute(f"USE {database}")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        query = bind(sql, params)
        with self._lock:
            try:
                table = self._session.query(query, "ArrowTable")
            except Exception as exc:
                raise StoreError(f"ClickHouse (chDB) could not answer: {exc}") from None
        if not isinstance(table, pa.Table):
            return Result([])
        return Result(_rows(table))

    def insert(self, table: str, rows: pa.Table) -> None:
        names = ", ".join(f'"{name}"' for name in rows.column_names)
        incoming = rows  # noqa: F841 (read by name through chDB's Python() table function)
        with self._lock:
            try:
                self._session.query(
                    f"INSERT INTO {self.database}.{table} ({names}) "
                    f"SELECT {names} FROM Python(incoming)"
                )
            except Exception as exc:
                raise StoreError(f"ClickHouse (chDB) could not write {table}: {exc}") from None

    def close(self) -> None:
        with self._lock:
            self._session.close()


#: Seconds to connect to the server, and to wait for an answer (the analytics
#: over a long window are the slowest queries).
CONNECT_TIMEOUT = 5
QUERY_TIMEOUT = 120


class HttpConnection:
    """A ClickHouse server through ``clickhouse-connect`` (HTTP, port 8123 by default)."""

    #: A server takes any number of clients: processes and machines share it.
    shared_between_processes = True

    def __init__(self, url: str) -> None:
        import clickhouse_connect

        parts = urllib.parse.urlsplit(url)
        query = dict(urllib.parse.parse_qsl(parts.query))
        self.database = parts.path.strip("/") or "glasspane"
        secure = parts.scheme in ("clickhouses", "https") or query.get("secure") == "true"
        options: dict[str, Any] = {
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or (8443 if secure else 8123),
            "username": urllib.parse.unquote(parts.username or "default"),
            "password": urllib.parse.unquote(parts.password or ""),
            "secure": secure,
            # Thread-safe without a server session; a dead server fails fast.
            "autogenerate_session_id": False,
            "connect_timeout": CONNECT_TIMEOUT,
            "send_receive_timeout": QUERY_TIMEOUT,
        }
        try:
            admin = clickhouse_connect.get_client(**options)
            admin.command(f"CREATE DATABASE IF NOT EXISTS {self.database}")
            admin.close()
            self._client = clickhouse_connect.get_client(database=self.database, **options)
        except Exception as exc:
            raise ConfigError(f"Cannot reach ClickHouse at {_redacted(url)}: {exc}") from None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        query = bind(sql, params)
        try:
            if not _returns_rows(query):
                self._client.command(query)
                return Result([])
            result = self._client.query_arrow(query, use_strings=True)
        except Exception as exc:
            raise StoreError(f"ClickHouse could not answer: {exc}") from None
        return Result(_rows(result))

    def insert(self, table: str, rows: pa.Table) -> None:
        try:
            self._client.insert_arrow(table, rows)
        except Exception as exc:
            raise StoreError(f"ClickHouse could not write {table}: {exc}") from None

    def close(self) -> None:
        self._client.close()


def _returns_rows(sql: str) -> bool:
    first = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
    return first in ("SELECT", "WITH", "SHOW", "DESCRIBE", "EXISTS", "(")


def _redacted(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
