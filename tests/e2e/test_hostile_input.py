"""One envelope cannot stall the others (issue J), against a real server.

While a few clients post envelopes carrying 5 MiB and 1 MiB hostile strings
(messages, exception values, culprits, transaction names, breadcrumbs, 200 KB
span descriptions) to the envelope endpoint, the legacy ``/store/`` and OTLP,
a prober keeps sending small envelopes (framed by the real SDK's envelope
classes) and asking ``/healthz`` and ``GET /api/v1/projects``: every answer
comes within a second. Then the big events are read back through the API: cut
to ``max_string_length`` and grouped into issues.

Each hostile string is the worst case of a pattern that once backtracked: one
letter (the e-mail mask: 100 KB took 19 s), ``a@``, digits with spaces (the
card pattern), ``0x`` and hex, a word with ``=`` far behind it (query pairs),
unbalanced brackets (stack frames). Everything targets 127.0.0.1.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import orjson
import pytest

from envelopes import envelope_bytes, error_event, new_span_id, new_trace_id, transaction
from serverproc import RunningServer

pytestmark = pytest.mark.e2e

KIB, MIB = 1024, 1024 * 1024
LIMIT = 16384  # max_string_length's default
PROMPT = 1.0  # seconds: the longest any small request may wait
ROUNDS = 3  # each hostile request is sent this many times, four at once


def _text(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def big_error(tag: str, message: str, value: str, transaction_name: str) -> dict[str, Any]:
    """An error without frames: grouped by its masked message, its culprit is the transaction."""
    event = error_event(message=message, transaction=transaction_name, culprit=value)
    exception = event["exception"]["values"][0]
    exception.update(type=f"Hostile{tag}", value=value, stacktrace={"frames": []})
    event["breadcrumbs"] = [{"category": "log", "message": _text("a=", MIB)}]
    event["tags"] = {"hostile": tag}
    return event


def big_transaction(name: str) -> dict[str, Any]:
    payload = transaction(children=10, name=name)
    units = ["a", "a@", "4 ", "(", "0x1f", "a b=", "1.", "-"]
    for i, span in enumerate(payload["spans"]):
        span["description"] = _text(units[i % len(units)], 200 * KIB)
    return payload


def otlp_document(text: str) -> tuple[str, bytes]:
    trace_id, now = new_trace_id(), time.time_ns()
    attributes = [
        {"key": "exception.type", "value": {"stringValue": "HostileOtlp"}},
        {"key": "exception.message", "value": {"stringValue": text}},
        {"key": "exception.stacktrace", "value": {"stringValue": "    at " + text}},
    ]
    span = {
        "traceId": trace_id,
        "spanId": new_span_id(),
        "name": text,
        "kind": 2,
        "startTimeUnixNano": str(now - 10**9),
        "endTimeUnixNano": str(now),
        "attributes": [{"key": "http.route", "value": {"stringValue": text}}],
        "events": [{"name": "exception", "timeUnixNano": str(now), "attributes": attributes}],
    }
    document = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
    return trace_id, orjson.dumps(document)


def _rounds(body: bytes, payload: dict[str, Any]) -> list[bytes]:
    """``body`` once per round, each with an event id of its own (stores drop repeats)."""
    sent = payload["event_id"].encode()
    return [body.replace(sent, uuid.uuid4().hex.encode()) for _ in range(ROUNDS)]


class Prober:
    """Small requests in a loop, each timed, until stopped."""

    def __init__(self, server: RunningServer, project: dict[str, Any]) -> None:
        self.server, self.project = server, project
        self.slowest: dict[str, float] = {}
        self.answers: list[tuple[str, int]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def _timed(self, what: str, call: Callable[[], httpx.Response]) -> None:
        started = time.monotonic()
        response = call()
        elapsed = time.monotonic() - started
        self.slowest[what] = max(self.slowest.get(what, 0.0), elapsed)
        self.answers.append((what, response.status_code))

    def run(self) -> None:
        url = f"{self.server.url}/api/{self.project['id']}/envelope/"
        auth = {"X-Sentry-Auth": f"Sentry sentry_key={self.project['public_key']}"}
        admin = {"Authorization": f"Bearer {self.server.token}"}
        with httpx.Client(timeout=10) as client:
            while not self.stop.is_set():
                small = envelope_bytes(error_event(message="small and on time"))
                self._timed(
                    "small envelope", lambda s=small: client.post(url, content=s, headers=auth)
                )
                self._timed("/healthz", lambda: client.get(f"{self.server.url}/healthz"))
                self._timed(
                    "GET /api/v1/projects",
                    lambda: client.get(f"{self.server.url}/api/v1/projects", headers=admin),
                )
                time.sleep(0.05)


@pytest.fixture(scope="module")
def hostile(server: RunningServer) -> dict[str, Any]:
    """Send everything hostile while the prober runs; what was sent and what was seen."""
    project = server.project("hostile-input")
    auth = {"X-Sentry-Auth": f"Sentry sentry_key={project['public_key']}"}
    envelope_url = f"{server.url}/api/{project['id']}/envelope/"
    letters = big_error("Letters", _text("a", 5 * MIB), _text("a@", MIB), _text("0x", MIB))
    cards = big_error("Cards", _text("4 ", 5 * MIB), _text("a b=", MIB), _text("(", MIB))
    stored = big_error("Store", _text("a.", MIB), _text("1a", MIB), _text("-", MIB))
    txn = big_transaction(_text("a@", MIB))
    otlp_trace, otlp_body = otlp_document(_text("at a (b:1 ", MIB))
    store_url = f"{server.url}/api/{project['id']}/store/"
    otlp_url = f"{server.url}/api/{project['id']}/integration/otlp/v1/traces"
    posts = [
        *((envelope_url, body, {}) for body in _rounds(envelope_bytes(letters), letters)),
        *((envelope_url, body, {}) for body in _rounds(envelope_bytes(cards), cards)),
        *((envelope_url, body, {}) for body in _rounds(envelope_bytes(txn), txn)),
        *((store_url, body, {}) for body in _rounds(orjson.dumps(stored), stored)),
        *[(otlp_url, otlp_body, {"Content-Type": "application/json"})] * ROUNDS,
    ]
    prober = Prober(server, project)
    prober.thread.start()
    while len(prober.answers) < 3 and prober.thread.is_alive():  # one round on a warm server
        time.sleep(0.05)
    prober.slowest.clear()
    warm = len(prober.answers)
    started = time.monotonic()

    def send(post: tuple[str, bytes, dict[str, str]]) -> int:
        url, body, headers = post
        return httpx.post(url, content=body, headers={**auth, **headers}, timeout=60).status_code

    try:
        with ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(send, posts))
    finally:
        prober.stop.set()
        prober.thread.join(timeout=30)
    del prober.answers[:warm]
    return {
        "project": project,
        "statuses": statuses,
        "seconds": time.monotonic() - started,
        "prober": prober,
        "events": {"letters": letters, "cards": cards, "store": stored},
        "transaction": txn,
        "otlp_trace": otlp_trace,
    }


def test_small_requests_are_answered_within_a_second_meanwhile(hostile: dict[str, Any]) -> None:
    assert hostile["statuses"] == [200] * 5 * ROUNDS
    prober: Prober = hostile["prober"]
    assert len(prober.answers) >= 9, prober.answers  # the prober really ran alongside
    assert {status for _, status in prober.answers} == {200}
    assert max(prober.slowest.values()) < PROMPT, (prober.slowest, hostile["seconds"])
    print(f"hostile requests: {hostile['seconds']:.1f} s; slowest small ones: {prober.slowest}")


def _issues(server: RunningServer, project: str) -> dict[str, dict[str, Any]]:
    answer = server.api("GET", "/api/v1/issues", params={"query": f"project:{project}"})
    assert answer.status_code == 200, answer.text
    return {issue["type"]: issue for issue in answer.json()["issues"]}


def _cut(text: str | None, original: int) -> bool:
    return text is not None and text.endswith(f"...[truncated {original - LIMIT} chars]")


def test_the_big_events_are_stored_cut_to_the_limit_and_grouped(
    server: RunningServer, hostile: dict[str, Any]
) -> None:
    issues = _issues(server, hostile["project"]["name"])
    for tag, event in hostile["events"].items():
        issue = issues[f"Hostile{tag.capitalize()}"]
        assert issue["count"] == ROUNDS
        detail = server.api("GET", f"/api/v1/issues/{issue['id']}").json()["latest_event"]
        sent = event["exception"]["values"][0]["value"]
        value = detail["exceptions"][-1]["value"]
        assert value.startswith(sent[:LIMIT]) and _cut(value, len(sent))
        assert _cut(detail["message"], len(event["message"]))
        assert _cut(detail["culprit"], len(event["transaction"]))  # no frames: the transaction
        assert _cut(detail["breadcrumbs"][0]["message"], MIB)
        assert detail["tags"]["hostile"] == tag.capitalize()
    # Grouping reads the value's first 4 KiB: another tail joins the same issue.
    value = hostile["events"]["letters"]["exception"]["values"][0]["value"]
    again = big_error("Letters", "another message", value[: MIB // 2] + "b" * (MIB // 2), "t")
    auth = {"X-Sentry-Auth": f"Sentry sentry_key={hostile['project']['public_key']}"}
    url = f"{server.url}/api/{hostile['project']['id']}/envelope/"
    response = httpx.post(url, content=envelope_bytes(again), headers=auth, timeout=60)
    assert response.status_code == 200
    assert _issues(server, hostile["project"]["name"])["HostileLetters"]["count"] == ROUNDS + 1


def test_the_big_transaction_and_otlp_spans_are_stored_cut(
    server: RunningServer, hostile: dict[str, Any]
) -> None:
    payload = hostile["transaction"]
    trace = server.wait_for_trace(payload["contexts"]["trace"]["trace_id"])
    assert len({s["span_id"] for s in trace["spans"]}) == 11  # sent ROUNDS times
    for span in trace["spans"]:
        assert span["transaction"].startswith(payload["transaction"][:LIMIT])
        assert _cut(span["transaction"], MIB)
        if not span["is_transaction"]:
            assert _cut(span["description"], 200 * KIB)
    otlp = server.wait_for_trace(hostile["otlp_trace"], lambda t: bool(t["errors"]))
    assert all(_cut(span["description"], MIB) for span in otlp["spans"])
    assert {(e["type"], bool(e["issue_id"])) for e in otlp["errors"]} == {("HostileOtlp", True)}
    issue = _issues(server, hostile["project"]["name"])["HostileOtlp"]
    assert issue["value"].startswith("at a (b:1 ")


def test_nothing_was_dropped_as_malformed(server: RunningServer, hostile: dict[str, Any]) -> None:
    outcomes = server.api("GET", "/api/v1/outcomes").json()["outcomes"]
    assert [o for o in outcomes if o["project_id"] == hostile["project"]["id"]] == []
