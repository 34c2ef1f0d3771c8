"""The search language: query → filter tree, bad query → exact message, fuzzing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glasspane.errors import QueryError
from glasspane.filters import And, Cmp, Filter, Not, Or, Text
from glasspane.query.search import parse

NOW = 1_800_000_000.0


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def eq(key: str, value: Any) -> Cmp:
    return Cmp(key, "=", value)


GOOD: list[tuple[str, Filter | None]] = [
    ("", None),
    ("   ", None),
    ("user.email:demo@test.com", eq("user.email", "demo@test.com")),
    (
        "user.email:demo@test.com transaction:uploadDocument timestamp:-15m",
        And(
            (
                eq("user.email", "demo@test.com"),
                eq("transaction", "uploadDocument"),
                Cmp("timestamp", ">=", NOW - 900),
            )
        ),
    ),
    # quoting, escapes, wildcards, negation
    ('transaction:"GET /api/users"', eq("transaction", "GET /api/users")),
    (r'error.value:"say \"hi\" \\ bye"', eq("error.value", 'say "hi" \\ bye')),
    ('release:""', eq("release", "")),
    ("transaction:upload*", eq("transaction", "upload*")),
    ("!level:info", Not(eq("level", "info"))),
    ('!environment:"prod eu"', Not(eq("environment", "prod eu"))),
    # has
    ("has:user.email", Cmp("user.email", "has")),
    ("!has:tags[region]", Not(Cmp("tags[region]", "has"))),
    # lists
    ("level:[error,fatal]", Cmp("level", "in", ("error", "fatal"))),
    ('service:[ api , "web app"]', Cmp("service", "in", ("api", "web app"))),
    ("!service:[a,b]", Not(Cmp("service", "in", ("a", "b")))),
    ("transaction:[upload*,login]", Or((eq("transaction", "upload*"), eq("transaction", "login")))),
    ("transaction.duration:[1s,500]", Cmp("transaction.duration", "in", (1000.0, 500.0))),
    ("issue:[3,4]", Cmp("issue", "in", (3, 4))),
    ("is:[resolved,ignored]", Cmp("is", "in", ("resolved", "ignored"))),
    # durations
    ("transaction.duration:>2s", Cmp("transaction.duration", ">", 2000.0)),
    ("transaction.duration:>=1.5m", Cmp("transaction.duration", ">=", 90000.0)),
    ("span.duration:<250ms", Cmp("span.duration", "<", 250.0)),
    ("transaction.duration:<=300", Cmp("transaction.duration", "<=", 300.0)),
    ("transaction.duration:1h", eq("transaction.duration", 3_600_000.0)),
    # numbers on other keys
    ("http.status_code:>=500", Cmp("http.status_code", ">=", 500)),
    ("tags[load]:<0.5", Cmp("tags[load]", "<", 0.5)),
    ("http.status_code:500", eq("http.status_code", "500")),
    ("issue:42", eq("issue", 42)),
    # times
    ("timestamp:-15m", Cmp("timestamp", ">=", NOW - 900)),
    ("timestamp:-2h", Cmp("timestamp", ">=", NOW - 7200)),
    ("timestamp:+1d", Cmp("timestamp", "<", NOW - 86400)),
    ("timestamp:>-30s", Cmp("timestamp", ">", NOW - 30)),
    ("timestamp:>2026-11-28T10:00:00", Cmp("timestamp", ">", at("2026-11-28T10:00:00"))),
    ("timestamp:<2026-11-28T10:00:00Z", Cmp("timestamp", "<", at("2026-11-28T10:00:00"))),
    ("timestamp:>=2026-11-28T11:00:00+01:00", Cmp("timestamp", ">=", at("2026-11-28T10:00:00"))),
    ("timestamp:>1700000000", Cmp("timestamp", ">", 1_700_000_000.0)),
    (
        "timestamp:2026-11-28",
        And((Cmp("timestamp", ">=", at("2026-11-28")), Cmp("timestamp", "<", at("2026-11-29")))),
    ),
    (
        "timestamp:2026-11-28T10:00",
        And(
            (
                Cmp("timestamp", ">=", at("2026-11-28T10:00")),
                Cmp("timestamp", "<", at("2026-11-28T10:01")),
            )
        ),
    ),
    ("first_seen:-1h", Cmp("first_seen", ">=", NOW - 3600)),
    # is
    ("is:unresolved", eq("is", "unresolved")),
    ("!is:ignored", Not(eq("is", "ignored"))),
    # free text
    ("timeout", Text("timeout")),
    ('"connection refused"', Text("connection refused")),
    ("!healthcheck", Not(Text("healthcheck"))),
    ("upload*", Text("upload*")),
    ("call(x)", Text("call(x)")),
    ("and or", And((Text("and"), Text("or")))),
    # structure: AND binds tighter than OR; juxtaposition is AND
    ("a OR b c", Or((Text("a"), And((Text("b"), Text("c")))))),
    ("a AND b OR c", Or((And((Text("a"), Text("b"))), Text("c")))),
    ("a OR b AND c OR d", Or((Text("a"), And((Text("b"), Text("c"))), Text("d")))),
    (
        "(service:api OR service:web) level:error",
        And((Or((eq("service", "api"), eq("service", "web"))), eq("level", "error"))),
    ),
    ("((a))", Text("a")),
    ("a (b OR c)", And((Text("a"), Or((Text("b"), Text("c")))))),
    ("transaction:f(x)", eq("transaction", "f(x)")),
    ("(transaction:f(x))", eq("transaction", "f(x)")),
    ("ANDROID ORACLE", And((Text("ANDROID"), Text("ORACLE")))),
    ("a AND(b)", And((Text("a"), Text("b")))),
    # keys: tags, bare tags, values with colons
    ("tags[sentry:release]:1.0", eq("tags[sentry:release]", "1.0")),
    ("region:eu-west-1", eq("region", "eu-west-1")),
    ("url:http://x.test/a?b=c", eq("url", "http://x.test/a?b=c")),
]


@pytest.mark.parametrize(("query", "tree"), GOOD, ids=[q or "empty" for q, _ in GOOD])
def test_query_becomes_tree(query: str, tree: Filter | None) -> None:
    assert parse(query, NOW) == tree


BAD: list[tuple[str, str]] = [
    ("user.email: x", 'expected a value after "user.email:" at column 12'),
    ("user.email:", 'expected a value after "user.email:" at column 12'),
    ("(user.email:)", 'expected a value after "user.email:" at column 13'),
    ("transaction.duration:>", 'expected a value after "transaction.duration:>" at column 23'),
    (
        "transaction.duration:>5x",
        'expected a duration such as 500ms, 2s or 1.5m after "transaction.duration:>" '
        'at column 23, found "5x"',
    ),
    (
        "span.duration:fast",
        'expected a duration such as 500ms, 2s or 1.5m after "span.duration:" '
        'at column 15, found "fast"',
    ),
    (
        "timestamp:yesterday",
        'expected a time such as -15m or 2026-11-28T10:00:00 after "timestamp:" '
        'at column 11, found "yesterday"',
    ),
    (
        "timestamp:>2026-13-01",
        'expected a time such as -15m or 2026-11-28T10:00:00 after "timestamp:>" '
        'at column 12, found "2026-13-01"',
    ),
    ("timestamp:[-1h,-2h]", 'expected one time after "timestamp:", not a list, at column 11'),
    (
        "http.status_code:>=5xx",
        'expected a number after "http.status_code:>=" at column 20, found "5xx"',
    ),
    ("tags[x]:>1e999", 'expected a number after "tags[x]:>" at column 10, found "1e999"'),
    ("issue:abc", 'expected a number (an id) after "issue:" at column 7, found "abc"'),
    (
        "is:open",
        'expected unresolved, resolved, ignored or regressed after "is:" at column 4, found "open"',
    ),
    ("is:>resolved", 'expected a status after "is:", not ">", at column 4'),
    ("has:", 'expected a key after "has:" at column 5'),
    ("has:!x", 'expected a key after "has:" at column 5'),
    ("!", 'expected a filter after "!" at column 2'),
    ("a ! b", 'expected a filter after "!" at column 4'),
    ('transaction:"upload', 'expected a closing " for the value that starts at column 13'),
    ('"free text', 'expected a closing " for the value that starts at column 1'),
    ('transaction:"a"b', "expected a space after the quoted value at column 16"),
    ("service:[a,b", "expected a closing ] for the list that starts at column 9"),
    ("service:[a,,b]", "expected a value in the list at column 12"),
    ("service:[]", "expected a value in the list at column 10"),
    ('service:["a" "b"]', "expected , or ] in the list at column 14"),
    ("service:[a]b", "expected a space after the list at column 12"),
    ("service:>[a]", 'expected one value after "service:>", not a list, at column 10'),
    ("a AND", 'expected a filter after "AND" at column 6'),
    ("a OR", 'expected a filter after "OR" at column 5'),
    ("OR a", 'expected a filter before "OR" at column 1'),
    ("a AND OR b", 'expected a filter after "AND" at column 7'),
    ("a OR AND b", 'expected a filter after "OR" at column 6'),
    ("(a", 'expected ")" to close the "(" at column 1'),
    ("a (b (c)", 'expected ")" to close the "(" at column 3'),
    ("a)", 'unexpected ")" at column 2: there is no "(" to close'),
    ("()", 'expected a filter after "(" at column 2'),
    ("(a OR)", 'expected a filter after "OR" at column 6'),
    ("(" * 40 + "a" + ")" * 40, "parentheses nested deeper than 32 at column 33"),
    ("x" * 5000, "A query is at most 4096 characters; this one has 5000"),
]


@pytest.mark.parametrize(("query", "message"), BAD, ids=[q[:40] for q, _ in BAD])
def test_bad_query_names_column_and_expectation(query: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse(query, NOW)
    assert str(caught.value) == message


def test_query_error_is_a_400() -> None:
    with pytest.raises(QueryError) as caught:
        parse("a AND", NOW)
    assert caught.value.status_code == 400


# -- fuzzing --------------------------------------------------------------------------

FRAGMENTS = [
    "a", "transaction:", "user.email:", "timestamp:", "transaction.duration:", "is:", "has:",
    "issue:", "tags[x]:", "!", "(", ")", " ", "AND", "OR", '"', "\\", "[", "]", ",", ">", ">=",
    "<", "*", "-15m", "2s", "2026-11-28", "5", "x:y", ":",
]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60))
def test_any_text_parses_or_fails_cleanly(text: str) -> None:
    try:
        parse(text, NOW)
    except QueryError as exc:
        assert " at column " in str(exc) or "characters" in str(exc)


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=25).map("".join))
def test_query_like_text_parses_or_fails_cleanly(text: str) -> None:
    try:
        tree = parse(text, NOW)
    except QueryError as exc:
        assert " at column " in str(exc)
    else:
        assert tree is None or isinstance(tree, (Cmp, Text, And, Or, Not))
