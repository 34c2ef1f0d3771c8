"""A sampled profile as a call tree and the cells of its flame graph.

A sampled profile (sentry-python's, and the other SDKs' ``sample`` format) is
``frames`` (function, module, file, line), ``stacks`` (lists of frame indices,
innermost first) and ``samples`` (a stack id and a thread each). The call tree
merges the stacks from the outermost frame in: a node is one function (module
and name) under one path of callers, and counts the samples whose stack passes
through it (``samples``) and those that end in it (``self_samples``, where the
CPU was). Samples are counted per stack first, so each stack is walked once:
the cost is linear in the size of the profile, whatever the client sent.

One thread at a time: by default the transaction's active thread (the one that
ran the request), else every sample.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

#: Frames deeper than this (from the outermost) are counted in their ancestor.
MAX_DEPTH = 128
#: Cells narrower than this share of the samples are not drawn (their parents are).
MIN_SHARE = 0.002


@dataclass(slots=True)
class Node:
    name: str
    file: str | None = None
    line: int | None = None
    samples: int = 0
    self_samples: int = 0
    children: dict[str, Node] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Cell:
    """One rectangle of the flame graph: ``start`` and ``share`` are fractions of
    all samples, ``depth`` 0 the outermost frame."""

    depth: int
    start: float
    share: float
    name: str
    file: str | None
    line: int | None
    samples: int
    self_samples: int


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def frame_name(frame: Any) -> str:
    if not isinstance(frame, dict):
        return "?"
    where = frame.get("module") or frame.get("filename") or frame.get("abs_path") or "?"
    return f"{where}.{frame.get('function') or '?'}"


def active_thread(payload: dict[str, Any]) -> str | None:
    """The thread that ran the profiled transaction, as the SDK named it."""
    for txn in payload.get("transactions") or []:
        tid = _dict(txn).get("active_thread_id")
        if tid is not None:
            return str(tid)
    tid = _dict(payload.get("transaction")).get("active_thread_id")
    return None if tid is None else str(tid)


def threads(profile: dict[str, Any]) -> dict[str, int]:
    """Samples per thread id, most first."""
    counted = Counter(
        str(s.get("thread_id")) for s in profile.get("samples") or [] if isinstance(s, dict)
    )
    return dict(counted.most_common())


def _per_stack(profile: dict[str, Any], thread: str | None) -> Counter[int]:
    stacks = profile.get("stacks") or []
    per_stack: Counter[int] = Counter()
    for sample in profile.get("samples") or []:
        if not isinstance(sample, dict):
            continue
        if thread is not None and str(sample.get("thread_id")) != thread:
            continue
        stack_id = sample.get("stack_id")
        if isinstance(stack_id, int) and 0 <= stack_id < len(stacks):
            per_stack[stack_id] += 1
    return per_stack


def _frames_of(profile: dict[str, Any], stack_id: int) -> list[int]:
    """A stack's valid frame indices, innermost first."""
    frames = profile.get("frames") or []
    stack = (profile.get("stacks") or [])[stack_id]
    if not isinstance(stack, list):
        return []
    return [f for f in stack if isinstance(f, int) and 0 <= f < len(frames)]


def call_tree(profile: dict[str, Any], thread: str | None) -> Node:
    """The merged call tree of ``thread``'s samples (every sample when ``None``)."""
    frames = profile.get("frames") or []
    per_stack = _per_stack(profile, thread)
    root = Node("all")
    for stack_id, count in per_stack.items():
        path = _frames_of(profile, stack_id)
        node = root
        node.samples += count
        for index in reversed(path[-MAX_DEPTH:]):
            frame = frames[index]
            name = frame_name(frame)
            child = node.children.get(name)
            if child is None:
                info = _dict(frame)
                line = info.get("lineno")
                child = node.children[name] = Node(
                    name,
                    info.get("filename") or info.get("abs_path"),
                    line if isinstance(line, int) else None,
                )
            child.samples += count
            node = child
        node.self_samples += count
    return root


def cells(root: Node, min_share: float = MIN_SHARE) -> list[Cell]:
    """The flame graph's rectangles, parents before children, siblings by samples."""
    total = root.samples
    if not total:
        return []
    out: list[Cell] = []
    todo: list[tuple[Node, int, float]] = [(root, 0, 0.0)]
    while todo:
        node, depth, start = todo.pop()
        share = node.samples / total
        if share < min_share:
            continue
        out.append(
            Cell(
                depth,
                start,
                share,
                node.name,
                node.file,
                node.line,
                node.samples,
                node.self_samples,
            )
        )
        offset = start
        children = sorted(node.children.values(), key=lambda n: (-n.samples, n.name))
        placed = []
        for child in children:
            placed.append((child, depth + 1, offset))
            offset += child.samples / total
        todo.extend(reversed(placed))
    return out


def functions(profile: dict[str, Any], thread: str | None, top: int = 30) -> list[dict[str, Any]]:
    """Functions by samples of ``thread``: ``self_samples`` where the function was the
    innermost frame, ``total_samples`` where it was anywhere on the stack (once per
    sample, however often it recursed); shares of the thread's samples."""
    frames = profile.get("frames") or []
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    where: dict[str, tuple[str | None, int | None]] = {}
    count = 0
    for stack_id, n in _per_stack(profile, thread).items():
        path = _frames_of(profile, stack_id)
        count += n
        names = [frame_name(frames[i]) for i in path]
        for i, name in zip(path, names, strict=True):
            if name not in where:
                info = _dict(frames[i])
                line = info.get("lineno")
                where[name] = (
                    info.get("filename") or info.get("abs_path"),
                    line if isinstance(line, int) else None,
                )
        if names:
            own[names[0]] += n
        for name in set(names):
            total[name] += n
    whole = max(1, count)
    ranked = sorted(total, key=lambda name: (-own[name], -total[name], name))[:top]
    return [
        {
            "function": name,
            "file": where[name][0],
            "line": where[name][1],
            "self_samples": own[name],
            "self_share": round(own[name] / whole, 4),
            "total_samples": total[name],
            "total_share": round(total[name] / whole, 4),
        }
        for name in ranked
    ]
