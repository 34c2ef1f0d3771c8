"""The text a replay's page showed at a moment, rebuilt from its rrweb events.

Pure: rrweb events in, text out. A full snapshot (type 2) gives the document;
incremental events of source 0 (mutations) add, remove, re-text and
re-attribute nodes. :func:`page_texts` replays them in time order and reads the
visible text at each moment asked for: the text of text nodes under elements a
reader would see (not ``<script>``, ``<style>``, ``<head>``, nor elements with
``hidden`` or ``display: none``), a line per block element.

Masked text stays masked: the Replay SDK replaces it with ``*`` before it
leaves the browser, and this is the text as recorded.

Linear time: each event is applied in time proportional to its size (children
are doubly linked, so an insert before a sibling or a removal is O(1)), and the
text is read again only when the page changed since the last reading, within a
budget of node visits (:data:`READ_BUDGET`); past the budget the last reading
stands, so the total is linear in the events plus a constant.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from glasspane.protocol.replay import event_seconds

FULL_SNAPSHOT, INCREMENTAL = 2, 3
SOURCE_MUTATION = 0
TEXT_NODE, CDATA_NODE = 3, 4
#: Elements whose text a reader does not see on the page.
INVISIBLE = frozenset({"script", "style", "noscript", "template", "head", "title", "meta", "link"})
#: Elements that start a new line of text.
BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "br", "button", "dd", "details",
        "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
        "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "label", "legend", "li", "main",
        "nav", "ol", "option", "p", "pre", "section", "select", "summary", "table", "tbody",
        "td", "textarea", "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
#: Characters of text kept per reading.
MAX_TEXT = 4000
#: Node visits spent reading the page, over all moments of one replay.
READ_BUDGET = 300_000


@dataclass(slots=True)
class _Dom:
    """The document as a tree of node ids, children doubly linked in order."""

    root: int | None = None
    tag: dict[int, str] = field(default_factory=dict)  # elements only
    text: dict[int, str] = field(default_factory=dict)  # text nodes only
    hidden_attr: set[int] = field(default_factory=set)
    display_none: set[int] = field(default_factory=set)
    parent: dict[int, int] = field(default_factory=dict)
    first: dict[int, int] = field(default_factory=dict)
    last: dict[int, int] = field(default_factory=dict)
    next: dict[int, int] = field(default_factory=dict)
    prev: dict[int, int] = field(default_factory=dict)

    def reset(self) -> None:
        for part in (self.tag, self.text, self.parent, self.first, self.last, self.next):
            part.clear()
        self.prev.clear()
        self.hidden_attr.clear()
        self.display_none.clear()
        self.root = None

    # -- structure -----------------------------------------------------------
    def unlink(self, node: int) -> None:
        parent = self.parent.pop(node, None)
        if parent is None:
            return
        before, after = self.prev.pop(node, None), self.next.pop(node, None)
        if before is None:
            _set(self.first, parent, after)
        else:
            _set(self.next, before, after)
        if after is None:
            _set(self.last, parent, before)
        else:
            _set(self.prev, after, before)

    def link(self, node: int, parent: int, before: int | None = None) -> None:
        """Make ``node`` a child of ``parent``, before its child ``before`` (else last)."""
        self.unlink(node)
        if before is not None and self.parent.get(before) != parent:
            before = None  # a sibling we do not know: append
        self.parent[node] = parent
        after_node = before
        before_node = self.prev.get(before) if before is not None else self.last.get(parent)
        _set(self.prev, node, before_node)
        _set(self.next, node, after_node)
        if before_node is None:
            self.first[parent] = node
        else:
            self.next[before_node] = node
        if after_node is None:
            self.last[parent] = node
        else:
            self.prev[after_node] = node

    def add(self, serialized: Any, parent: int | None, before: int | None = None) -> None:
        """A serialized rrweb node and its descendants (iteratively: nesting is unbounded)."""
        stack: list[tuple[Any, int | None, int | None]] = [(serialized, parent, before)]
        while stack:
            node, under, ahead = stack.pop()
            node_id = node.get("id") if isinstance(node, dict) else None
            if not isinstance(node_id, int):
                continue
            self.describe(node_id, node)
            if under is None:
                self.unlink(node_id)
                self.root = node_id
            else:
                self.link(node_id, under, ahead)
            children = node.get("childNodes")
            # Reversed onto the stack: popped, and so appended to the node, in order.
            for child in reversed(children) if isinstance(children, list) else []:
                stack.append((child, node_id, None))

    def describe(self, node_id: int, node: dict[str, Any]) -> None:
        kind, tag = node.get("type"), node.get("tagName")
        self.tag.pop(node_id, None)
        self.text.pop(node_id, None)
        self.hidden_attr.discard(node_id)
        self.display_none.discard(node_id)
        if kind in (TEXT_NODE, CDATA_NODE) and not node.get("isStyle"):
            content = node.get("textContent")
            self.text[node_id] = content if isinstance(content, str) else ""
        elif isinstance(tag, str):
            self.tag[node_id] = tag.lower()
            self.attributes(node_id, node.get("attributes"))

    def attributes(self, node_id: int, attributes: Any) -> None:
        """``hidden`` and ``style``'s ``display`` as set (or changed) on the element."""
        if not isinstance(attributes, dict):
            return
        if "hidden" in attributes:
            _flag(self.hidden_attr, node_id, attributes["hidden"] not in (None, False))
        if "style" in attributes:
            style = attributes["style"]
            if isinstance(style, dict):  # a mutation of single properties
                if "display" not in style:
                    return
                display = style["display"]
                display = display[0] if isinstance(display, list) and display else display
                _flag(self.display_none, node_id, display == "none")
            else:
                none = isinstance(style, str) and _display_none(style)
                _flag(self.display_none, node_id, none)

    def is_hidden(self, node_id: int) -> bool:
        return node_id in self.hidden_attr or node_id in self.display_none

    # -- reading -------------------------------------------------------------
    def read(self, budget: int) -> tuple[str, int]:
        """The visible text, a line per block; and the node visits it took."""
        lines: list[str] = []
        line: list[str] = []
        size = visits = 0
        stack: list[tuple[int, bool]] = [(self.root, False)] if self.root is not None else []
        while stack and visits < budget and size < MAX_TEXT:
            node, leaving = stack.pop()
            visits += 1
            tag = self.tag.get(node)
            if leaving or (tag in BLOCKS and line):
                if line:
                    lines.append(" ".join(line))
                    size += len(lines[-1])
                    line = []
                if leaving:
                    continue
            if node in self.text:
                words = self.text[node][: MAX_TEXT * 2].split()
                line.extend(words)
                continue
            if tag in INVISIBLE or self.is_hidden(node):
                continue
            if tag in BLOCKS:
                stack.append((node, True))
            stack.extend((child, False) for child in self._children_reversed(node))
        if line:
            lines.append(" ".join(line))
        text = "\n".join(lines)
        return (text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"), visits

    def _children_reversed(self, node: int) -> Iterable[int]:
        child = self.last.get(node)
        while child is not None:
            yield child
            child = self.prev.get(child)


def _set(mapping: dict[int, int], key: int, value: int | None) -> None:
    if value is None:
        mapping.pop(key, None)
    else:
        mapping[key] = value


def _flag(found: set[int], node_id: int, on: bool) -> None:
    if on:
        found.add(node_id)
    else:
        found.discard(node_id)


def _display_none(style: str) -> bool:
    compact = "".join(style[:2000].lower().split())
    return "display:none" in compact


def _apply_mutation(dom: _Dom, data: dict[str, Any]) -> None:
    for removed in data.get("removes") or []:
        if isinstance(removed, dict) and isinstance(removed.get("id"), int):
            dom.unlink(removed["id"])
    for added in data.get("adds") or []:
        if isinstance(added, dict) and isinstance(added.get("parentId"), int):
            ahead = added.get("nextId")
            dom.add(added.get("node"), added["parentId"], ahead if isinstance(ahead, int) else None)
    for change in data.get("texts") or []:
        if isinstance(change, dict) and change.get("id") in dom.text:
            value = change.get("value")
            dom.text[change["id"]] = value if isinstance(value, str) else ""
    for change in data.get("attributes") or []:
        if isinstance(change, dict) and isinstance(change.get("id"), int):
            dom.attributes(change["id"], change.get("attributes"))


def page_texts(events: Sequence[dict[str, Any]], moments: Sequence[float]) -> list[str]:
    """The page's visible text at each of ``moments`` (epoch seconds, ascending): the
    page after every event at or before it. ``""`` before the first full snapshot."""
    timed = sorted(
        (
            (ts, e)
            for e in events
            if isinstance(e, dict) and (ts := event_seconds(e.get("timestamp"))) is not None
        ),
        key=lambda pair: pair[0],
    )
    dom = _Dom()
    texts: list[str] = []
    current, changed, budget, position = "", False, READ_BUDGET, 0
    for moment in moments:
        while position < len(timed) and timed[position][0] <= moment:
            changed = _apply(dom, timed[position][1]) or changed
            position += 1
        if changed and budget > 0:
            text, spent = dom.read(budget)
            budget -= spent
            current = text if budget > 0 else current  # a reading cut short is not shown
            changed = False
        texts.append(current)
    return texts


def snapshot_time(event: Any) -> float | None:
    """When ``event`` is a full snapshot, its time (epoch seconds); else ``None``."""
    if not isinstance(event, dict) or event.get("type") != FULL_SNAPSHOT:
        return None
    return event_seconds(event.get("timestamp"))


def _apply(dom: _Dom, event: dict[str, Any]) -> bool:
    """Apply one event; whether the page may have changed."""
    data = event.get("data")
    if not isinstance(data, dict):
        return False
    if event.get("type") == FULL_SNAPSHOT:
        dom.reset()
        dom.add(data.get("node"), None)
        return True
    if event.get("type") == INCREMENTAL and data.get("source") == SOURCE_MUTATION:
        _apply_mutation(dom, data)
        return True
    return False
