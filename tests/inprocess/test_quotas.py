"""Per-category quotas on ingest, in-process: an exhausted category does not stop the others."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from envelopes import envelope_bytes, error_event, new_span_id, new_trace_id, transaction
from glasspane.errors import ConfigError
from glasspane.instance import Instance
from glasspane.settings import resolve
from glasspane.web.app import create_app
from inprocess.conftest import App
from inprocess.test_logs_metrics_api import otlp_json_logs


@pytest.fixture
def quota(tmp_path: Path) -> Iterator[App]:
    running = App(tmp_path / "data", rate_limit_categories="error=2/60")
    with running.client:
        yield running
    running.instance.close()


def _post(app: App, *payloads: dict):  # type: ignore[no-untyped-def]
    return app.client.post(
        app.envelope_url(), content=envelope_bytes(*payloads), headers=app.auth()
    )


def _error_limit(header: str) -> int:
    """The seconds of the one limit in ``header``, which must hold back errors only."""
    seconds, categories, scope, reason = header.split(":")
    assert (categories, scope, reason) == ("error", "key", "rate_limited"), header
    return int(seconds)


def _rate_limited(app: App, category: str) -> int:
    return sum(
        o["quantity"]
        for o in app.outcomes()
        if o["category"] == category and o["reason"] == "rate_limited"
    )


def test_a_mixed_envelope_keeps_the_items_within_quota(quota: App) -> None:
    assert [_post(quota, error_event()).status_code for _ in range(2)] == [200, 200]
    error, kept = error_event(), transaction()
    response = _post(quota, error, kept)
    assert response.status_code == 200
    assert _error_limit(response.headers["X-Sentry-Rate-Limits"]) > 20
    assert "Retry-After" not in response.headers
    trace = quota.trace(kept["contexts"]["trace"]["trace_id"])
    assert len(trace["spans"]) == 3
    missing = quota.client.get(
        f"/api/v1/traces/{error['contexts']['trace']['trace_id']}", headers=quota.admin()
    )
    assert missing.status_code == 404
    assert _rate_limited(quota, "error") == 1


def test_only_over_quota_items_is_a_429_naming_just_that_category(quota: App) -> None:
    for _ in range(2):
        _post(quota, error_event())
    refused = _post(quota, error_event())
    assert refused.status_code == 429
    seconds = _error_limit(refused.headers["X-Sentry-Rate-Limits"])
    assert 20 < seconds <= 30  # one of 2 errors per 60 s comes back every 30 s
    assert refused.headers["Retry-After"] == str(seconds)
    assert "rate_limit_categories" in refused.json()["detail"]
    # transactions keep flowing, and carry the refused error's outcome with them
    assert _post(quota, transaction()).status_code == 200
    assert _rate_limited(quota, "error") == 1


def test_the_legacy_store_endpoint_honours_the_error_quota(quota: App) -> None:
    url = f"/api/{quota.default.id}/store/"
    codes = [quota.client.post(url, json=error_event(), headers=quota.auth()).status_code]
    codes += [quota.client.post(url, json=error_event(), headers=quota.auth()).status_code]
    refused = quota.client.post(url, json=error_event(), headers=quota.auth())
    assert codes == [200, 200]
    assert refused.status_code == 429
    assert refused.headers["X-Sentry-Rate-Limits"].endswith(":error:key:rate_limited")


def test_an_unknown_category_stops_the_start_with_a_clear_message(tmp_path: Path) -> None:
    config = resolve({"data_dir": str(tmp_path / "data"), "rate_limit_categories": "errors=5"}, {})
    instance = Instance(config)
    try:
        with pytest.raises(ConfigError, match="unknown data category 'errors'"):
            create_app(instance)
    finally:
        instance.close()


def test_an_otlp_export_over_its_category_quota_is_refused_whole(tmp_path: Path) -> None:
    app = App(tmp_path / "data", rate_limit_categories="log=2/60")
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {app.default.public_key}",
    }
    with app.client:
        traces = [new_trace_id() for _ in range(3)]
        answers = [
            app.client.post(
                "/v1/logs", content=orjson.dumps(otlp_json_logs(t, new_span_id())), headers=headers
            )
            for t in traces
        ]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert int(answers[2].headers["Retry-After"]) > 20
        assert "log_item 2 per 60 s" in answers[2].json()["detail"]
        assert len(app.trace(traces[1])["logs"]) == 1
        # The refused log is counted with the key's next accepted write.
        assert _post(app, transaction()).status_code == 200
        assert _rate_limited(app, "log_item") == 1
    app.instance.close()
