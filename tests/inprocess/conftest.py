from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from glasspane.instance import Instance
from glasspane.settings import resolve
from glasspane.web.app import create_app
from serverproc import STORES, store_flags


class App:
    """The app in-process on a fresh data directory, with helpers for its projects."""

    def __init__(self, data_dir: Path, **settings: object) -> None:
        # Test payloads are stamped from 1970 on: keep them (retention has its own tests).
        settings = {"retention": "25000d", **settings}
        self.instance = Instance(resolve({"data_dir": str(data_dir), **settings}, environ={}))
        self.client = TestClient(create_app(self.instance))
        self.token = self.instance.admin_token
        self.default = self.instance.projects()[0]

    def auth(self, key: str | None = None) -> dict[str, str]:
        key = key or self.default.public_key
        return {"X-Sentry-Auth": f"Sentry sentry_key={key}, sentry_version=7"}

    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def envelope_url(self, project_id: int | None = None) -> str:
        return f"/api/{project_id or self.default.id}/envelope/"

    def trace(self, trace_id: str) -> dict:
        response = self.client.get(f"/api/v1/traces/{trace_id}", headers=self.admin())
        assert response.status_code == 200, response.text
        return dict(response.json())

    def outcomes(self) -> list[dict]:
        return list(self.client.get("/api/v1/outcomes", headers=self.admin()).json()["outcomes"])


@pytest.fixture(params=STORES)
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[App]:
    """The app on each store (DuckDB, chDB, and a real ClickHouse when configured)."""
    flags = store_flags(request.param, tmp_path)
    running = App(tmp_path / "data", **({"store": flags[1]} if flags else {}))
    with running.client:
        yield running
    running.instance.close()
