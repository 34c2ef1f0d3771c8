"""A sampled profile → call tree → flame graph cells and the function table."""

from __future__ import annotations

from typing import Any

import pytest

from glasspane.query.flamegraph import active_thread, call_tree, cells, functions, threads
from glasspane.web.ui.charts import flame_rects

FRAMES = [
    {"function": "main", "module": "app", "filename": "app.py", "lineno": 1},
    {"function": "work", "module": "app", "filename": "app.py", "lineno": 5},
    {"function": "hash", "module": "crypto", "filename": "crypto.py", "lineno": 9},
    {"function": "work", "module": "app", "filename": "app.py", "lineno": 7},  # another line
]
# Innermost frame first, as the SDKs send stacks.
STACKS: list[Any] = [[2, 1, 0], [1, 0], [2, 3, 1, 0], [0], "junk", [99, 0]]


def _profile(samples: list[tuple[int, str]]) -> dict[str, Any]:
    return {
        "frames": FRAMES,
        "stacks": STACKS,
        "samples": [{"stack_id": s, "thread_id": t} for s, t in samples],
    }


def test_stacks_merge_by_function_from_the_outermost_frame() -> None:
    profile = _profile([(0, "1")] * 6 + [(1, "1")] * 2 + [(3, "1")] * 2 + [(0, "2")] * 5)
    root = call_tree(profile, "1")
    assert root.samples == 10
    [main] = root.children.values()
    assert (main.name, main.samples, main.self_samples) == ("app.main", 10, 2)
    [work] = main.children.values()
    assert (work.samples, work.self_samples) == (8, 2)
    assert work.children["crypto.hash"].samples == 6
    drawn = [(c.depth, c.name, round(c.start, 2), round(c.share, 2)) for c in cells(root)]
    assert drawn == [
        (0, "all", 0.0, 1.0),
        (1, "app.main", 0.0, 1.0),
        (2, "app.work", 0.0, 0.8),
        (3, "crypto.hash", 0.0, 0.6),
    ]
    assert threads(profile) == {"1": 10, "2": 5}
    assert call_tree(profile, None).samples == 15


def test_recursion_counts_once_per_sample_in_the_function_table() -> None:
    profile = _profile([(2, "1")] * 3 + [(1, "1")])  # work → work → hash
    table = {f["function"]: f for f in functions(profile, "1")}
    assert table["app.work"]["total_samples"] == 4 and table["app.work"]["total_share"] == 1.0
    assert table["crypto.hash"]["self_samples"] == 3 and table["crypto.hash"]["self_share"] == 0.75
    assert table["app.work"]["self_samples"] == 1
    assert next(iter(table)) == "crypto.hash"  # most self time first


def test_bad_stacks_and_samples_are_skipped() -> None:
    profile = _profile([(4, "1"), (5, "1"), (77, "1")])
    profile["samples"] += ["x", {"stack_id": "0"}]
    root = call_tree(profile, None)
    assert root.samples == 2  # the junk stack (no frames) and [99, 0] (frame 0 only)
    assert [c.name for c in cells(root)] == ["all", "app.main"]
    assert cells(call_tree({"samples": None}, None)) == []


def test_active_thread_from_the_transaction() -> None:
    assert active_thread({"transactions": [{"active_thread_id": 42}]}) == "42"
    assert active_thread({"transaction": {"active_thread_id": "7"}}) == "7"
    assert active_thread({}) is None


@pytest.mark.parametrize("width", [720.0, 100.0])
def test_flame_rects_cut_labels_to_fit(width: float) -> None:
    profile = _profile([(0, "1")] * 99 + [(1, "1")])
    rects, height = flame_rects(cells(call_tree(profile, "1")), width)
    assert height == 4 * 18.0
    hash_rect = rects[-1]
    assert hash_rect.name == "crypto.hash" and hash_rect.width == pytest.approx(0.99 * width)
    assert "crypto.py:9 · 99 samples (99.0%)" in hash_rect.title
    assert len(hash_rect.label) * 6.8 <= hash_rect.width
