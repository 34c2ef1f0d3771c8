"""Web vitals per page (``GET /api/v1/web-vitals``, ``/web-vitals``, the transaction
summary): the p75 of LCP, FCP, CLS, INP and TTFB over the page's loads
(browser transactions with op ``pageload`` or ``navigation``), rated with
Google's bands, and the share of loads in each band.

A page is the transaction's name; @sentry/browser streaming spans names every
page load "Pageload", and the page is then its ``url.path`` (the transaction
summary is narrowed to it with ``url.path:"..."``, :func:`page_query`).

A page's rank is its worst vital relative to that vital's "good" limit
(``p75 / good``): a page whose LCP p75 is twice the limit comes before one
whose CLS is 1.5 times it. Ratios of 1 or less are all good.
"""

from __future__ import annotations

from typing import Any

from glasspane.store.api import AnalyticsReader
from glasspane.store.models import WebVitalStats, Window

#: vital → (good up to, poor above), in milliseconds except CLS (unitless).
BANDS: dict[str, tuple[float, float]] = {
    "lcp": (2500.0, 4000.0),
    "fcp": (1800.0, 3000.0),
    "cls": (0.1, 0.25),
    "inp": (200.0, 500.0),
    "ttfb": (800.0, 1800.0),
}
VITALS = tuple(BANDS)
LABELS = {
    "lcp": "LCP",
    "fcp": "FCP",
    "cls": "CLS",
    "inp": "INP",
    "ttfb": "TTFB",
}
TITLES = {
    "lcp": "Largest Contentful Paint",
    "fcp": "First Contentful Paint",
    "cls": "Cumulative Layout Shift",
    "inp": "Interaction to Next Paint",
    "ttfb": "Time to First Byte",
}


def band(vital: str, value: float) -> str:
    """``good``, ``needs-improvement`` or ``poor`` for one value of ``vital``."""
    good, poor = BANDS[vital]
    if value <= good:
        return "good"
    return "needs-improvement" if value <= poor else "poor"


def _vital_json(row: WebVitalStats) -> dict[str, Any]:
    return {
        "p75": row.p75,
        "band": band(row.vital, row.p75),
        "samples": row.samples,
        "good": row.good / row.samples,
        "needs_improvement": row.needs_improvement / row.samples,
        "poor": row.poor / row.samples,
    }


def _score(vitals: dict[str, dict[str, Any]]) -> float:
    return max(v["p75"] / BANDS[name][0] for name, v in vitals.items())


def page_query(page: str, transaction: str) -> str | None:
    """The search that narrows ``transaction`` to ``page`` when the page is told by
    its URL path (the SDK named every page load alike), else ``None``."""
    if page == transaction:
        return None
    return 'url.path:"' + page.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pages(rows: list[WebVitalStats]) -> list[dict[str, Any]]:
    """One entry per (page, service), worst first; each vital it measured, rated."""
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in rows:
        if row.vital not in BANDS or row.samples <= 0:
            continue
        entry = found.setdefault(
            (row.page, row.transaction, row.service),
            {
                "page": row.page,
                "transaction": row.transaction,
                "service": row.service,
                "project_id": row.project_id,
                "page_query": page_query(row.page, row.transaction),
                "vitals": {},
            },
        )
        entry["vitals"][row.vital] = _vital_json(row)
    out = list(found.values())
    for entry in out:
        entry["vitals"] = {k: entry["vitals"][k] for k in VITALS if k in entry["vitals"]}
        entry["page_loads"] = max(v["samples"] for v in entry["vitals"].values())
        entry["score"] = _score(entry["vitals"])
        worst = max(entry["vitals"], key=lambda k: entry["vitals"][k]["p75"] / BANDS[k][0])
        entry["worst"] = worst
        entry["band"] = entry["vitals"][worst]["band"]
    out.sort(key=lambda e: (-e["score"], e["page"], e["service"]))
    return out


def web_vitals(store: AnalyticsReader, w: Window) -> dict[str, Any]:
    """The API's answer: the bands and the pages, worst first."""
    return {
        "bands": {k: {"good": g, "poor": p} for k, (g, p) in BANDS.items()},
        "pages": pages(store.web_vitals(w, BANDS)),
    }


def page_vitals(store: AnalyticsReader, w: Window) -> dict[str, Any] | None:
    """The vitals of the page ``w`` is narrowed to (the transaction summary: its
    worst service's when several serve it), or ``None`` when it measured none."""
    found = pages(store.web_vitals(w, BANDS))
    return found[0] if found else None
