"""The part of Sentry's web API that ``sentry-cli sourcemaps upload`` calls.

Routes under ``/api/0/organizations/glasspane/``, as the CLI expects them:
the chunk-upload options (``GET chunk-upload/``), the chunks (``POST
chunk-upload/``, multipart, each file named by its SHA-1), the assembly of a
bundle from its chunks (``POST artifactbundle/assemble/``, with ``version`` when
uploaded ``--release``) and ``sentry-cli releases new`` (``POST releases/``).

sentry-cli 2 names one project in the path instead: ``releases new`` posts to
``/api/0/projects/glasspane/<project>/releases/`` and ``releases finalize`` puts
to ``.../releases/<version>/``, ``releases files VERSION list`` gets
``.../releases/<version>/files/``. Its ``releases files VERSION upload-sourcemaps``
takes the chunked path above when the options accept ``release_files`` (else it
falls back to uploading each file on its own, which glasspane does not offer).
Uploading changes what users see, so it takes a personal token of a member or above.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from glasspane.errors import LimitExceeded, NotFound, ProtocolError
from glasspane.query.sourcemaps import uploads
from glasspane.sourcemaps.bundles import checksum
from glasspane.web.auth import require_member, require_viewer
from glasspane.web.deps import instance_of

ORG = "glasspane"
#: Most chunks the CLI sends in one request (so a request holds at most 4 chunk sizes).
CHUNKS_PER_REQUEST = 4

router = APIRouter(
    prefix="/api/0/organizations/{org}",
    tags=["sentry-cli"],
    dependencies=[Depends(require_member)],
)
#: What sentry-cli 2 calls under one project (``releases new``, ``finalize``, ``files list``).
project_router = APIRouter(
    prefix="/api/0/projects/{org}/{project}",
    tags=["sentry-cli"],
    dependencies=[Depends(require_member)],
)
#: glasspane's own read of what was uploaded (any role).
listing = APIRouter(prefix="/api/v1", dependencies=[Depends(require_viewer)])


class AssembleIn(BaseModel):
    checksum: str = Field(description="SHA-1 of the whole bundle (a zip)")
    chunks: list[str] = Field(description="SHA-1 of each chunk, in order", max_length=10_000)
    projects: list[str] = Field(description="Names of the projects the bundle is for")
    version: str | None = Field(None, description="The release (sentry-cli --release)")


class ReleaseIn(BaseModel):
    version: str = Field(description="The release, as the SDKs' `release` option names it")
    projects: list[str] = Field(
        default_factory=list, description="Names of the projects the release is for"
    )


class ReleaseUpdate(BaseModel):
    released: datetime | None = Field(
        None, alias="dateReleased", description="When the release went out (releases finalize)"
    )


def _org(org: str) -> None:
    if org != ORG:
        raise NotFound(f"There is no organization {org!r}: set SENTRY_ORG={ORG}")


@router.get("/chunk-upload/", summary="How sentry-cli should upload chunks")
def chunk_options(org: str, request: Request) -> dict[str, Any]:
    _org(org)
    config = instance_of(request).config
    return {
        "url": f"/api/0/organizations/{ORG}/chunk-upload/",
        "chunkSize": config.sourcemap_chunk_size,
        "chunksPerRequest": CHUNKS_PER_REQUEST,
        "maxFileSize": config.sourcemap_max_bundle_size,
        "maxRequestSize": config.sourcemap_chunk_size * CHUNKS_PER_REQUEST,
        "concurrency": 1,
        "hashAlgorithm": "sha1",
        "compression": [],
        "accept": ["artifact_bundles", "release_files", "sources"],
    }


@router.post("/chunk-upload/", summary="Chunks of a bundle, each named by its SHA-1")
async def upload_chunks(org: str, request: Request) -> dict[str, Any]:
    _org(org)
    bundles = instance_of(request).bundles
    await _read_bounded(request, bundles.chunk_size * CHUNKS_PER_REQUEST + 64 * 1024)
    most = CHUNKS_PER_REQUEST
    limits = {"max_files": most, "max_fields": most, "max_part_size": bundles.chunk_size}
    async with request.form(**limits) as form:
        files = [v for v in form.values() if isinstance(v, UploadFile)]
        if not files:
            raise ProtocolError("A chunk upload must carry the chunks as multipart files")
        for upload in files:
            data = await upload.read(bundles.chunk_size + 1)
            await run_in_threadpool(bundles.save_chunk, upload.filename or "", data)
    return {"chunks": len(files)}


async def _read_bounded(request: Request, limit: int) -> None:
    """Read the body, failing as soon as it passes ``limit`` bytes (chunked bodies too).

    Starlette's form parser then reads the body kept on the request.
    """
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > limit:
            raise LimitExceeded(
                f"A chunk upload of more than {limit} bytes: at most {CHUNKS_PER_REQUEST} "
                "chunks of sourcemap_chunk_size per request"
            )
    request._body = bytes(body)


@router.post("/artifactbundle/assemble/", summary="Assemble a bundle from its chunks")
def assemble(org: str, body: AssembleIn, request: Request) -> dict[str, Any]:
    _org(org)
    instance = instance_of(request)
    project_ids = _project_ids(request, body.projects)
    bundle = checksum(body.checksum, "checksum")
    chunks = [checksum(c, "Each of chunks") for c in body.chunks]
    release = _version(body.version) if body.version is not None else None
    done = instance.bundles.assemble(project_ids, bundle, chunks, release)
    return {"state": done.state, "missingChunks": done.missing, "detail": None}


def _project_ids(request: Request, names: list[str]) -> list[int]:
    by_name = {p.name: p for p in instance_of(request).projects()}
    unknown = [name for name in names if name not in by_name]
    if unknown or not names:
        raise NotFound(
            f"Unknown project {', '.join(unknown) or '(none given)'}: set SENTRY_PROJECT to "
            f"one of {', '.join(sorted(by_name))}"
        )
    return [by_name[n].id for n in names]


@router.post("/releases/", status_code=201, summary="sentry-cli releases new")
def new_release(org: str, body: ReleaseIn, request: Request) -> dict[str, Any]:
    _org(org)
    return _created(request, body.version, body.projects)


@project_router.post("/releases/", status_code=201, summary="sentry-cli 2 releases new")
def new_project_release(
    org: str, project: str, body: ReleaseIn, request: Request
) -> dict[str, Any]:
    _org(org)
    return _created(request, body.version, [project])


@project_router.put("/releases/{version}/", summary="sentry-cli 2 releases finalize")
def finalize_release(
    org: str, project: str, version: str, body: ReleaseUpdate, request: Request
) -> dict[str, Any]:
    _org(org)
    [project_id] = _project_ids(request, [project])
    when = body.released.timestamp() if body.released else time.time()
    done = instance_of(request).bundles.releases.finalize(project_id, _version(version), when)
    if done is None:
        raise NotFound(f"There is no release {version!r:.80} in project {project}")
    return _described(version, [project], *done)


@project_router.get("/releases/{version}/files/", summary="sentry-cli 2 releases files list")
def release_files(org: str, project: str, version: str, request: Request) -> list[dict[str, Any]]:
    _org(org)
    [project_id] = _project_ids(request, [project])
    found = instance_of(request).bundles.releases.release(project_id, _version(version))
    if found is None:
        raise NotFound(f"There is no release {version!r:.80} in project {project}")
    return [
        {
            "id": hashlib.sha1(f.url.encode()).hexdigest(),
            "name": f.url,
            "dist": None,
            "size": f.size,
            "sha1": f.sha1,
            "headers": {"Sourcemap": f.sourcemap} if f.sourcemap else {},
            "dateCreated": _iso(f.uploaded_at),
        }
        for f in found.files
    ]


def _created(request: Request, version: str, projects: list[str]) -> dict[str, Any]:
    """Record the release for each of ``projects``; the release as Sentry describes it."""
    version = _version(version)
    releases = instance_of(request).bundles.releases
    created = [releases.create(p, version) for p in _project_ids(request, projects)]
    return _described(version, projects, min(created))


def _described(
    version: str, projects: list[str], created: float, released: float | None = None
) -> dict[str, Any]:
    """A release as Sentry's API describes it (what sentry-cli reads back)."""
    return {
        "version": version,
        "shortVersion": version,
        "ref": None,
        "url": None,
        "dateCreated": _iso(created),
        "dateReleased": _iso(released) if released is not None else None,
        "lastEvent": None,
        "firstEvent": None,
        "newGroups": 0,
        "projects": [{"slug": n, "name": n} for n in projects],
    }


def _version(version: str) -> str:
    """A release name as Sentry accepts them: 1-200 characters, no slash or newline,
    not ``.``, ``..`` or ``latest``."""
    bad = not 0 < len(version) <= 200 or version in (".", "..", "latest")
    if bad or any(c in version for c in "/\n\r\t"):
        raise ProtocolError(
            f"A release must be 1 to 200 characters without slashes or newlines, "
            f"got {version!r:.80}"
        )
    return version


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


@listing.get(
    "/projects/{project_id}/sourcemaps",
    summary="A project's uploaded source map bundles and releases, newest first",
)
def project_sourcemaps(project_id: int, request: Request) -> dict[str, Any]:
    instance = instance_of(request)
    if instance.project_by_id(project_id) is None:
        raise NotFound(f"There is no project {project_id}")
    return uploads(instance.bundles, project_id)
