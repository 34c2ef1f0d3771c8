"""The JSON API under ``/api/v1`` (any role reads; see ``web.auth``)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response

from glasspane.detectors import DEFAULTS as DEFAULT_THRESHOLDS
from glasspane.domain import Project
from glasspane.errors import NotFound, ProtocolError
from glasspane.instance import Instance
from glasspane.query import (
    performance,
    queries,
    spans,
    trace_compare,
    transaction_summary,
    web_vitals,
)
from glasspane.query.traces import get_trace
from glasspane.web.auth import Admin, require_viewer
from glasspane.web.deps import instance_of

router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_viewer)])


class ProjectIn(BaseModel):
    name: str = Field(description="Project name, unique; it is also the service name.")


def _project_json(
    instance: Instance, project: Project, thresholds: dict[int, Any] | None = None
) -> dict[str, Any]:
    if thresholds is None:
        thresholds = instance.detector_thresholds()
    return {
        "id": project.id,
        "name": project.name,
        "dsn": instance.dsn(project),
        "public_key": project.public_key,
        "apdex_threshold_ms": project.apdex_threshold_ms,
        "performance_thresholds": thresholds.get(project.id, {}),
        "created_at": project.created_at,
    }


@router.get("/projects", summary="List projects with their DSNs")
def list_projects(request: Request) -> dict[str, Any]:
    instance = instance_of(request)
    thresholds = instance.detector_thresholds()
    return {"projects": [_project_json(instance, p, thresholds) for p in instance.projects()]}


@router.get(
    "/performance-thresholds",
    summary="Each performance detector's thresholds and their defaults",
)
def performance_thresholds() -> dict[str, Any]:
    return {"defaults": DEFAULT_THRESHOLDS}


@router.post("/projects", status_code=201, summary="Create a project; 409 if the name is taken")
def create_project(body: ProjectIn, request: Request, actor: Admin) -> JSONResponse:
    instance = instance_of(request)
    project = instance.create_project(body.name)
    instance.accounts.record(actor, "project.create", project.name)
    return JSONResponse(_project_json(instance, project), status_code=201)


class ProjectPatch(BaseModel):
    apdex_threshold_ms: float | None = Field(None, description="Apdex threshold T in milliseconds.")
    performance_thresholds: Any = Field(
        None,
        description="Per performance detector, the thresholds to change and `enabled` "
        '(e.g. `{"n_plus_one_db_queries": {"min_repeats": 3}, "slow_db_query": '
        '{"enabled": false}}`); a detector given `{}` takes its defaults again. '
        "See GET /api/v1/performance-thresholds.",
    )


@router.patch(
    "/projects/{project_id}",
    summary="Change a project's Apdex threshold and performance detector thresholds",
)
def update_project(
    project_id: int, body: ProjectPatch, request: Request, actor: Admin
) -> dict[str, Any]:
    instance = instance_of(request)
    if body.apdex_threshold_ms is None and body.performance_thresholds is None:
        raise ProtocolError(
            "Nothing to change: send apdex_threshold_ms and/or performance_thresholds"
        )
    project = next((p for p in instance.projects() if p.id == project_id), None)
    if project is None:
        raise NotFound(f"There is no project {project_id}; see GET /api/v1/projects")
    if body.performance_thresholds is not None:
        own = instance.set_detector_thresholds(project_id, body.performance_thresholds)
        detail = "performance thresholds " + orjson.dumps(own).decode()
        instance.accounts.record(actor, "project.settings", project.name, detail[:500])
    if body.apdex_threshold_ms is not None:
        project = instance.set_apdex_threshold(project_id, body.apdex_threshold_ms)
        detail = f"apdex threshold {body.apdex_threshold_ms:g} ms"
        instance.accounts.record(actor, "project.settings", project.name, detail)
    return _project_json(instance, project)


@router.post(
    "/projects/{project_id}/rotate-key",
    summary="Give a project a new DSN key; the old key is refused (401) from now on",
)
def rotate_key(project_id: int, request: Request, actor: Admin) -> dict[str, Any]:
    instance = instance_of(request)
    project = instance.rotate_key(project_id)
    instance.accounts.record(actor, "project.rotate-key", project.name)
    return _project_json(instance, project)


@router.get(
    "/traces/compare",
    summary="Two traces' spans aligned by service, op and description, with the differences",
    response_model=None,
)
def compare_traces(
    request: Request,
    a: str = Query(..., description="The first trace id (32 hex digits)"),
    b: str = Query(..., description="The trace to compare it with"),
) -> Response:
    instance = instance_of(request)
    answer = trace_compare.compare_traces(instance.store, instance.projects(), a, b)
    return Response(orjson.dumps(answer), media_type="application/json")


@router.get(
    "/traces/{trace_id}",
    summary="One trace across all services and projects",
    response_model=None,
)
def trace(trace_id: str, request: Request) -> Response:
    """Encoded with orjson directly: a 2,000-span trace is a large answer, and
    FastAPI's generic encoder took longer than the database (bench/query.py)."""
    instance = instance_of(request)
    answer = get_trace(instance.store, instance.projects(), trace_id, instance.sourcemaps)
    return Response(orjson.dumps(answer), media_type="application/json")


@router.get("/outcomes", summary="Items dropped as malformed or unsupported, per reason")
def outcomes(request: Request) -> dict[str, Any]:
    instance = instance_of(request)
    names = {p.id: p.name for p in instance.projects()}
    return {
        "outcomes": [
            {**asdict(o), "project": names.get(o.project_id)} for o in instance.store.outcomes()
        ]
    }


# -- performance views ---------------------------------------------------------
QueryParam = Query(None, description="Search query, e.g. transaction:uploadDocument")
PeriodParam = Query(None, description="15m, 1h, 24h (default), 7d")


@router.get("/transactions", summary="Per transaction: p50, p95, failure rate, throughput")
def transactions(
    request: Request,
    query: str | None = QueryParam,
    period: str | None = PeriodParam,
    sort: str = Query("-count", description="A column, - for descending"),
) -> dict[str, Any]:
    store = instance_of(request).store
    return performance.transactions(store, performance.window(query, period), sort)


@router.get(
    "/web-vitals",
    summary="Per page: p75 of LCP, FCP, CLS, INP, TTFB with good/needs-improvement/poor",
)
def vitals(
    request: Request, query: str | None = QueryParam, period: str | None = PeriodParam
) -> dict[str, Any]:
    store = instance_of(request).store
    return web_vitals.web_vitals(store, performance.window(query, period))


@router.get("/transactions/series", summary="Count, p50, p95, failure rate per time bucket")
def transaction_series(
    request: Request,
    transaction: str | None = None,
    query: str | None = QueryParam,
    period: str | None = PeriodParam,
    interval: float | None = Query(None, description="Bucket seconds (default period/60)"),
) -> dict[str, Any]:
    w = performance.transaction_filter(performance.window(query, period), transaction)
    return performance.series(instance_of(request).store, w, interval)


TransactionParam = Query(..., description="Transaction name", min_length=1)
ServiceParam = Query(None, description="Only this service's transactions of that name")


@router.get("/transactions/tags", summary="Each tag's top values over a transaction's events")
def transaction_tags(
    request: Request,
    transaction: str = TransactionParam,
    service: str | None = ServiceParam,
    query: str | None = QueryParam,
    period: str | None = PeriodParam,
) -> dict[str, Any]:
    w = performance.one_transaction(performance.window(query, period), transaction, service)
    return transaction_summary.transaction_tags(instance_of(request).store, w)


@router.get(
    "/transactions/suspect-spans",
    summary="Span kinds whose time per transaction grew most against the period before",
)
def suspect_spans(
    request: Request,
    transaction: str = TransactionParam,
    service: str | None = ServiceParam,
    query: str | None = QueryParam,
    period: str | None = PeriodParam,
) -> dict[str, Any]:
    w = performance.one_transaction(performance.window(query, period), transaction, service)
    return transaction_summary.suspect_spans(instance_of(request).store, w, transaction)


@router.get("/traces", summary="Recent traces matching a query")
def traces(
    request: Request,
    query: str | None = QueryParam,
    period: str | None = PeriodParam,
    sort: str = Query("-timestamp", description="[-]timestamp or [-]duration"),
    limit: int = 50,
) -> dict[str, Any]:
    w = performance.window(query, period)
    return performance.traces(instance_of(request).store, w, sort, limit)


@router.get("/services", summary="Per service: Apdex, error rate, p95, throughput")
def services(
    request: Request,
    query: str | None = QueryParam,
    period: str | None = PeriodParam,
    sort: str = "service",
) -> dict[str, Any]:
    store = instance_of(request).store
    return performance.services(store, performance.window(query, period), sort)


@router.get("/regressions", summary="Sustained rises of p95 or failure rate")
def regressions(
    request: Request, query: str | None = QueryParam, period: str | None = PeriodParam
) -> dict[str, Any]:
    return performance.regressions(instance_of(request).store, performance.window(query, period))


@router.get("/impact", summary="Affected users and transactions by country, browser, OS")
def impact(
    request: Request, query: str | None = QueryParam, period: str | None = PeriodParam
) -> dict[str, Any]:
    return performance.impact(instance_of(request).store, performance.window(query, period))


# -- the span explorer -----------------------------------------------------------
@router.get(
    "/spans",
    summary="Every span matching a query (terms apply to the span itself)",
    response_model=None,
)
def list_spans(
    request: Request,
    query: str | None = QueryParam,
    period: str | None = PeriodParam,
    sort: str = Query("-timestamp", description="-timestamp, -duration or duration"),
    limit: int = Query(spans.DEFAULT_LIMIT, description=f"At most {spans.MAX_LIMIT}"),
) -> Response:
    instance = instance_of(request)
    w = performance.window(query, period)
    answer = spans.list_spans(instance.store, instance.projects(), w, sort, limit)
    return Response(orjson.dumps(answer), media_type="application/json")


@router.get("/queries", summary="DB statements (masked) and outgoing HTTP calls by domain")
def list_queries(
    request: Request,
    query: str | None = QueryParam,
    period: str | None = PeriodParam,
    sort: str = Query(
        "-total_ms", description="total_ms, calls, p50_ms or p95_ms (- first: descending)"
    ),
) -> dict[str, Any]:
    w = performance.window(query, period)
    return queries.queries(instance_of(request).store, w, sort)


@router.get("/spans/aggregate", summary="Spans grouped by keys: weighted count, p50, p95, sum")
def span_aggregate(
    request: Request,
    query: str | None = QueryParam,
    period: str | None = PeriodParam,
    group_by: str | None = Query(None, description="Comma list: span.op, service, a tag, ..."),
    fields: str | None = Query(None, description="Comma list of columns (default all)"),
    interval: float | None = Query(
        None, description="Bucket seconds: adds a series over time of the top groups"
    ),
    timeseries: bool = Query(False, description="Add the series at the default interval"),
    top: int = Query(spans.DEFAULT_SERIES_GROUPS, description="Groups with a series (1-20)"),
) -> dict[str, Any]:
    w = performance.window(query, period)
    if timeseries and interval is None:
        interval = spans.default_interval(w)
    return spans.aggregate(instance_of(request).store, w, group_by, fields, interval, top)
