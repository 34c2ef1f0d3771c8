"""Rate limits, backpressure and payload limits on ingest, in-process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from envelopes import envelope_bytes, error_event, transaction
from glasspane.domain import Batch
from glasspane.ingest.buckets import LocalBuckets
from glasspane.store.writer import GroupCommitWriter
from inprocess.conftest import App


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[App]:
    running = App(tmp_path / "data", rate_limit=0.5, rate_limit_burst=2)
    with running.client:
        yield running
    running.instance.close()


def _post(app: App, key: str | None = None, project_id: int | None = None):  # type: ignore[no-untyped-def]
    return app.client.post(
        app.envelope_url(project_id), content=envelope_bytes(error_event()), headers=app.auth(key)
    )


def test_a_key_over_its_rate_gets_429_with_sentry_rate_limit_headers(limited: App) -> None:
    assert [_post(limited).status_code for _ in range(2)] == [200, 200]
    response = _post(limited)
    assert response.status_code == 429
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 2
    assert response.headers["X-Sentry-Rate-Limits"] == f"{retry_after}::key:rate_limited"
    assert "rate_limit" in response.json()["detail"]
    # browsers must be able to read the headers cross-origin
    assert "x-sentry-rate-limits" in response.headers["access-control-expose-headers"]


def test_rate_limits_are_per_key(limited: App) -> None:
    other = limited.instance.create_project("other")
    for _ in range(3):
        _post(limited)
    assert _post(limited).status_code == 429
    assert _post(limited, other.public_key, other.id).status_code == 200


def test_the_legacy_store_endpoint_and_otlp_are_limited_too(limited: App) -> None:
    for _ in range(2):
        _post(limited)
    store = limited.client.post(
        f"/api/{limited.default.id}/store/", json=error_event(), headers=limited.auth()
    )
    assert store.status_code == 429
    otlp = limited.client.post(
        "/v1/traces",
        content=b"{}",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {limited.default.public_key}",
        },
    )
    assert otlp.status_code == 429
    assert otlp.headers["Retry-After"]


def test_rate_limit_zero_turns_limiting_off(tmp_path: Path) -> None:
    running = App(tmp_path / "data", rate_limit=0, rate_limit_burst=1)
    with running.client:
        assert {_post(running).status_code for _ in range(5)} == {200}
    running.instance.close()


def test_a_full_writer_queue_answers_503_with_retry_after_at_once(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()

    def blocked(conn: object, batches: list[Batch]) -> None:
        release.wait(10)

    noop = (lambda c: None, lambda c: None, lambda c: None)
    writer: GroupCommitWriter[object] = GroupCommitWriter(object(), blocked, noop, max_queue=1)
    try:
        writer.submit(Batch(errors=[]))  # taken by the thread, which then blocks
        time.sleep(0.05)
        writer.submit(Batch())  # fills the queue
        monkeypatch.setattr(app.instance.store, "write", writer.submit)
        started = time.monotonic()
        response = _post(app)
        assert response.status_code == 503
        assert time.monotonic() - started < 2.0
        assert response.headers["Retry-After"].isdigit()
        assert "queue full" in response.json()["detail"]
    finally:
        release.set()
        writer.close()


def test_too_many_items_in_one_envelope_is_413_naming_the_setting(tmp_path: Path) -> None:
    running = App(tmp_path / "data", max_envelope_items=3)
    with running.client:
        body = envelope_bytes(*[error_event() for _ in range(4)])
        response = running.client.post(running.envelope_url(), content=body, headers=running.auth())
        assert response.status_code == 413
        assert "max_envelope_items" in response.json()["detail"]
        body = envelope_bytes(*[error_event() for _ in range(3)])
        response = running.client.post(running.envelope_url(), content=body, headers=running.auth())
        assert response.status_code == 200
    running.instance.close()


def test_long_strings_are_truncated_not_rejected(tmp_path: Path) -> None:
    running = App(tmp_path / "data", max_string_length=100)
    with running.client:
        payload = transaction()
        payload["spans"][0]["description"] = "x" * 5000
        payload["spans"][0]["data"] = {"deep": {"a": {"b": {"c": "y" * 500}}}}
        response = running.client.post(
            running.envelope_url(), content=envelope_bytes(payload), headers=running.auth()
        )
        assert response.status_code == 200, response.text
        trace = running.trace(payload["contexts"]["trace"]["trace_id"])
        span = next(s for s in trace["spans"] if s["span_id"] == payload["spans"][0]["span_id"])
        assert span["description"].startswith("x" * 100)
        assert span["description"].endswith("...[truncated 4900 chars]")
        assert span["data"]["deep"]["a"]["b"]["c"].endswith("...[truncated 400 chars]")
    running.instance.close()


def test_spans_over_the_per_transaction_limit_are_dropped_and_counted(tmp_path: Path) -> None:
    running = App(tmp_path / "data", max_spans_per_transaction=1)
    with running.client:
        payload = transaction()
        response = running.client.post(
            running.envelope_url(), content=envelope_bytes(payload), headers=running.auth()
        )
        assert response.status_code == 200, response.text
        trace = running.trace(payload["contexts"]["trace"]["trace_id"])
        assert len(trace["spans"]) == 2  # the segment and one child
        dropped = [o for o in running.outcomes() if o["reason"] == "too_many_spans"]
        assert sum(o["quantity"] for o in dropped) == 1
    running.instance.close()


SECRETS = {
    "request": {
        "url": "https://shop.test/pay?token=s3cr3t&step=2",
        "headers": {"Authorization": "Bearer abc", "Cookie": "sid=1", "Accept": "*/*"},
        "data": {"card": "4111 1111 1111 1111", "password": "hunter2", "amount": 10},
    },
    "breadcrumbs": {"values": [{"message": "login", "data": {"api_key": "k-123"}}]},
    "extra": {"db_password": "pw"},
    "user": {"id": "u1", "ip_address": "{{auto}}"},
}


def _latest_event(app: App) -> dict:
    issues = app.client.get("/api/v1/issues", headers=app.admin()).json()["issues"]
    detail = app.client.get(f"/api/v1/issues/{issues[0]['id']}", headers=app.admin()).json()
    return dict(detail["latest_event"])


def test_secrets_are_scrubbed_before_they_are_stored(app: App) -> None:
    body = envelope_bytes(error_event(**SECRETS))
    assert app.client.post(app.envelope_url(), content=body, headers=app.auth()).status_code == 200
    stored = orjson_dumps(_latest_event(app))
    for secret in ("s3cr3t", "Bearer abc", "sid=1", "4111", "hunter2", "k-123", '"pw"'):
        assert secret not in stored, secret
    assert "[Filtered]" in stored and "step=2" in stored
    assert "testclient" in stored  # the client IP is kept by default


def test_scrubbing_and_client_ips_are_settings(tmp_path: Path) -> None:
    running = App(tmp_path / "data", scrub="false", store_client_ips="false")
    with running.client:
        body = envelope_bytes(error_event(**SECRETS))
        response = running.client.post(running.envelope_url(), content=body, headers=running.auth())
        assert response.status_code == 200
        stored = orjson_dumps(_latest_event(running))
        assert "hunter2" in stored
        assert "testclient" not in stored  # the client address of the TestClient
    running.instance.close()


def orjson_dumps(value: object) -> str:
    import orjson

    return orjson.dumps(value).decode()


def test_api_and_ui_answers_carry_security_headers(app: App) -> None:
    for path in ("/api/v1/projects", "/healthz"):
        response = app.client.get(path, headers=app.admin())
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["referrer-policy"] == "same-origin"


def test_rotating_a_key_revokes_the_old_one(app: App) -> None:
    old = app.default.public_key
    response = app.client.post(f"/api/v1/projects/{app.default.id}/rotate-key", headers=app.admin())
    assert response.status_code == 200, response.text
    new = response.json()["public_key"]
    assert new != old and new in response.json()["dsn"]
    assert _post(app, old).status_code == 401
    assert _post(app, new).status_code == 200
    missing = app.client.post("/api/v1/projects/999/rotate-key", headers=app.admin())
    assert missing.status_code == 404
    unauthorised = app.client.post(f"/api/v1/projects/{app.default.id}/rotate-key")
    assert unauthorised.status_code == 401


def test_refused_requests_are_counted_with_the_next_accepted_one(tmp_path: Path) -> None:
    now = [0.0]
    running = App(tmp_path / "data", rate_limit=1, rate_limit_burst=1)
    with running.client:
        limiter = running.client.app.ingest.app.state.rate_limiter  # type: ignore[attr-defined]
        limiter._clock = lambda: now[0]
        limiter._buckets = LocalBuckets()  # fresh, on the test's clock
        assert [_post(running).status_code for _ in range(3)] == [200, 429, 429]
        now[0] = 5.0
        assert _post(running).status_code == 200
        refused = [o for o in running.outcomes() if o["reason"] == "rate_limited"]
        assert [(o["category"], o["quantity"]) for o in refused] == [("envelope", 2)]
    running.instance.close()
