"""The page's text at a moment, rebuilt from rrweb-shaped events."""

from __future__ import annotations

from typing import Any

from glasspane.query.replay_dom import MAX_TEXT, page_texts

T0 = 1_700_000_000.0


def el(node_id: int, tag: str, *children: dict[str, Any], **attributes: Any) -> dict[str, Any]:
    return {
        "type": 2,
        "id": node_id,
        "tagName": tag,
        "attributes": attributes,
        "childNodes": list(children),
    }


def text(node_id: int, content: str) -> dict[str, Any]:
    return {"type": 3, "id": node_id, "textContent": content}


def snapshot(at: float) -> dict[str, Any]:
    """The test page: a title, a heading, a form, a status line, a script."""
    document = {
        "type": 0,
        "id": 1,
        "childNodes": [
            el(
                2,
                "html",
                el(3, "head", el(4, "title", text(5, "Documents"))),
                el(
                    6,
                    "body",
                    el(7, "h1", text(8, "Documents")),
                    el(9, "button", text(10, "Upload "), el(11, "b", text(12, "Document"))),
                    el(13, "p", text(14, "Idle"), id="status"),
                    el(15, "script", text(16, "var secret = 1;")),
                    el(17, "div", text(18, "Hidden tip"), hidden=""),
                ),
            )
        ],
    }
    return {"type": 2, "timestamp": at * 1000, "data": {"node": document}}


def mutation(at: float, **data: Any) -> dict[str, Any]:
    return {"type": 3, "timestamp": at * 1000, "data": {"source": 0, **data}}


EVENTS = [
    {"type": 4, "timestamp": T0 * 1000, "data": {"href": "http://shop/"}},
    snapshot(T0),
    mutation(T0 + 1, texts=[{"id": 14, "value": "Processing..."}]),
    mutation(
        T0 + 2,
        adds=[{"parentId": 6, "nextId": 13, "node": el(20, "div", text(21, "Upload failed"))}],
        texts=[{"id": 14, "value": "***** *****"}],
    ),
    mutation(
        T0 + 3,
        removes=[{"parentId": 6, "id": 7}],
        attributes=[{"id": 17, "attributes": {"hidden": None}}],
    ),
    mutation(T0 + 4, attributes=[{"id": 20, "attributes": {"style": {"display": "none"}}}]),
]


def test_the_text_follows_the_page_through_its_mutations() -> None:
    before, start, processing, failed, removed, hidden = page_texts(
        EVENTS, [T0 - 1, T0, T0 + 1, T0 + 2.5, T0 + 3, T0 + 9]
    )
    assert before == ""
    # The title, the script and the hidden element are not on the page; inline
    # text joins its line, a block starts one.
    assert start == "Documents\nUpload Document\nIdle"
    assert processing == "Documents\nUpload Document\nProcessing..."
    # Added before the status line; masked text stays masked.
    assert failed == "Documents\nUpload Document\nUpload failed\n***** *****"
    assert removed == "Upload Document\nUpload failed\n***** *****\nHidden tip"
    assert hidden == "Upload Document\n***** *****\nHidden tip"


def test_events_out_of_order_apply_by_time_and_junk_is_skipped() -> None:
    junk: list[Any] = [None, {"type": 3}, {"type": 3, "timestamp": "x"}, mutation(T0, adds="x")]
    shuffled = [EVENTS[2], *junk, EVENTS[1]]
    assert page_texts(shuffled, [T0 + 1]) == ["Documents\nUpload Document\nProcessing..."]
    assert page_texts([], [T0]) == [""]


def test_a_new_full_snapshot_replaces_the_page() -> None:
    again = {
        "type": 2,
        "timestamp": (T0 + 5) * 1000,
        "data": {"node": el(1, "body", text(2, "Fresh"))},
    }
    assert page_texts([*EVENTS, again], [T0 + 5])[0] == "Fresh"


def test_the_text_is_capped() -> None:
    long = {
        "type": 2,
        "timestamp": T0 * 1000,
        "data": {"node": el(1, "p", text(2, "word " * 10_000))},
    }
    [shown] = page_texts([long], [T0])
    assert len(shown) == MAX_TEXT and shown.endswith("…")
