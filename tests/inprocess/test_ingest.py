"""Ingest over HTTP, in-process: framing, compression, auth, limits, hostile input."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import brotli
import orjson
import pytest
import zstandard

from envelopes import envelope_bytes, error_event, new_span_id, new_trace_id, transaction
from inprocess.conftest import App

FIXTURES = Path(__file__).parent.parent / "fixtures" / "envelopes"


def test_recorded_python_transaction_is_stored(app: App) -> None:
    body = (FIXTURES / "python-transaction.envelope").read_bytes()
    response = app.client.post(app.envelope_url(), content=body, headers=app.auth())
    assert response.status_code == 200, response.text
    header = orjson.loads(body.split(b"\n", 1)[0])
    assert response.json() == {"id": header["event_id"]}
    trace = app.trace(header["trace"]["trace_id"])
    assert len(trace["spans"]) == 11
    assert [s["is_transaction"] for s in trace["spans"]].count(True) == 1


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("br", brotli.compress),
        ("zstd", lambda data: zstandard.ZstdCompressor().compress(data)),
    ],
)
def test_compressed_bodies(app: App, encoding: str, compress) -> None:
    payload = transaction()
    response = app.client.post(
        app.envelope_url(),
        content=compress(envelope_bytes(payload)),
        headers={**app.auth(), "Content-Encoding": encoding},
    )
    assert response.status_code == 200, response.text
    trace = app.trace(payload["contexts"]["trace"]["trace_id"])
    assert {s["description"] for s in trace["spans"]} == {"checkout", "SELECT 0", "SELECT 1"}


def test_recorded_brotli_body_from_the_python_sdk(app: App) -> None:
    body = (FIXTURES / "python-error.envelope.br").read_bytes()
    response = app.client.post(
        app.envelope_url(), content=body, headers={**app.auth(), "Content-Encoding": "br"}
    )
    assert response.status_code == 200, response.text


def test_chunked_body_without_content_type(app: App) -> None:
    payload = transaction()
    body = envelope_bytes(payload)

    def chunks():
        for start in range(0, len(body), 100):
            yield body[start : start + 100]

    response = app.client.post(app.envelope_url(), content=chunks(), headers=app.auth())
    assert response.status_code == 200, response.text
    assert app.trace(payload["contexts"]["trace"]["trace_id"])["spans"]


def test_js_framing_without_length_and_final_newline(app: App) -> None:
    """The JS SDKs omit ``length`` on JSON items and the trailing newline."""
    trace_id = new_trace_id()
    event = error_event(trace_id)
    body = b"\n".join(
        [
            orjson.dumps(
                {"event_id": event["event_id"], "sdk": {"name": "sentry.javascript.node"}}
            ),
            b'{"type":"event"}',
            orjson.dumps(event),
            b'{"type":"client_report"}',
            orjson.dumps(
                {
                    "timestamp": 1.0,
                    "discarded_events": [
                        {"reason": "sample_rate", "category": "transaction", "quantity": 3}
                    ],
                }
            ),
        ]
    )
    url = f"{app.envelope_url()}?sentry_version=7&sentry_key={app.default.public_key}"
    response = app.client.post(url, content=body, headers={"Content-Type": "text/plain"})
    assert response.status_code == 200, response.text
    [error] = app.trace(trace_id)["errors"]
    assert error["type"] == "ValueError" and error["value"] == "bad input 42"
    assert {
        "category": "transaction",
        "reason": "client:sample_rate",
        "quantity": 3,
    }.items() <= next(o for o in app.outcomes() if o["reason"] == "client:sample_rate").items()


def test_span_v2_batches_split_and_out_of_order(app: App) -> None:
    """@sentry/node 11 streams spans; children may arrive before their segment."""
    trace_id, segment, child = new_trace_id(), new_span_id(), new_span_id()

    def span(span_id: str, parent: str | None, name: str, is_segment: bool, **attrs):
        return {
            "trace_id": trace_id,
            "span_id": span_id,
            "parent_span_id": parent,
            "name": name,
            "status": "ok",
            "is_segment": is_segment,
            "start_timestamp": 100.0,
            "end_timestamp": 100.25,
            "attributes": {
                "sentry.segment.id": {"value": segment, "type": "string"},
                "sentry.segment.name": {"value": "GET /upload", "type": "string"},
                **{k: {"value": v, "type": "string"} for k, v in attrs.items()},
            },
        }

    def post(*spans):
        body = b"\n".join(
            [
                orjson.dumps({"trace": {"trace_id": trace_id, "sample_rate": "0.25"}}),
                orjson.dumps(
                    {
                        "type": "span",
                        "item_count": len(spans),
                        "content_type": "application/vnd.sentry.items.span.v2+json",
                    }
                ),
                orjson.dumps({"version": 2, "items": list(spans)}),
            ]
        )
        url = f"{app.envelope_url()}?sentry_key={app.default.public_key}"
        assert app.client.post(url, content=body).status_code == 200

    post(span(child, segment, "GET http://backend/process", False, **{"sentry.op": "http.client"}))
    post(
        span(
            segment,
            None,
            "GET /upload",
            True,
            **{"sentry.op": "http.server", "user.email": "demo@test.com"},
        )
    )
    trace = app.trace(trace_id)
    spans = {s["span_id"]: s for s in trace["spans"]}
    assert spans[segment]["is_transaction"] and spans[segment]["transaction"] == "GET /upload"
    assert spans[segment]["user"] == {"email": "demo@test.com"}
    assert spans[segment]["sample_rate"] == 0.25
    assert spans[child]["parent_span_id"] == segment and spans[child]["op"] == "http.client"
    assert not spans[child]["orphan"]


def test_key_in_envelope_header_dsn(app: App) -> None:
    """With the JS ``tunnel`` option the envelope's ``dsn`` is the only credential."""
    payload = transaction()
    dsn = f"http://{app.default.public_key}@example.invalid/{app.default.id}"
    response = app.client.post(
        app.envelope_url(), content=envelope_bytes(payload, headers={"dsn": dsn})
    )
    assert response.status_code == 200, response.text


def test_missing_and_unknown_keys_are_401(app: App) -> None:
    body = envelope_bytes(transaction())
    missing = app.client.post(app.envelope_url(), content=body)
    assert missing.status_code == 401
    assert "Missing DSN key" in missing.json()["detail"]
    unknown = app.client.post(app.envelope_url(), content=body, headers=app.auth("f" * 32))
    assert unknown.status_code == 401
    assert "Unknown DSN key" in unknown.json()["detail"]


def test_key_of_another_project_is_403(app: App) -> None:
    other = app.instance.create_project("other")
    response = app.client.post(
        app.envelope_url(other.id), content=envelope_bytes(transaction()), headers=app.auth()
    )
    assert response.status_code == 403
    assert f"belongs to project {app.default.id}" in response.json()["detail"]


def test_oversized_body_is_413_naming_the_setting(tmp_path: Path) -> None:
    small = App(tmp_path / "small", max_body_size=1000)
    with small.client:
        response = small.client.post(
            small.envelope_url(), content=b"x" * 5000, headers=small.auth()
        )
    small.instance.close()
    assert response.status_code == 413
    assert "max_body_size" in response.json()["detail"]


def test_decompression_bomb_is_413_naming_the_setting(tmp_path: Path) -> None:
    bomb = gzip.compress(b"\n" * (64 * 1024 * 1024))  # 64 MiB of newlines, ~64 KiB gzipped
    limited = App(tmp_path / "bomb", max_decompressed_size=1024 * 1024)
    with limited.client:
        response = limited.client.post(
            limited.envelope_url(),
            content=bomb,
            headers={**limited.auth(), "Content-Encoding": "gzip"},
        )
    limited.instance.close()
    assert len(bomb) < 200_000
    assert response.status_code == 413
    assert "max_decompressed_size" in response.json()["detail"]


def test_corrupt_compressed_body_is_400(app: App) -> None:
    response = app.client.post(
        app.envelope_url(),
        content=b"not gzip at all",
        headers={**app.auth(), "Content-Encoding": "gzip"},
    )
    assert response.status_code == 400
    assert "gzip" in response.json()["detail"]


def test_malformed_envelope_header_is_400(app: App) -> None:
    response = app.client.post(
        app.envelope_url(), content=b'{"event_id": \n{"type":"event"}\n{}', headers=app.auth()
    )
    assert response.status_code == 400
    assert "Envelope header is not valid JSON" in response.json()["detail"]


def test_malformed_item_is_dropped_and_the_rest_kept(app: App) -> None:
    good = transaction()
    trace_id = good["contexts"]["trace"]["trace_id"]
    good_item = orjson.dumps(good)
    bad_item = b'{"type":"transaction", "transaction": oops}'
    body = b"".join(
        [
            b"{}\n",
            orjson.dumps({"type": "transaction", "length": len(bad_item)}),
            b"\n",
            bad_item,
            b"\n",
            orjson.dumps({"type": "transaction", "length": len(good_item)}),
            b"\n",
            good_item,
            b"\n",
        ]
    )
    response = app.client.post(app.envelope_url(), content=body, headers=app.auth())
    assert response.status_code == 200, response.text
    [problem] = response.json()["errors"]
    assert problem.startswith('Envelope item 1 ("transaction") is not valid JSON')
    assert len(app.trace(trace_id)["spans"]) == 3
    assert any(
        o["reason"] == "invalid_json" and o["category"] == "transaction" for o in app.outcomes()
    )


def test_only_malformed_items_is_400_naming_the_item(app: App) -> None:
    event = error_event()
    event["contexts"]["trace"]["trace_id"] = "not-a-trace-id"
    response = app.client.post(
        app.envelope_url(), content=envelope_bytes(event), headers=app.auth()
    )
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert 'Envelope item 1 ("event") contexts.trace.trace_id must be a 32-digit hex' in detail


def test_unknown_item_types_are_accepted_and_counted(app: App) -> None:
    body = b'{}\n{"type":"future_thing"}\n{"a":1}'
    response = app.client.post(app.envelope_url(), content=body, headers=app.auth())
    assert response.status_code == 200, response.text
    reasons = {(o["category"], o["reason"]) for o in app.outcomes()}
    assert ("future_thing", "unsupported") in reasons


def test_cors_on_every_answer(app: App) -> None:
    origin = {"Origin": "http://shop.example"}
    ok = app.client.post(
        app.envelope_url(), content=envelope_bytes(transaction()), headers={**app.auth(), **origin}
    )
    denied = app.client.post(app.envelope_url(), content=b"{}", headers=origin)
    preflight = app.client.options(
        app.envelope_url(), headers={**origin, "Access-Control-Request-Method": "POST"}
    )
    for response in (ok, denied, preflight):
        assert response.headers["access-control-allow-origin"] == "http://shop.example"
        assert "x-sentry-rate-limits" in response.headers["access-control-expose-headers"]
        assert "retry-after" in response.headers["access-control-expose-headers"]
    assert denied.status_code == 401 and preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]


def test_legacy_store_endpoint(app: App) -> None:
    trace_id = new_trace_id()
    event = error_event(trace_id)
    response = app.client.post(
        f"/api/{app.default.id}/store/", content=orjson.dumps(event), headers=app.auth()
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"id": event["event_id"]}
    assert app.trace(trace_id)["errors"][0]["event_id"] == event["event_id"]
    bad = app.client.post(f"/api/{app.default.id}/store/", content=b"{nope", headers=app.auth())
    assert bad.status_code == 400 and "Event body is not valid JSON" in bad.json()["detail"]


def test_ip_auto_is_the_client_address(app: App) -> None:
    payload = transaction(user={"id": "42", "ip_address": "{{auto}}"})
    app.client.post(app.envelope_url(), content=envelope_bytes(payload), headers=app.auth())
    segment = app.trace(payload["contexts"]["trace"]["trace_id"])["spans"][0]
    assert segment["user"] == {"id": "42", "ip_address": "testclient"}
