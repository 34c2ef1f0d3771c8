"""Sentry ``statsd`` items (the older metrics protocol) → metric points.

The payload is text, one metric per line::

    name@unit:value[:value...]|type|#tag:val,tag2:val2|T<unix timestamp>

``type`` is ``c`` (counter), ``d`` (distribution), ``g`` (gauge) or ``s``
(set). Each value becomes one point; a set line becomes one gauge point
holding the number of distinct members on that line. A line that cannot be
read is dropped and counted (``invalid``); the lines beside it are kept.
"""

from __future__ import annotations

import math

from glasspane.domain import Batch, MetricPoint, Outcome
from glasspane.errors import ItemError
from glasspane.normalize.context import IngestContext
from glasspane.normalize.values import text

#: statsd type letter → metric type.
TYPES = {"c": "counter", "d": "distribution", "g": "gauge", "s": "gauge"}


def _number(raw: str, line: int) -> float:
    try:
        number = float(raw)
    except ValueError:
        raise ItemError(f"statsd line {line}: value {raw[:40]!r} is not a number") from None
    if not math.isfinite(number):
        raise ItemError(f"statsd line {line}: value {raw[:40]!r} is not finite")
    return number


def _tags(raw: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for pair in raw.split(","):
        key, _, value = pair.partition(":")
        if key:
            tags[key] = value
    return tags


def parse_statsd_line(line: str, number: int, ctx: IngestContext) -> list[MetricPoint]:
    """The points of one line; :class:`ItemError` naming the line if unusable."""
    head, *sections = line.split("|")
    key, sep, values = head.partition(":")
    name, _, unit = key.partition("@")
    if not sep or not name or not values:
        raise ItemError(f"statsd line {number}: expected name[@unit]:value|type")
    if not sections or sections[0] not in TYPES:
        raise ItemError(f"statsd line {number}: type must be one of c, d, s, g")
    letter = sections[0]
    tags: dict[str, str] = {}
    when = ctx.received_at
    for section in sections[1:]:
        if section.startswith("#"):
            tags = _tags(section[1:])
        elif section.startswith("T"):
            when = _number(section[1:], number)
    members = values.split(":")
    if letter == "s":
        points = [float(len(set(members)))]
    else:
        points = [_number(value, number) for value in members]
    return [
        MetricPoint.single(
            ctx.project_id,
            when,
            name,
            TYPES[letter],
            value,
            unit=unit or None,
            service=ctx.service,
            attributes=dict(tags),
            environment=tags.get("environment") or text(ctx.dsc.get("environment")),
            release=tags.get("release") or text(ctx.dsc.get("release")),
        )
        for value in points
    ]


def parse_statsd(payload: bytes, ctx: IngestContext) -> tuple[list[MetricPoint], int]:
    """Every usable point of the payload, and how many lines were dropped."""
    kept: list[MetricPoint] = []
    dropped = 0
    lines = payload.decode("utf-8", "replace").splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            kept.extend(parse_statsd_line(line.strip(), number, ctx))
        except ItemError:
            dropped += 1
    return kept, dropped


def normalize_statsd(payload: bytes, ctx: IngestContext, what: str, batch: Batch) -> None:
    """The envelope handler for ``statsd`` items."""
    points, dropped = parse_statsd(payload, ctx)
    batch.metrics.extend(points)
    if dropped:
        batch.outcomes.append(
            Outcome(ctx.project_id, "statsd", "invalid", dropped, ctx.received_at)
        )
