"""The ``statsd`` envelope item: lines of ``name@unit:value|type|#tags|Tts``."""

from __future__ import annotations

from glasspane.normalize.context import IngestContext
from glasspane.normalize.envelope import normalize_envelope
from glasspane.normalize.statsd import parse_statsd
from glasspane.protocol.envelope import parse_envelope

NOW = 1_700_000_000.0
CTX = IngestContext(project_id=9, service="web", received_at=NOW, client_ip="192.0.2.1")


def points(payload: bytes) -> list[tuple[str, str, float | None, str | None, float]]:
    kept, _ = parse_statsd(payload, CTX)
    return [(p.name, p.type, p.value, p.unit, p.timestamp) for p in kept]


def test_each_type() -> None:
    body = b"hits:2|c\nlatency@millisecond:1.5:3|d\nqueue:7|g\nusers:1:2:2|s"
    assert points(body) == [
        ("hits", "counter", 2.0, None, NOW),
        ("latency", "distribution", 1.5, "millisecond", NOW),
        ("latency", "distribution", 3.0, "millisecond", NOW),
        ("queue", "gauge", 7.0, None, NOW),
        ("users", "gauge", 2.0, None, NOW),  # distinct members on the line
    ]


def test_tags_and_timestamp() -> None:
    kept, dropped = parse_statsd(
        b"hits:1|c|#route:/a,environment:prod,release:1.2|T1690000000", CTX
    )
    (point,) = kept
    assert dropped == 0
    assert point.timestamp == 1_690_000_000.0
    assert point.attributes == {"route": "/a", "environment": "prod", "release": "1.2"}
    assert (point.environment, point.release, point.service) == ("prod", "1.2", "web")


def test_malformed_lines_are_dropped_and_the_rest_kept() -> None:
    body = b"ok:1|c\nno value|c\nbad:x|c\nweird:1|q\nnotype:1\nnan:nan|d\nlate:1|c|Tsoon\n\nok2:2|d"
    kept, dropped = parse_statsd(body, CTX)
    assert [p.name for p in kept] == ["ok", "ok2"]
    assert dropped == 6


def test_envelope_item_is_stored_as_metrics_and_counts_bad_lines() -> None:
    payload = b"hits@none:3|c|#route:/a\nbroken"
    raw = b'{}\n{"type":"statsd","length":%d}\n%s\n' % (len(payload), payload)
    batch, problems = normalize_envelope(parse_envelope(raw, 1 << 20), CTX)
    assert [(m.name, m.type, m.value, m.unit) for m in batch.metrics] == [
        ("hits", "counter", 3.0, "none")
    ]
    assert [(o.category, o.reason, o.quantity) for o in batch.outcomes] == [
        ("statsd", "invalid", 1)
    ]
    assert problems == []
