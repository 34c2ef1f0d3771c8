"""What the SDKs dropped before sending, as their client reports say.

These are events the user will never see in glasspane: sampled out
(``sample_rate``), dropped by ``before_send`` or an event processor, lost to
network errors, rate limits or full queues. Stored beside glasspane's own
outcomes with the reason prefixed ``client:``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from glasspane.domain import Project
from glasspane.store.api import SdkItemReader
from glasspane.store.models import Window


def client_reports(store: SdkItemReader, projects: list[Project], window: Window) -> dict[str, Any]:
    names = {p.id: p.name for p in projects}
    rows = store.client_reports(window)
    by_reason: dict[str, int] = defaultdict(int)
    by_category: dict[str, int] = defaultdict(int)
    for row in rows:
        by_reason[row.reason] += row.quantity
        by_category[row.category] += row.quantity
    return {
        "client_reports": [
            {
                "project": names.get(r.project_id, str(r.project_id)),
                "project_id": r.project_id,
                "category": r.category,
                "reason": r.reason,
                "quantity": r.quantity,
                "last_seen": r.last_seen,
            }
            for r in rows
        ],
        "total": sum(r.quantity for r in rows),
        "by_reason": dict(sorted(by_reason.items(), key=lambda kv: -kv[1])),
        "by_category": dict(sorted(by_category.items(), key=lambda kv: -kv[1])),
    }
