"""``glasspane status``'s lines, from the status API's answer."""

from __future__ import annotations

import pytest

from glasspane.cli.status import byte_size, render_status

STATUS = {
    "version": "0.1.0",
    "store": {"kind": "duckdb", "location": "/srv/gp/glasspane.duckdb"},
    "ingest": {
        "accepted_per_s": 812.4,
        "stored_per_s": 3.25,
        "queue_depth": 3,
        "lag_s": 0.21,
        "lag_bytes": 1000,
    },
    "disk_bytes": 1288490188,
}


def test_status_reads_at_a_glance() -> None:
    assert render_status(STATUS, "http://127.0.0.1:8000").splitlines() == [
        "glasspane 0.1.0 at http://127.0.0.1:8000",
        "ingest: 812 envelopes/s accepted, 3.2/s stored, queue 3, journal lag 0.2 s",
        "store:  duckdb /srv/gp/glasspane.duckdb, 1.2 GiB on disk",
    ]


def test_a_server_store_has_no_size_and_an_older_server_no_stored_rate() -> None:
    status = {
        **STATUS,
        "store": {"kind": "clickhouse", "location": "clickhouse://gp:***@ch:8123/gp"},
        "ingest": {"accepted_per_s": 0.0, "queue_depth": 0, "lag_s": 0.0},
        "disk_bytes": None,
    }
    _, ingest, store = render_status(status, "http://x").splitlines()
    assert ingest == "ingest: 0 envelopes/s accepted, queue 0, journal lag 0.0 s"
    assert store == "store:  clickhouse clickhouse://gp:***@ch:8123/gp"


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1536, "1.5 KiB"),
        (5 * 1024**3, "5.0 GiB"),
        (3 * 1024**5, "3072.0 TiB"),
    ],
)
def test_sizes_use_binary_units(count: int, shown: str) -> None:
    assert byte_size(count) == shown
