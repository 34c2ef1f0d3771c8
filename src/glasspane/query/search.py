"""The search language → a filter tree (:mod:`glasspane.filters`).

One parser for every listing (traces, transactions, issues, impact, logs)::

    user.email:demo@test.com transaction:uploadDocument timestamp:-15m
    (service:api OR service:web) !level:info transaction.duration:>2s
    has:user.email error.type:[TimeoutError,KeyError] "free text" upload*

Grammar (``AND`` binds tighter than ``OR``; terms side by side are ANDed;
``AND`` and ``OR`` are keywords only in upper case)::

    query := or
    or    := and ("OR" and)*
    and   := unary (["AND"] unary)*
    unary := "(" or ")" | term
    term  := ["!"] key ":" [op] value | ["!"] "has:" key | ["!"] text
    value := bare | "quoted" | "[" value ("," value)* "]"
    op    := > | >= | < | <=

Values are turned into what the key holds, so the tree is ready for SQL:
durations (``transaction.duration``, ``span.duration``) become milliseconds
(``500ms``, ``2s``, ``1.5m``, a plain number is ms); times (``timestamp``,
``first_seen``, ``last_seen``) become epoch seconds (``-15m`` is "in the last 15
minutes", ``+1h`` "more than an hour ago", ISO times without a zone are UTC, a
date alone is that whole day); any other key compared with ``> >= < <=`` takes a
number. Everything else stays a string: compared case-sensitively, except that
a value holding ``*`` is a case-insensitive wildcard.

The parser is pure: it knows which keys hold durations and times, not which
keys exist; the store checks keys against its columns and the tags it has seen.
Every mistake is a :class:`QueryError` naming the column (1-based) and what
was expected there.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from glasspane.errors import QueryError
from glasspane.filters import And, Cmp, Filter, Not, Or, Text

#: Keys whose values are durations, in milliseconds once parsed.
DURATION_KEYS = frozenset({"transaction.duration", "span.duration", "duration"})
#: Keys whose values are points in time, in epoch seconds once parsed.
TIME_KEYS = frozenset({"timestamp", "first_seen", "last_seen"})
#: Keys whose values are whole numbers (ids).
INTEGER_KEYS = frozenset({"issue", "issue.id"})
#: ``is:`` takes an issue status (or ``regressed``).
IS_VALUES = ("unresolved", "resolved", "ignored", "regressed")

MAX_LENGTH = 4096
MAX_DEPTH = 32

_KEY = re.compile(r"tags\[[^\]]+\]|[A-Za-z_][\w.\-]*")
_KEY_COLON = re.compile(r"(tags\[[^\]]+\]|[A-Za-z_][\w.\-]*):")
_OPS = (">=", "<=", ">", "<")
# The query is client text too: possessive quantifiers keep every pattern linear
# (``\d+\.?\d*`` split a long run of digits every possible way: 0.2 s at 4 KiB).
_NUMBER = re.compile(r"[+-]?(?:\d++(?:\.\d*+)?|\.\d++)(?:[eE][+-]?\d++)?")
_DURATION = re.compile(r"(\d++(?:\.\d*+)?|\.\d++)(ms|s|m|min|h|d)?")
_RELATIVE = re.compile(r"([+-])(\d++(?:\.\d*+)?|\.\d++)(s|m|min|h|d|w)")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_NO_SECONDS = re.compile(r".*T\d{2}:\d{2}(?:Z|[+-]\d{2}:?\d{2})?", re.IGNORECASE)

_MS_PER_UNIT = {"ms": 1.0, "s": 1e3, "m": 60e3, "min": 60e3, "h": 3600e3, "d": 86400e3}
_SECONDS_PER_UNIT = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}

DURATION_HINT = "a duration such as 500ms, 2s or 1.5m"
TIME_HINT = "a time such as -15m or 2026-11-28T10:00:00"


def parse(text: str, now: float) -> Filter | None:
    """The filter tree of ``text``; ``None`` for an empty query.

    ``now`` (epoch seconds) anchors relative times such as ``timestamp:-15m``.
    Raises :class:`QueryError` with the column and what was expected.
    """
    if len(text) > MAX_LENGTH:
        raise QueryError(f"A query is at most {MAX_LENGTH} characters; this one has {len(text)}")
    tokens = _Lexer(text, now).tokens()
    if not tokens:
        return None
    return _Parser(tokens, len(text)).parse()


# -- tokens ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "(", ")", "AND", "OR" or "term"
    column: int
    text: str
    filter: Filter | None = None


class _Lexer:
    """Splits the text into parentheses, keywords and terms (already parsed)."""

    def __init__(self, text: str, now: float) -> None:
        self.text = text
        self.now = now
        self.pos = 0

    def fail(self, message: str, pos: int | None = None) -> QueryError:
        column = (self.pos if pos is None else pos) + 1
        return QueryError(f"{message} at column {column}")

    def at_boundary(self) -> bool:
        return self.pos >= len(self.text) or self.text[self.pos].isspace() or self.peek() in "()"

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def tokens(self) -> list[_Token]:
        out: list[_Token] = []
        while True:
            while self.peek().isspace():
                self.pos += 1
            if self.pos >= len(self.text):
                return out
            out.append(self._token())

    def _token(self) -> _Token:
        start, char = self.pos, self.peek()
        if char in "()":
            self.pos += 1
            return _Token(char, start + 1, char)
        for keyword in ("AND", "OR"):
            if self.text.startswith(keyword, start):
                self.pos += len(keyword)
                if self.at_boundary():
                    return _Token(keyword, start + 1, keyword)
                self.pos = start
        term = self._term()
        return _Token("term", start + 1, self.text[start : self.pos], term)

    # -- terms --------------------------------------------------------------------------
    def _term(self) -> Filter:
        negate = self.peek() == "!"
        if negate:
            self.pos += 1
            if self.at_boundary():
                raise self.fail('expected a filter after "!"')
        match = _KEY_COLON.match(self.text, self.pos)
        if self.peek() == '"':
            term: Filter = Text(self._quoted())
        elif match:
            self.pos = match.end()
            term = self._key_value(match.group(1))
        else:
            term = Text(self._bare())
        return Not(term) if negate else term

    def _key_value(self, key: str) -> Filter:
        if key == "has":
            return self._has()
        op = next((o for o in _OPS if self.text.startswith(o, self.pos)), "")
        self.pos += len(op)
        prefix = f"{key}:{op}"
        start = self.pos
        if self.at_boundary():
            raise self.fail(f'expected a value after "{prefix}"')
        if self.peek() == "[":
            if op:
                raise self.fail(f'expected one value after "{prefix}", not a list,')
            items = self._list()
            return _list_filter(key, items, prefix, start)
        raw = self._quoted() if self.peek() == '"' else self._bare()
        return _value_filter(key, op or "=", raw, prefix, start, self.now)

    def _has(self) -> Filter:
        start = self.pos
        name = "" if self.at_boundary() else self._bare()
        if not _KEY.fullmatch(name):
            raise self.fail('expected a key after "has:"', start)
        return Cmp(name, "has")

    # -- values -------------------------------------------------------------------------
    def _bare(self) -> str:
        """Up to whitespace or an unbalanced ``)``, so ``fn(x)`` stays one value."""
        start, depth = self.pos, 0
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char.isspace() or (char == ")" and depth == 0):
                break
            depth += {"(": 1, ")": -1}.get(char, 0)
            self.pos += 1
        return self.text[start : self.pos]

    def _quoted(self, in_list: bool = False) -> str:
        start = self.pos
        self.pos += 1
        chars: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == '"':
                self.pos += 1
                if not in_list and not self.at_boundary():
                    raise self.fail("expected a space after the quoted value")
                return "".join(chars)
            if char == "\\" and self.pos + 1 < len(self.text):
                self.pos += 1
                char = self.text[self.pos]
            chars.append(char)
            self.pos += 1
        raise self.fail('expected a closing " for the value that starts', start)

    def _list(self) -> list[tuple[str, int]]:
        """``[a, "b c", d]`` → the values with their start positions."""
        start = self.pos
        self.pos += 1
        items: list[tuple[str, int]] = []
        while True:
            while self.peek().isspace():
                self.pos += 1
            if self.pos >= len(self.text):
                raise self.fail("expected a closing ] for the list that starts", start)
            item_start = self.pos
            item = self._quoted(in_list=True) if self.peek() == '"' else self._list_item()
            if not item and self.text[item_start] != '"':
                raise self.fail("expected a value in the list")
            items.append((item, item_start))
            while self.peek().isspace():
                self.pos += 1
            separator = self.peek()
            if not separator:
                raise self.fail("expected a closing ] for the list that starts", start)
            if separator not in ",]":
                raise self.fail("expected , or ] in the list")
            self.pos += 1
            if separator == "]":
                if not self.at_boundary():
                    raise self.fail("expected a space after the list")
                return items

    def _list_item(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in ",]":
            self.pos += 1
        return self.text[start : self.pos].strip()


# -- values by key --------------------------------------------------------------------


def _value_filter(key: str, op: str, raw: str, prefix: str, pos: int, now: float) -> Filter:
    if key == "is":
        if op != "=":
            column = pos - len(op) + 1
            raise QueryError(f'expected a status after "is:", not "{op}", at column {column}')
        return Cmp("is", "=", _is_value(raw, prefix, pos))
    if key in TIME_KEYS:
        return _time_filter(key, op, raw, prefix, pos, now)
    if key in DURATION_KEYS:
        return Cmp(key, op, _duration(raw, prefix, pos))
    if key in INTEGER_KEYS:
        return Cmp(key, op, _integer(raw, prefix, pos))
    if op != "=":
        return Cmp(key, op, _number(raw, prefix, pos))
    return Cmp(key, "=", raw)


def _list_filter(key: str, items: list[tuple[str, int]], prefix: str, pos: int) -> Filter:
    if key in TIME_KEYS:
        raise QueryError(f'expected one time after "{prefix}", not a list, at column {pos + 1}')
    values: list[str | int | float] = []
    for raw, item_pos in items:
        if key == "is":
            values.append(_is_value(raw, prefix, item_pos))
        elif key in DURATION_KEYS:
            values.append(_duration(raw, prefix, item_pos))
        elif key in INTEGER_KEYS:
            values.append(_integer(raw, prefix, item_pos))
        else:
            values.append(raw)
    if any(isinstance(v, str) and "*" in v for v in values):
        return Or(tuple(Cmp(key, "=", v) for v in values))
    return Cmp(key, "in", tuple(values))


def _expected(what: str, prefix: str, raw: str, pos: int) -> QueryError:
    return QueryError(f'expected {what} after "{prefix}" at column {pos + 1}, found "{raw}"')


def _finite(value: float, what: str, prefix: str, raw: str, pos: int) -> float:
    if not math.isfinite(value):
        raise _expected(what, prefix, raw, pos)
    return value


def _number(raw: str, prefix: str, pos: int) -> int | float:
    if not _NUMBER.fullmatch(raw):
        raise _expected("a number", prefix, raw, pos)
    value = _finite(float(raw), "a number", prefix, raw, pos)
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _integer(raw: str, prefix: str, pos: int) -> int:
    if not raw.isascii() or not raw.isdigit() or int(raw) >= 2**63:
        raise _expected("a number (an id)", prefix, raw, pos)
    return int(raw)


def _duration(raw: str, prefix: str, pos: int) -> float:
    match = _DURATION.fullmatch(raw)
    if not match:
        raise _expected(DURATION_HINT, prefix, raw, pos)
    value = float(match.group(1)) * _MS_PER_UNIT[match.group(2) or "ms"]
    return _finite(value, DURATION_HINT, prefix, raw, pos)


def _is_value(raw: str, prefix: str, pos: int) -> str:
    if raw not in IS_VALUES:
        raise _expected(", ".join(IS_VALUES[:-1]) + " or " + IS_VALUES[-1], prefix, raw, pos)
    return raw


def _time_filter(key: str, op: str, raw: str, prefix: str, pos: int, now: float) -> Filter:
    relative = _RELATIVE.fullmatch(raw)
    if relative:
        sign, amount, unit = relative.groups()
        ago = _finite(float(amount) * _SECONDS_PER_UNIT[unit], TIME_HINT, prefix, raw, pos)
        if op != "=":
            return Cmp(key, op, now - ago)
        return Cmp(key, ">=" if sign == "-" else "<", now - ago)
    start, width = _absolute_time(raw, prefix, pos)
    if op != "=" or width == 0:
        return Cmp(key, op, start)
    return And((Cmp(key, ">=", start), Cmp(key, "<", start + width)))


def _absolute_time(raw: str, prefix: str, pos: int) -> tuple[float, float]:
    """Epoch seconds, and how long the written precision spans (a day, a minute ...)."""
    if _NUMBER.fullmatch(raw):
        return _finite(float(raw), TIME_HINT, prefix, raw, pos), 0.0
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise _expected(TIME_HINT, prefix, raw, pos) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if _DATE_ONLY.fullmatch(raw):
        width = 86400.0
    elif _NO_SECONDS.fullmatch(raw):
        width = 60.0
    else:
        width = 0.0 if parsed.microsecond else 1.0
    return parsed.timestamp(), width


# -- structure ------------------------------------------------------------------------


class _Parser:
    """Recursive descent over the tokens; depth is bounded so nothing overflows."""

    def __init__(self, tokens: list[_Token], length: int) -> None:
        self.tokens = tokens
        self.index = 0
        self.end_column = length + 1
        self.depth = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse(self) -> Filter:
        tree = self._or(None)
        extra = self.peek()
        if extra is not None:  # only an unmatched ")" stops _or early
            raise QueryError(f'unexpected ")" at column {extra.column}: there is no "(" to close')
        return tree

    def _or(self, before: _Token | None) -> Filter:
        parts = [self._and(before)]
        while (token := self.peek()) is not None and token.kind == "OR":
            parts.append(self._and(self.take()))
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def _and(self, before: _Token | None) -> Filter:
        parts = [self._unary(before)]
        while (token := self.peek()) is not None and token.kind not in ("OR", ")"):
            if token.kind == "AND":
                self.take()
            parts.append(self._unary(token))
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def _unary(self, before: _Token | None) -> Filter:
        token = self.peek()
        if token is None:
            after = before.text if before else ""
            raise QueryError(f'expected a filter after "{after}" at column {self.end_column}')
        if token.kind == "term":
            self.take()
            assert token.filter is not None
            return token.filter
        if token.kind == "(":
            return self._group(self.take())
        if before is None or before.kind == "term":
            raise QueryError(f'expected a filter before "{token.text}" at column {token.column}')
        raise QueryError(f'expected a filter after "{before.text}" at column {token.column}')

    def _group(self, opening: _Token) -> Filter:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QueryError(
                f"parentheses nested deeper than {MAX_DEPTH} at column {opening.column}"
            )
        tree = self._or(opening)
        closing = self.peek()
        if closing is None:
            raise QueryError(f'expected ")" to close the "(" at column {opening.column}')
        self.take()
        self.depth -= 1
        return tree
