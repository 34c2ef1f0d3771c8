"""Schemathesis against /openapi.json: no 500s and no hangs on generated requests."""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings

from inprocess.conftest import App


def test_no_server_errors_on_generated_requests(tmp_path: Path) -> None:
    """Every operation, a few generated requests each, with the admin token."""
    running = App(tmp_path / "data")
    schema = schemathesis.openapi.from_asgi("/openapi.json", running.client.app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(operation.as_strategy())
        @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call(headers=running.admin())
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.text[:200]}")

        check()
    running.instance.close()
    assert failures == []


def test_schema_lists_the_api(tmp_path: Path) -> None:
    app = App(tmp_path / "data")
    paths = app.client.get("/openapi.json").json()["paths"]
    assert "/api/v1/projects/{project_id}/rotate-key" in paths
    app.instance.close()
