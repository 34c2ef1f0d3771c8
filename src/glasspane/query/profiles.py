"""Profiles in the API's shape: the list (by transaction or trace), and one
profile with its samples summarised into the functions that took the time.

``self_samples`` counts samples whose innermost frame is the function (where
the CPU was); ``total_samples`` samples with the function anywhere on the
stack. Sampling runs at a fixed rate (101 Hz in sentry-python), so samples are
proportional to time.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import orjson

from glasspane.domain import Profile, Project
from glasspane.errors import NotFound, ProtocolError
from glasspane.query import flamegraph
from glasspane.store.api import SdkItemReader
from glasspane.store.models import Window

MAX_LIMIT = 1000
TOP_FUNCTIONS = 30


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _hex(value: str, what: str) -> str:
    text = value.strip().lower().replace("-", "")
    if len(text) != 32 or any(c not in "0123456789abcdef" for c in text):
        raise ProtocolError(f"{what} {value!r} is not 32 hex digits")
    return text


def profile_json(p: Profile, projects: dict[int, Project]) -> dict[str, Any]:
    project = projects.get(p.project_id)
    return {
        "id": p.profile_id,
        "kind": p.kind,
        "project": project.name if project else str(p.project_id),
        "project_id": p.project_id,
        "timestamp": p.timestamp,
        "platform": p.platform,
        "duration_ms": p.duration_ms,
        "samples": p.samples,
        "environment": p.environment,
        "release": p.release,
        "transaction": {
            "event_id": p.transaction_id,
            "name": p.transaction,
            "trace_id": p.trace_id,
        }
        if p.kind == "transaction"
        else None,
        "profiler_id": p.profiler_id,
    }


def _frame_name(frame: Any) -> str:
    if not isinstance(frame, dict):
        return "?"
    where = frame.get("module") or frame.get("filename") or frame.get("abs_path") or "?"
    return f"{where}.{frame.get('function') or '?'}"


def top_functions(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Functions by samples, innermost frame first in each stack (the SDK's order)."""
    profile = _dict(payload.get("profile"))
    frames = profile.get("frames") or []
    stacks = profile.get("stacks") or []
    own: Counter[int] = Counter()
    total: Counter[int] = Counter()
    for sample in profile.get("samples") or []:
        stack_id = sample.get("stack_id") if isinstance(sample, dict) else None
        if not isinstance(stack_id, int) or not 0 <= stack_id < len(stacks):
            continue
        stack = [f for f in stacks[stack_id] if isinstance(f, int) and 0 <= f < len(frames)]
        if stack:
            own[stack[0]] += 1
        total.update(set(stack))
    count = max(1, sum(own.values()))
    return [
        {
            "function": _frame_name(frames[i]),
            "file": frames[i].get("filename") if isinstance(frames[i], dict) else None,
            "line": frames[i].get("lineno") if isinstance(frames[i], dict) else None,
            "in_app": frames[i].get("in_app") if isinstance(frames[i], dict) else None,
            "self_samples": own[i],
            "total_samples": n,
            "total_share": round(n / count, 4),
        }
        for i, n in total.most_common(TOP_FUNCTIONS)
    ]


def _load(store: SdkItemReader, profile_id: str) -> tuple[Profile, dict[str, Any]]:
    profile = store.get_profile(_hex(profile_id, "Profile id"))
    if profile is None:
        raise NotFound(f"No profile {profile_id}: it has not arrived, or was not sampled")
    payload = orjson.loads(profile.payload) if profile.payload else {}
    return profile, _dict(payload)


def flame_graph(
    store: SdkItemReader, projects: list[Project], profile_id: str, thread: str | None = None
) -> dict[str, Any]:
    """One profile's flame graph cells and hot functions, for one thread: the one
    asked for, else the transaction's active thread, else every sample."""
    profile, payload = _load(store, profile_id)
    sampled = _dict(payload.get("profile"))
    counts = flamegraph.threads(sampled)
    chosen = thread if thread is not None else flamegraph.active_thread(payload)
    if chosen not in counts:
        if thread is not None:
            raise ProtocolError(f"Profile {profile_id} has no samples of thread {thread!r}")
        chosen = None
    names = _dict(sampled.get("thread_metadata"))
    root = flamegraph.call_tree(sampled, chosen)
    return {
        **profile_json(profile, {p.id: p for p in projects}),
        "thread": chosen,
        "threads": [
            {"id": tid, "name": _dict(names.get(tid)).get("name"), "samples": n}
            for tid, n in counts.items()
        ],
        "thread_samples": root.samples,
        "cells": flamegraph.cells(root),
        "functions": flamegraph.functions(sampled, chosen),
    }


def get_profile(store: SdkItemReader, projects: list[Project], profile_id: str) -> dict[str, Any]:
    profile, payload = _load(store, profile_id)
    return {
        **profile_json(profile, {p.id: p for p in projects}),
        "top_functions": top_functions(payload),
        "profile": payload.get("profile"),
    }


def list_profiles(
    store: SdkItemReader,
    projects: list[Project],
    window: Window,
    transaction_id: str | None,
    trace_id: str | None,
    limit: int,
) -> dict[str, Any]:
    if not 1 <= limit <= MAX_LIMIT:
        raise ProtocolError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    txn = _hex(transaction_id, "transaction_id") if transaction_id else None
    trace = _hex(trace_id, "trace_id") if trace_id else None
    by_id = {p.id: p for p in projects}
    rows = store.list_profiles(window, txn, trace, limit)
    return {"profiles": [profile_json(p, by_id) for p in rows]}


#: Profiles listed on a transaction's summary page.
RECENT_OF_TRANSACTION = 10
#: Profiles looked through for one transaction name (the store lists by time, not by name).
SCAN_OF_TRANSACTION = MAX_LIMIT


def of_transaction(
    store: SdkItemReader,
    projects: list[Project],
    window: Window,
    name: str,
    limit: int = RECENT_OF_TRANSACTION,
) -> list[dict[str, Any]]:
    """The newest profiles of the transactions called ``name`` in the window."""
    by_id = {p.id: p for p in projects}
    rows = store.list_profiles(window, None, None, SCAN_OF_TRANSACTION)
    return [profile_json(p, by_id) for p in rows if p.transaction == name][:limit]


def of_trace(store: SdkItemReader, trace_id: str) -> dict[str, str]:
    """The profile id of each profiled transaction (by its event id) in a trace."""
    everything = Window(0.0, time.time() + 86400.0)
    rows = store.list_profiles(everything, None, _hex(trace_id, "trace_id"), 100)
    return {p.transaction_id: p.profile_id for p in rows if p.transaction_id}
