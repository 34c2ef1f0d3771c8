"""The JSON API under ``/api/v1`` (admin token required)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse

from glasspane.domain import Project
from glasspane.instance import Instance
from glasspane.query.traces import get_trace
from glasspane.web.auth import require_admin

router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_admin)])


def _instance(request: Request) -> Instance:
    instance: Instance = request.app.state.instance
    return instance


class ProjectIn(BaseModel):
    name: str = Field(description="Project name, unique; it is also the service name.")


def _project_json(instance: Instance, project: Project) -> dict[str, Any]:
    return {
        "id": project.id,
        "name": project.name,
        "dsn": instance.dsn(project),
        "public_key": project.public_key,
        "apdex_threshold_ms": project.apdex_threshold_ms,
        "created_at": project.created_at,
    }


@router.get("/projects", summary="List projects with their DSNs")
def list_projects(request: Request) -> dict[str, Any]:
    instance = _instance(request)
    return {"projects": [_project_json(instance, p) for p in instance.projects()]}


@router.post("/projects", status_code=201, summary="Create a project; 409 if the name is taken")
def create_project(body: ProjectIn, request: Request) -> JSONResponse:
    instance = _instance(request)
    project = instance.create_project(body.name)
    return JSONResponse(_project_json(instance, project), status_code=201)


@router.get("/traces/{trace_id}", summary="One trace across all services and projects")
def trace(trace_id: str, request: Request) -> dict[str, Any]:
    instance = _instance(request)
    return get_trace(instance.store, instance.projects(), trace_id)


@router.get("/outcomes", summary="Items dropped as malformed or unsupported, per reason")
def outcomes(request: Request) -> dict[str, Any]:
    instance = _instance(request)
    names = {p.id: p.name for p in instance.projects()}
    return {
        "outcomes": [
            {**asdict(o), "project": names.get(o.project_id)} for o in instance.store.outcomes()
        ]
    }
