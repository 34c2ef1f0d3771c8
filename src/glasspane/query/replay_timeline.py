"""A replay's timeline from its rrweb events: what the user did and saw.

Pure: recording events in, timeline entries out. The Replay SDK records
Sentry breadcrumbs and performance entries as rrweb custom events (type 5)
beside rrweb's own DOM events, so:

* **navigation**: ``performanceSpan`` ops ``navigation.*`` (page loads and
  history pushes), and rrweb meta events (type 4) for a URL not yet seen;
* **click**: ``ui.click`` breadcrumbs, with the element's own text
  (``data.node.textContent``) and its selector; ``ui.multiClick`` is a
  ``rage_click``, ``ui.slowClickDetected`` a ``dead_click``;
* **input**: ``ui.input`` breadcrumbs, with the value rrweb recorded for the
  element (input events, source 5) — masked (``***``) unless the page
  unmasked it: the SDK masks before sending, glasspane never sees the text;
* **network**: ``performanceSpan`` ops ``resource.fetch`` / ``resource.xhr``
  with method, URL, status and duration;
* **dom**: text the page added or changed (rrweb mutations, source 0), the
  "Processing..." spinner and the error toast of a story;
* **console** (errors and warnings) and **feedback** breadcrumbs.

Errors come from the error events the replay links to; the caller adds them.
Each entry has ``type``, ``timestamp`` (epoch seconds) and ``description``.
"""

from __future__ import annotations

from typing import Any

from glasspane.protocol.replay import event_seconds

META, INCREMENTAL, CUSTOM = 4, 3, 5
FULL_SNAPSHOT = 2
SOURCE_MUTATION, SOURCE_INPUT = 0, 5
NETWORK_OPS = frozenset({"resource.fetch", "resource.xhr"})
MAX_TEXT = 200
#: DOM text entries are capped: a busy page mutates constantly.
MAX_DOM_ENTRIES = 500
NAVIGATION_MERGE_SECONDS = 5.0


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _short(value: Any, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, (str, int, float)):  # the repr of deep nesting never ends well
        value = f"[{type(value).__name__}]"
    text = " ".join(str(value)[: limit * 4].split())  # no more than the limit needs
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _masked(value: str) -> bool:
    return bool(value) and set(value) <= {"*", "•"}


class NodeIndex:
    """rrweb node id → (tag, attributes), from full snapshots and mutation adds."""

    def __init__(self) -> None:
        self.nodes: dict[int, tuple[str, dict[str, Any]]] = {}
        self.skip_text: set[int] = set()  # children of <script>/<style>

    def add(self, node: Any, parent_tag: str = "") -> None:
        stack = [(node, parent_tag)]
        while stack:
            current, parent = stack.pop()
            if not isinstance(current, dict):
                continue
            tag = str(current.get("tagName") or "")
            node_id = current.get("id")
            if isinstance(node_id, int):
                if tag:
                    attrs = current.get("attributes")
                    self.nodes[node_id] = (tag, attrs if isinstance(attrs, dict) else {})
                if parent in ("script", "style"):
                    self.skip_text.add(node_id)
            children = current.get("childNodes")
            for child in children if isinstance(children, list) else []:
                stack.append((child, tag or parent))

    def describe(self, node_id: Any) -> str | None:
        found = self.nodes.get(node_id) if isinstance(node_id, int) else None
        if found is None:
            return None
        tag, attrs = found
        ident = f"#{attrs['id']}" if attrs.get("id") else ""
        name = f'[name="{attrs["name"]}"]' if attrs.get("name") and not ident else ""
        return f"{tag}{ident}{name}"


def _element(crumb: dict[str, Any]) -> dict[str, Any]:
    data = _dict(crumb.get("data"))
    node = _dict(data.get("node"))
    attrs = _dict(node.get("attributes"))
    return {
        "selector": _short(crumb.get("message") or "", 500),
        "element": node.get("tagName"),
        "element_id": attrs.get("id"),
        "text": _short(node.get("textContent") or ""),
        "node_id": data.get("nodeId"),
    }


def _element_name(element: dict[str, Any]) -> str:
    if element["text"]:
        return f'"{element["text"]}"'
    tag = element["element"] or "element"
    return f"{tag}#{element['element_id']}" if element["element_id"] else tag


class _Builder:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.index = NodeIndex()
        self.inputs: list[tuple[float, Any, str]] = []  # (time, node id, text)
        self.ui_crumbs: list[tuple[float, dict[str, Any]]] = []
        self.urls_seen: dict[str, dict[str, Any]] = {}
        self.dom_entries = 0

    def add(self, kind: str, ts: float, description: str, **fields: Any) -> None:
        self.entries.append({"type": kind, "timestamp": ts, "description": description, **fields})

    # -- rrweb events --------------------------------------------------------
    def event(self, event: dict[str, Any]) -> None:
        ts = event_seconds(event.get("timestamp"))
        data = _dict(event.get("data"))
        if ts is None:
            return
        kind = event.get("type")
        if kind == FULL_SNAPSHOT:
            self.index.add(data.get("node"))
        elif kind == META and isinstance(data.get("href"), str):
            self.navigation(ts, data["href"])
        elif kind == INCREMENTAL:
            self.incremental(ts, data)
        elif kind == CUSTOM:
            self.custom(ts, data)

    def navigation(self, ts: float, url: str) -> None:
        """One entry per page view: the meta event and the navigation entry of one
        load (up to seconds apart) merge, keeping the earlier time."""
        seen = self.urls_seen.get(url)
        if seen is not None and abs(seen["timestamp"] - ts) < NAVIGATION_MERGE_SECONDS:
            seen["timestamp"] = min(seen["timestamp"], ts)
            return
        self.add("navigation", ts, f"Navigated to {url}", url=url)
        self.urls_seen[url] = self.entries[-1]

    def incremental(self, ts: float, data: dict[str, Any]) -> None:
        source = data.get("source")
        if source == SOURCE_INPUT and isinstance(data.get("text"), str):
            self.inputs.append((ts, data.get("id"), data["text"]))
        elif source == SOURCE_MUTATION:
            self.mutation(ts, data)

    def mutation(self, ts: float, data: dict[str, Any]) -> None:
        for add in data.get("adds") or []:
            if isinstance(add, dict):
                parent = add.get("parentId")
                parent_tag = self.index.nodes.get(parent, ("", {}))[0] if parent else ""
                self.index.add(add.get("node"), parent_tag)
        texts: list[str] = []
        for add in data.get("adds") or []:
            node = _dict(_dict(add).get("node"))
            is_text = node.get("type") == 3  # a text node
            if is_text and node.get("id") not in self.index.skip_text and not node.get("isStyle"):
                texts.append(_short(node.get("textContent") or ""))
        for change in data.get("texts") or []:
            changed = isinstance(change, dict) and isinstance(change.get("value"), str)
            if changed and change.get("id") not in self.index.skip_text:
                texts.append(_short(change["value"]))
        texts = [t for t in dict.fromkeys(texts) if t]
        if texts and self.dom_entries < MAX_DOM_ENTRIES:
            self.dom_entries += 1
            shown = " · ".join(f'"{t}"' for t in texts[:3])
            self.add("dom", ts, f"Page shows {shown}", texts=texts[:10])

    def custom(self, ts: float, data: dict[str, Any]) -> None:
        payload = _dict(data.get("payload"))
        if data.get("tag") == "breadcrumb":
            crumb_ts = event_seconds(payload.get("timestamp"))
            self.breadcrumb(ts if crumb_ts is None else crumb_ts, payload)
        elif data.get("tag") == "performanceSpan":
            start = event_seconds(payload.get("startTimestamp"))
            self.performance(ts if start is None else start, payload)

    def breadcrumb(self, ts: float, crumb: dict[str, Any]) -> None:
        category = crumb.get("category")
        data = _dict(crumb.get("data"))
        if category in ("ui.click", "ui.input"):
            self.ui_crumbs.append((ts, crumb))
        elif category == "ui.multiClick":
            element = _element(crumb)
            clicks = data.get("clickCount")
            self.add(
                "rage_click",
                ts,
                f"Rage-clicked {_element_name(element)} ({clicks}×)",
                clicks=clicks,
                **element,
            )
        elif category == "ui.slowClickDetected":
            element = _element(crumb)
            self.add(
                "dead_click",
                ts,
                f"Clicked {_element_name(element)}: nothing happened",
                timeout_ms=data.get("timeAfterClickMs"),
                **element,
            )
        elif category == "navigation" and isinstance(data.get("to"), str):
            self.navigation(ts, data["to"])
        elif category == "console" and crumb.get("level") in ("error", "warning"):
            message = _short(crumb.get("message") or "")
            self.add(
                "console",
                ts,
                f"Console {crumb['level']}: {message}",
                level=crumb["level"],
                message=message,
            )
        elif category == "sentry.feedback":
            self.add("feedback", ts, "User sent feedback", feedback_id=data.get("feedbackId"))

    def performance(self, ts: float, span: dict[str, Any]) -> None:
        op = str(span.get("op") or "")
        url = span.get("description")
        if op.startswith("navigation.") and isinstance(url, str):
            self.navigation(ts, url)
        elif op in NETWORK_OPS:
            data = _dict(span.get("data"))
            end = event_seconds(span.get("endTimestamp"))
            status, method = data.get("statusCode"), data.get("method") or "GET"
            self.add(
                "network",
                ts,
                f"{method} {url} → {status if status is not None else 'failed'}",
                method=method,
                url=url,
                status=status,
                duration_ms=round((end - ts) * 1000.0, 3) if end is not None else None,
                op=op,
            )

    # -- after all events ------------------------------------------------------
    def finish(self) -> list[dict[str, Any]]:
        crumbs = sorted(self.ui_crumbs, key=lambda c: c[0])
        covered: set[int] = set()
        for i, (ts, crumb) in enumerate(crumbs):
            element = _element(crumb)
            if crumb.get("category") == "ui.click":
                self.add("click", ts, f"Clicked {_element_name(element)}", **element)
                continue
            end = crumbs[i + 1][0] if i + 1 < len(crumbs) else float("inf")
            typed = [
                (n, (t, text))
                for n, (t, node, text) in enumerate(self.inputs)
                if node == element["node_id"] and ts - 0.5 <= t < end
            ]
            covered.update(n for n, _ in typed)
            value = typed[-1][1][1] if typed else None
            self.input_entry(ts, element, value)
        self.uncovered_inputs(covered)
        return sorted(self.entries, key=lambda e: e["timestamp"])

    def input_entry(self, ts: float, element: dict[str, Any], value: str | None) -> None:
        masked = _masked(value or "")
        what = f'"{_short(value)}"' if value else "text"
        if element["element"] and element["element_id"]:
            target = f"{element['element']}#{element['element_id']}"
        else:
            target = element["selector"] or "an input"
        self.add("input", ts, f"Typed {what} into {target}", value=value, masked=masked, **element)

    def uncovered_inputs(self, covered: set[int]) -> None:
        """Input rrweb saw without a breadcrumb: one entry per run on one element."""
        last_node: Any = object()
        run: list[tuple[float, Any, str]] = []
        for n, item in enumerate([*self.inputs, (0.0, object(), "")]):
            if n in covered or item[1] != last_node:
                if run:
                    node = run[0][1]
                    name = self.index.describe(node) or "an input"
                    element = {
                        "selector": name,
                        "element": None,
                        "element_id": None,
                        "text": "",
                        "node_id": node,
                    }
                    self.input_entry(run[0][0], element, run[-1][2])
                run = []
            if n not in covered:
                run.append(item)
            last_node = item[1]


def build_timeline(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The timeline of one replay's rrweb events (all segments, in order), by time."""
    builder = _Builder()
    for event in events:
        builder.event(event)
    return builder.finish()
