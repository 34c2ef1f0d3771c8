"""Grouping: which error events are the same bug."""

from __future__ import annotations

import re
from typing import Any

import pytest

from glasspane.domain import ExceptionInfo, Frame
from glasspane.normalize.fingerprint import default_parts, fingerprint, mask


def frame(function: str, lineno: int = 1, *, in_app: bool | None = True, **kw: Any) -> Frame:
    kw.setdefault("module", "app.upload")
    kw.setdefault("filename", "app/upload.py")
    return Frame(function=function, lineno=lineno, in_app=in_app, **kw)


def exc(
    type_: str | None = "ValueError", value: str | None = "bad", *frames: Frame
) -> ExceptionInfo:
    return ExceptionInfo(type=type_, value=value, frames=list(frames))


def fp(*exceptions: ExceptionInfo, message: str | None = None, sdk: Any = None) -> str:
    return fingerprint(list(exceptions), message, sdk)


LIB = {"module": "requests.api", "filename": "requests/api.py"}


def test_is_a_stable_hex_digest() -> None:
    value = fp(exc("ValueError", "bad", frame("handler")))
    assert re.fullmatch(r"[0-9a-f]{32}", value)
    assert value == fp(exc("ValueError", "bad", frame("handler")))


# -- pairs that group together / apart ---------------------------------------------------

SAME: list[tuple[str, list[ExceptionInfo], list[ExceptionInfo]]] = [
    (
        "in-app-line-numbers-differ",
        [exc("KeyError", "'a'", frame("load", 10), frame("handler", 20))],
        [exc("KeyError", "'a'", frame("load", 11), frame("handler", 99))],
    ),
    (
        "message-differs-when-there-are-frames",
        [exc("TimeoutError", "after 12.0s from rpc-node-2", frame("submit"))],
        [exc("TimeoutError", "after 3.5s from rpc-node-7", frame("submit"))],
    ),
    (
        "entirely-different-message-with-frames",
        [exc("ValueError", "no such user", frame("load"))],
        [exc("ValueError", "something else", frame("load"))],
    ),
    (
        "library-frames-ignored-when-in-app-frames-exist",
        [exc("ValueError", "x", frame("handler"), frame("get", in_app=False, **LIB))],
        [exc("ValueError", "x", frame("handler"), frame("post", in_app=False, **LIB))],
    ),
    (
        "no-in-app-frames-line-numbers-differ",
        [exc("ValueError", "x", frame("get", 1, in_app=False, **LIB))],
        [exc("ValueError", "x", frame("get", 2, in_app=False, **LIB))],
    ),
    (
        "no-frames-masked-message",
        [exc("NotFound", "user 42 not found (id 0x1f, 550e8400-e29b-41d4-a716-446655440000)")],
        [exc("NotFound", "user 7 not found (id 0xa0, 6fa459ea-ee8a-3ca4-894e-db77e160355e)")],
    ),
    (
        "filename-when-no-module",
        [exc("E", "x", frame("f", 1, module=None, filename="a.js"))],
        [exc("E", "x", frame("f", 9, module=None, filename="a.js"))],
    ),
    (
        "column-and-context-ignored",
        [exc("E", "x", frame("f", colno=1, context_line="a = 1"))],
        [exc("E", "x", frame("f", colno=5, context_line="a = 2"))],
    ),
]

DIFFERENT: list[tuple[str, list[ExceptionInfo], list[ExceptionInfo]]] = [
    (
        "different-function",
        [exc("KeyError", "'a'", frame("load"))],
        [exc("KeyError", "'a'", frame("save"))],
    ),
    (
        "different-type",
        [exc("KeyError", "x", frame("load"))],
        [exc("ValueError", "x", frame("load"))],
    ),
    (
        "different-module",
        [exc("E", "x", frame("load", module="app.a"))],
        [exc("E", "x", frame("load", module="app.b"))],
    ),
    (
        "extra-in-app-frame",
        [exc("E", "x", frame("handler"), frame("load"))],
        [exc("E", "x", frame("load"))],
    ),
    (
        "no-in-app-frames-uses-all-frames",
        [exc("E", "x", frame("get", in_app=False, **LIB))],
        [exc("E", "x", frame("post", in_app=False, **LIB))],
    ),
    (
        "in-app-unknown-counts-as-library",
        [exc("E", "x", frame("get", in_app=None, **LIB))],
        [exc("E", "x", frame("post", in_app=None, **LIB))],
    ),
    (
        "no-frames-different-words",
        [exc("NotFound", "user 42 not found")],
        [exc("NotFound", "order 42 not found")],
    ),
    (
        "chained-differs-from-single",
        [exc("OSError", "x", frame("read")), exc("RuntimeError", "y", frame("handler"))],
        [exc("RuntimeError", "y", frame("handler"))],
    ),
    (
        "chain-order-matters",
        [exc("A", "x", frame("f")), exc("B", "x", frame("g"))],
        [exc("B", "x", frame("g")), exc("A", "x", frame("f"))],
    ),
    (
        "different-cause",
        [exc("OSError", "x", frame("read")), exc("RuntimeError", "y", frame("handler"))],
        [exc("KeyError", "x", frame("read")), exc("RuntimeError", "y", frame("handler"))],
    ),
]


@pytest.mark.parametrize(("a", "b"), [(a, b) for _, a, b in SAME], ids=[n for n, _, _ in SAME])
def test_same_group(a: list[ExceptionInfo], b: list[ExceptionInfo]) -> None:
    assert fp(*a) == fp(*b)


@pytest.mark.parametrize(
    ("a", "b"), [(a, b) for _, a, b in DIFFERENT], ids=[n for n, _, _ in DIFFERENT]
)
def test_different_group(a: list[ExceptionInfo], b: list[ExceptionInfo]) -> None:
    assert fp(*a) != fp(*b)


# -- default parts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exceptions", "message", "parts"),
    [
        pytest.param(
            [exc("KeyError", "'a'", frame("handler", module="app.views"), frame("load"))],
            None,
            ["KeyError", "app.views:handler", "app.upload:load"],
            id="in-app-frames",
        ),
        pytest.param(
            [exc("E", "x", frame("handler"), frame("get", in_app=False, **LIB))],
            None,
            ["E", "app.upload:handler"],
            id="library-frames-dropped",
        ),
        pytest.param(
            [exc("E", "x", frame("get", in_app=False, **LIB), frame("send", in_app=None, **LIB))],
            None,
            ["E", "requests.api:get", "requests.api:send"],
            id="all-frames-without-in-app",
        ),
        pytest.param(
            [exc("E", "x", Frame(filename="app.js", function="onClick", in_app=True))],
            None,
            ["E", "app.js:onClick"],
            id="filename-fallback",
        ),
        pytest.param(
            [exc("E", "x", Frame(in_app=True))],
            None,
            ["E", "?:?"],
            id="empty-frame",
        ),
        pytest.param([exc("E", "id 42")], None, ["E", "id <num>"], id="no-frames"),
        pytest.param([exc(None, None)], None, ["Error", ""], id="nothing-known"),
        pytest.param([], "order 12 failed", ["order <num> failed"], id="message-only"),
        pytest.param([], None, [""], id="empty"),
        pytest.param(
            [exc("A", "a", frame("f")), exc("B", "b", frame("g"))],
            None,
            ["A", "app.upload:f", "B", "app.upload:g"],
            id="chain",
        ),
    ],
)
def test_default_parts(
    exceptions: list[ExceptionInfo], message: str | None, parts: list[str]
) -> None:
    assert default_parts(exceptions, message) == parts


def test_message_is_ignored_when_there_are_exceptions() -> None:
    e = exc("E", "x", frame("f"))
    assert fp(e, message="one") == fp(e, message="two")


def test_message_events_group_by_masked_message() -> None:
    assert fp(message="retry 3 of 5 for 10.0.0.1") == fp(message="retry 4 of 5 for 10.0.0.2")
    assert fp(message="payment retry threshold reached") != fp(message="payment failed")


# -- masking -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "masked"),
    [
        ("user 12345 not found", "user <num> not found"),
        ("took 12.5s", "took <num>s"),
        ("3 of 10", "<num> of <num>"),
        ("address 0xdeadbeef", "address <hex>"),
        ("flags 0x1F set", "flags <hex> set"),
        ("commit 3f2a9c1 broke", "commit <hex> broke"),
        ("id 550e8400-e29b-41d4-a716-446655440000 missing", "id <uuid> missing"),
        ("id 550E8400E29B41D4A716446655440000 missing", "id <uuid> missing"),
        ("mail a.b+c@example.co.uk failed", "mail <email> failed"),
        ("from 10.0.0.1 and 192.168.100.254", "from <ip> and <ip>"),
        ("no variable parts here", "no variable parts here"),
        ("deadbeef cafe face", "deadbeef cafe face"),
        ("", ""),
    ],
)
def test_mask(message: str, masked: str) -> None:
    assert mask(message) == masked


def test_mask_is_idempotent() -> None:
    message = "user 42 at 10.0.0.1 id 0xff mail x@y.com"
    assert mask(mask(message)) == mask(message)


# -- the SDK's fingerprint ---------------------------------------------------------------


def test_sdk_fingerprint_replaces_the_default() -> None:
    a = exc("KeyError", "x", frame("load"))
    b = exc("ValueError", "y", frame("save"))
    assert fp(a, sdk=["payments"]) == fp(b, sdk=["payments"])
    assert fp(a, sdk=["payments"]) != fp(a, sdk=["orders"])
    assert fp(a, sdk=["payments"]) != fp(a)


@pytest.mark.parametrize("entry", ["{{ default }}", "{{default}}", " {{  default  }} "])
def test_sdk_default_entry_alone_is_the_default(entry: str) -> None:
    e = exc("KeyError", "x", frame("load"))
    assert fp(e, sdk=[entry]) == fp(e)


def test_sdk_default_entry_with_extra_parts_splits_the_default_group() -> None:
    a = exc("KeyError", "x", frame("load"))
    b = exc("ValueError", "y", frame("save"))
    assert fp(a, sdk=["{{ default }}", "tenant-1"]) != fp(a)
    assert fp(a, sdk=["{{ default }}", "tenant-1"]) != fp(a, sdk=["{{ default }}", "tenant-2"])
    assert fp(a, sdk=["{{ default }}", "tenant-1"]) != fp(b, sdk=["{{ default }}", "tenant-1"])
    assert fp(a, sdk=["{{ default }}", "t"]) == fp(
        exc("KeyError", "z", frame("load", 7)),
        sdk=[
            "{{ default }}",
            "t",
        ],
    )


def test_sdk_custom_part_cannot_collide_with_a_default_part() -> None:
    e = exc("KeyError", None)
    assert fp(e, sdk=["KeyError", ""]) != fp(e)


@pytest.mark.parametrize("sdk", [None, [], "payments", {"a": 1}, 5])
def test_unusable_sdk_fingerprint_is_ignored(sdk: Any) -> None:
    e = exc("KeyError", "x", frame("load"))
    assert fp(e, sdk=sdk) == fp(e)


def test_sdk_fingerprint_non_string_entries() -> None:
    e = exc("KeyError", "x", frame("load"))
    assert fp(e, sdk=[1, None]) == fp(e, sdk=["1", "None"])
