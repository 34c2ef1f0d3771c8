"""Search → SQL over a generated data set: a table of query → expected rows.

Every operator (``:``, ``!``, ``*``, ``> >= < <=``, lists, ``has``, free text,
``AND``/``OR``/parentheses) and every key family (columns, JSON-derived keys,
tags, times, durations, keys answered through the trace, issue keys) appears.
Each case runs on every backend, in its own SQL dialect (one store open at a
time: chDB opens one data directory per process).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glasspane.errors import QueryError
from glasspane.query.search import parse
from glasspane.store.api import Store
from glasspane.store.search_keys import CLICKHOUSE, DUCKDB, Dialect
from glasspane.store.where import (
    Per,
    check_keys,
    compile_errors,
    compile_segments,
    compile_span_terms,
    compile_spans,
    span_terms,
)
from store.backends import BACKENDS, drop, open_backend, store_url
from store.search_data import ERRORS, NOW, SPANS, TRACES, event_id, load, span_id

SPAN_NAMES = {span_id(s.name): s.name for s in SPANS}
EVENT_NAMES = {event_id(e.name): e.name for e in ERRORS}


@dataclass
class Loaded:
    """The data set in one backend's store, and how to run SQL on it directly."""

    store: Store
    ids: dict[str, int]
    dialect: Dialect

    def execute(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        if self.dialect is DUCKDB:
            with self.store._cursor() as cursor:
                return list(cursor.execute(sql, params).fetchall())
        return list(self.store._conn.execute(sql, params).fetchall())

    def check_keys(self, tree: Any) -> None:
        if self.dialect is DUCKDB:
            with self.store._cursor() as cursor:
                check_keys(cursor, tree)
        else:
            check_keys(self.store._conn, tree, CLICKHOUSE)

    def spans(self, query: str) -> set[str]:
        tree = parse(query, NOW)
        self.check_keys(tree)
        sql, params = compile_spans(tree, self.dialect)
        rows = self.execute(f"SELECT span_id FROM spans WHERE {sql}", params)
        return {SPAN_NAMES[r[0]] for r in rows}

    def errors(self, query: str) -> set[str]:
        tree = parse(query, NOW)
        self.check_keys(tree)
        sql, params = compile_errors(tree, self.dialect)
        rows = self.execute(f"SELECT event_id FROM errors WHERE {sql}", params)
        return {EVENT_NAMES[r[0]] for r in rows}


@pytest.fixture(scope="module", params=BACKENDS)
def loaded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Loaded]:
    """The data set in a store of one backend; pytest runs each backend's tests together."""
    backend = str(request.param)
    folder = tmp_path_factory.mktemp(f"search-{backend}")
    url = store_url(backend, folder)
    store = open_backend(backend, folder, url)
    try:
        yield Loaded(store, load(store), DUCKDB if backend == "duckdb" else CLICKHOUSE)
    finally:
        store.close()
        if backend == "clickhouse":
            drop(url)


def iso(ago: float) -> str:
    return datetime.fromtimestamp(NOW - ago, UTC).replace(tzinfo=None).isoformat()


ALL_SPANS = {"s1", "s2", "s3", "s4", "s5"}

SPAN_CASES: list[tuple[str, set[str]]] = [
    ("", ALL_SPANS),
    # values: exact and case-sensitive; wildcards case-insensitive
    ("transaction:uploadDocument", {"s1", "s2"}),
    ("transaction:UploadDocument", {"s4"}),
    ("transaction:upload*", {"s1", "s2", "s4"}),
    ("transaction:*DOC*", {"s1", "s2", "s4"}),
    ("!transaction:upload*", {"s3", "s5"}),
    ("transaction:[login,registerOnBlockchain]", {"s3", "s5"}),
    ("!transaction:[login,registerOnBlockchain]", {"s1", "s2", "s4"}),
    ("transaction:[log*,nothing]", {"s5"}),
    ("transaction:upload_ocument", set()),  # _ is not a LIKE wildcard here
    # columns
    ("service:frontend", {"s1", "s2", "s4"}),
    ("project:shop", ALL_SPANS),
    ("project:sh*", ALL_SPANS),
    ("!project:shop", set()),
    ("environment:staging", {"s4"}),
    ("release:1.0", {"s1", "s2"}),
    ("trace:" + TRACES["T1"], {"s1", "s2"}),
    ("span.op:db.query", {"s2"}),
    ("span.op:http.*", {"s1", "s3", "s4", "s5"}),
    ("span.description:SELECT*", {"s2"}),
    ("transaction.status:deadline_exceeded", {"s3"}),
    ("status:internal_error", {"s5"}),
    ("!status:ok", {"s3", "s5"}),
    # users: a row without the key matches a negation
    ("user.email:demo@test.com", {"s1", "s2"}),
    ("!user.email:demo@test.com", {"s3", "s4", "s5"}),
    ("user.id:u2", {"s5"}),
    ("user.username:bob", {"s3"}),
    ("user.ip:10.0.0.1", {"s4"}),
    ("user:demo@test.com", {"s1", "s2"}),
    ("has:user.email", {"s1", "s2", "s3"}),
    ("!has:user.email", {"s4", "s5"}),
    # durations
    ("transaction.duration:>2s", {"s3", "s4"}),
    ("transaction.duration:>=2500ms", {"s3", "s4"}),
    ("transaction.duration:<=120", {"s1", "s2"}),
    ("transaction.duration:<0.5s", {"s1", "s2"}),
    ("span.duration:[800,30]", {"s2", "s5"}),
    ("transaction.duration:12s", {"s3"}),
    # times
    ("timestamp:-15m", {"s1", "s2", "s5"}),
    ("timestamp:-2h", {"s1", "s2", "s3", "s5"}),
    ("timestamp:+1d", {"s4"}),
    ("!timestamp:-15m", {"s3", "s4"}),
    (f"timestamp:>{iso(7200)}", {"s1", "s2", "s3", "s5"}),
    (f"timestamp:<{iso(3000)}", {"s3", "s4"}),
    (f"timestamp:>={iso(3000)}Z", {"s1", "s2", "s5"}),
    # keys read from JSON
    ("http.method:POST", {"s3"}),
    ("http.status_code:504", {"s3"}),
    ("http.status_code:>=500", {"s3"}),
    ("http.status_code:<300", {"s1"}),
    # enrichment
    ("browser.name:Firefox", {"s3"}),
    ('os.name:"Mac OS X"', {"s1"}),
    ("geo.country_code:DE", {"s1"}),
    # tags: bare key, tags[...], wildcard, has, numbers
    ("region:eu", {"s1"}),
    ("tags[region]:eu*", {"s1", "s5"}),
    ("!region:eu", {"s2", "s3", "s4", "s5"}),
    ("has:region", {"s1", "s3", "s5"}),
    ("!has:tags[region]", {"s2", "s4"}),
    ("load:>0.5", {"s3"}),
    ("load:<0.5", set()),
    ("tags[never.seen]:x", set()),
    # free text: transaction name and description, case-insensitive
    ("SELECT", {"s2"}),
    ("blockchain", {"s3"}),
    ('"upload"', {"s1", "s2", "s4"}),
    ("!upload", {"s3", "s5"}),
    ("100%", set()),
    # structure
    ("service:frontend OR service:auth", {"s1", "s2", "s4", "s5"}),
    ("service:frontend transaction.duration:>1s OR service:auth", {"s4", "s5"}),
    ("service:frontend AND transaction.duration:>1s OR service:auth", {"s4", "s5"}),
    ("service:frontend (transaction.duration:>1s OR span.op:db.query)", {"s2", "s4"}),
    ("(service:auth OR service:blockchain) !status:internal_error", {"s3"}),
    # keys of error events, through the trace
    ("error.type:TransactionTimeoutError", {"s3"}),
    ("error.type:KeyError", {"s5"}),
    ("!error.type:KeyError", {"s1", "s2", "s3", "s4"}),
    ("has:error.type", {"s3", "s5"}),
    ("level:fatal", {"s5"}),
    ("is:resolved", {"s3"}),
    ("is:unresolved", {"s3", "s5"}),
]


@pytest.mark.parametrize(("query", "names"), SPAN_CASES, ids=[q or "all" for q, _ in SPAN_CASES])
def test_span_query_selects_rows(loaded: Loaded, query: str, names: set[str]) -> None:
    assert loaded.spans(query) == names


ALL_ERRORS = {"e1", "e2", "e3", "e4"}

ERROR_CASES: list[tuple[str, set[str]]] = [
    ("", ALL_ERRORS),
    ("error.type:KeyError", {"e2"}),
    ("error.type:*error", {"e1", "e2", "e4"}),
    ("!has:error.type", {"e3"}),
    ('error.value:"Transaction 0x7a not confirmed"', {"e1"}),
    ("error.value:transaction*", {"e1"}),
    ("level:[error,fatal]", {"e1", "e2", "e4"}),
    ("!level:error", {"e2", "e3"}),
    ("message:disk*", {"e3"}),
    ("title:ValueError*", {"e4"}),
    ("culprit:*e2", {"e2"}),
    ("transaction:login", {"e2"}),
    ("project:shop", ALL_ERRORS),
    ("service:backend", ALL_ERRORS),
    ("user.email:other@test.com", {"e1"}),
    ("user:u2", {"e2"}),
    ("trace:" + TRACES["T2"], {"e1", "e4"}),
    ("region:us", {"e1"}),
    ("timestamp:-10m", {"e2", "e3"}),
    # free text: title, message, transaction
    ("disk", {"e3"}),
    ("confirmed", {"e1"}),
    ("LOGIN", {"e2"}),
    # issue keys
    ("is:resolved", {"e4"}),
    ("is:unresolved", {"e1", "e2", "e3"}),
    ("!is:resolved", {"e1", "e2", "e3"}),
    ("is:[resolved,ignored]", {"e4"}),
    ("is:regressed", set()),
    ("last_seen:-5m", {"e2", "e3"}),
    ("first_seen:+55m", {"e1"}),
    # keys of spans, through the trace
    ("span.op:db.query", set()),
    ("transaction.duration:>10s", {"e1", "e4"}),
    ("!transaction.duration:>10s", {"e2", "e3"}),
    ("transaction.status:internal_error", {"e2"}),
    ("browser.name:Firefox", set()),  # the error rows carry no client info here
    ("level:error transaction.duration:>10s OR level:warning", {"e1", "e4", "e3"}),
]


@pytest.mark.parametrize(("query", "names"), ERROR_CASES, ids=[q or "all" for q, _ in ERROR_CASES])
def test_error_query_selects_rows(loaded: Loaded, query: str, names: set[str]) -> None:
    assert loaded.errors(query) == names


def test_issue_id_key(loaded: Loaded) -> None:
    ids = loaded.ids
    assert loaded.errors(f"issue:{ids['A']}") == {"e1"}
    assert loaded.errors(f"issue:[{ids['A']},{ids['B']}]") == {"e1", "e2"}
    assert loaded.spans(f"issue:{ids['B']}") == {"s5"}


BAD_KEYS = [
    ("usr.email:x", 'unknown key "usr.email"; did you mean "user.email"?'),
    ("regon:eu", 'unknown key "regon"; did you mean "region"?'),
    ("transacton:x OR x", 'unknown key "transacton"; did you mean "transaction"?'),
    ("!has:lvl", 'unknown key "lvl"; did you mean "level"?'),
    (
        "zzqx:1",
        'unknown key "zzqx": it is neither a search key (transaction, service, user.email, '
        "error.type, ...) nor a tag seen in the data; write tags[zzqx] to search the tag anyway",
    ),
    ("project_id:abc", 'project_id takes a number, not "abc"'),
]


@pytest.mark.parametrize(("query", "message"), BAD_KEYS)
def test_unknown_key_is_named_with_a_suggestion(loaded: Loaded, query: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        loaded.spans(query)
    assert str(caught.value) == message


@pytest.mark.parametrize("dialect", [DUCKDB, CLICKHOUSE], ids=lambda d: d.name)
def test_no_user_text_reaches_the_sql(dialect: Dialect) -> None:
    hostile = "x'; DROP TABLE spans; --"
    query = f'transaction:"{hostile}" tags[{hostile}]:"{hostile}" "{hostile}" project:"{hostile}"'
    tree = parse(query, NOW)
    for compile_ in (compile_spans, compile_errors):
        sql, params = compile_(tree, dialect)
        assert "DROP" not in sql and hostile in params


def test_hostile_values_run_as_plain_values(loaded: Loaded) -> None:
    """Quotes, backslashes and ``?`` in values and tag names reach the database as values."""
    hostile = r"x'; DROP TABLE spans; --\\ ?"
    assert loaded.spans(f'transaction:"{hostile}" tags[it\'s?\\]:"{hostile}*"') == set()
    assert loaded.errors(f'"{hostile}" OR project:"{hostile}" OR region:"{hostile}"') == set()
    assert loaded.spans("") == ALL_SPANS


FRAGMENTS = [
    "transaction:", "user.email:", "timestamp:", "transaction.duration:", "is:", "has:",
    "issue:", "tags[x]:", "region:", "error.type:", "span.op:", "level:", "!", "(", ")", " ",
    "AND", "OR", '"', "[", "]", ",", ">", ">=", "<", "*", "%", "_", "'", "-15m", "2s",
    "2026-11-28", "5", "a", "eu", "\\",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=20).map("".join))
def test_any_parsed_query_runs_on_both_tables(loaded: Loaded, text: str) -> None:
    try:
        tree = parse(text, NOW)
        loaded.check_keys(tree)
    except QueryError:
        return
    for compile_, table in ((compile_spans, "spans"), (compile_errors, "errors")):
        sql, params = compile_(tree, loaded.dialect)
        loaded.execute(f"SELECT count(*) FROM {table} WHERE {sql}", params)
    pers: tuple[Per, ...] = ("transaction", "trace")
    for per in pers:
        sql, params = compile_segments(tree, loaded.dialect, per)
        loaded.execute(f"SELECT count(*) FROM segments WHERE {sql}", params)
    terms = span_terms(tree)
    if terms is not None:  # what a trace page marks
        sql, params = compile_span_terms(terms, loaded.dialect)
        loaded.execute(f"SELECT count(*) FROM spans WHERE {sql}", params)


def test_store_checks_keys(loaded: Loaded) -> None:
    store = loaded.store
    store.validate_filter(parse("region:eu transaction:x", NOW))
    with pytest.raises(QueryError, match='unknown key "regon"'):
        store.validate_filter(parse("regon:eu", NOW))


def test_data_set_is_what_the_cases_assume(tmp_path: Path) -> None:
    assert {s.name for s in SPANS} == ALL_SPANS and {e.name for e in ERRORS} == ALL_ERRORS
