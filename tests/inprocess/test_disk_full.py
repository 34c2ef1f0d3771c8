"""When DuckDB gives up on the database after a failed checkpoint, the store reopens it.

``tests/e2e/test_disk_full.py`` fills a real disk under a real server, where
the write-ahead log is what fails. The other way DuckDB meets a full disk
needs a checkpoint: the WAL write succeeds, the checkpoint cannot grow the
database file, and DuckDB invalidates the instance ("COMMIT succeeded and is
durable, but the autocheckpoint failed"). Here that happens for real, in this
process: DuckDB is told to checkpoint after every commit, and this process's
``RLIMIT_FSIZE`` stops the database file from growing (EFBIG; Python ignores
SIGXFSZ).
"""

from __future__ import annotations

import logging
import resource
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from envelopes import envelope_bytes, transaction
from inprocess.conftest import App


@contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """No file of this process may grow past ``limit`` bytes while inside."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def _send(app: App, acknowledged: list[dict[str, Any]]) -> int:
    payload = transaction(children=3)
    response = app.client.post(
        app.envelope_url(), content=envelope_bytes(payload), headers=app.auth()
    )
    if response.status_code == 200:
        acknowledged.append(payload)
    else:
        assert response.status_code == 503, response.text
        assert response.json()["detail"].startswith("disk full: ")
    return response.status_code


def _missing(app: App, acknowledged: list[dict[str, Any]]) -> list[str]:
    ids = [p["contexts"]["trace"]["trace_id"] for p in acknowledged]
    admin = app.admin()
    return [
        t for t in ids if app.client.get(f"/api/v1/traces/{t}", headers=admin).status_code != 200
    ]


def test_an_invalidated_database_is_reopened_and_keeps_every_acknowledged_event(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = App(tmp_path / "data")
    acknowledged: list[dict[str, Any]] = []
    database = tmp_path / "data" / "glasspane.duckdb"
    with app.client:
        assert {_send(app, acknowledged) for _ in range(20)} == {200}
        connection = app.instance.store._db  # type: ignore[attr-defined]
        connection.execute("CHECKPOINT")  # the WAL is empty, the file holds everything
        connection.execute("SET wal_autocheckpoint = '1KB'")  # checkpoint at every commit
        with caplog.at_level(logging.WARNING), file_size_limit(database.stat().st_size):
            during = [_send(app, acknowledged) for _ in range(10)]
        assert "reopened" in caplog.text, f"DuckDB did not give up: {during}"
        assert [_send(app, acknowledged) for _ in range(5)] == [200] * 5
        assert _missing(app, acknowledged) == []
    app.instance.close()

    again = App(tmp_path / "data")
    with again.client:
        assert _missing(again, acknowledged) == []
    again.instance.close()
