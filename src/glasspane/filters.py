"""The filter tree every listing shares: what the search language parses into
(``query.search``) and what each store backend compiles into parameterised SQL
(``store.where``). It lives below both, beside the domain types, so the store
never imports the query layer.

    Cmp(key, op, value)   key:value, key:>5s, key:[a,b], has:key, ...
    Text(value)           free text
    And(parts), Or(parts), Not(part)

``Cmp.op`` is one of ``= != > >= < <= in has``. A ``=``/``!=`` value holding
``*`` is a case-insensitive wildcard. Durations are milliseconds and times
epoch seconds by the time they reach a tree. ``!key:value`` (``Not`` of a
``Cmp``) also matches rows without the key, as docs/search.md says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

OPS = frozenset({"=", "!=", ">", ">=", "<", "<=", "in", "has"})


@dataclass(frozen=True, slots=True)
class Cmp:
    key: str
    op: str
    value: Any = None


@dataclass(frozen=True, slots=True)
class Text:
    value: str


@dataclass(frozen=True, slots=True)
class And:
    parts: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Or:
    parts: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Not:
    part: Filter


Filter: TypeAlias = Cmp | Text | And | Or | Not


def conjuncts(tree: Filter | None) -> list[Filter]:
    """The parts of a top-level AND (or the tree itself); [] for no filter."""
    if tree is None:
        return []
    if isinstance(tree, And):
        return list(tree.parts)
    return [tree]


def all_of(parts: list[Filter]) -> Filter | None:
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def pop_key(tree: Filter | None, key: str) -> tuple[list[Cmp], Filter | None]:
    """Take top-level ``key`` comparisons out of an AND; the rest stays a tree.

    Used for keys that are not columns of the scanned rows (``trace.status`` is
    known only once whole traces are assembled).
    """
    taken: list[Cmp] = []
    rest: list[Filter] = []
    for part in conjuncts(tree):
        if isinstance(part, Cmp) and part.key == key:
            taken.append(part)
        else:
            rest.append(part)
    return taken, all_of(rest)
