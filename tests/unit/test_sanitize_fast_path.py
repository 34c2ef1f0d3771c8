"""The sanitizer's quick "nothing to do" check never skips a value that needed work."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from glasspane.normalize.limits import clamp
from glasspane.normalize.sanitize import Policy, _clean
from glasspane.normalize.scrub import Scrubber

POLICY = Policy(max_string_length=40, max_json_depth=4, scrubber=Scrubber("custom_secret"))

TEXT = st.text(alphabet=st.sampled_from("ab=&?0123456789 -x@.:"), max_size=60) | st.sampled_from(
    ["4111 1111 1111 1111", "token=abc", "4111111111111112", "140234567890123"]
)
KEYS = TEXT | st.sampled_from(["password", "Authorization", "thread.id", "custom_secret", "x"])
JSON: Any = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=25,
)


def _full(value: Any) -> Any:
    assert POLICY.scrubber is not None
    scrubbed = POLICY.scrubber.scrub(value)
    return clamp(scrubbed, POLICY.max_string_length, POLICY.max_json_depth)


@settings(max_examples=400, deadline=None)
@given(JSON)
def test_a_value_called_clean_is_one_the_full_path_leaves_alone(value: Any) -> None:
    if _clean(value, POLICY):
        assert _full(value) == value


def test_what_needs_work_is_not_called_clean() -> None:
    for value in (
        {"password": "hunter2"},
        {"url": "https://x/?token=abc"},
        {"card": "4111 1111 1111 1111"},
        {"long": "x" * 41},
        {"x" * 41: 1},
        {"a": {"b": {"c": {"d": {"e": 1}}}}},
        [["Authorization", "Bearer abc"]],
    ):
        assert not _clean(value, POLICY), value
        assert _full(value) != value
    assert _clean({"thread.id": "140234567890123", "n": 3, "ok": [1, "two"]}, POLICY)
