"""The part of Sentry's web API that ``sentry-cli sourcemaps upload`` calls.

Three routes under ``/api/0/organizations/glasspane/``, as the CLI expects them:
the chunk-upload options (``GET chunk-upload/``), the chunks (``POST
chunk-upload/``, multipart, each file named by its SHA-1) and the assembly of a
bundle from its chunks (``POST artifactbundle/assemble/``). Uploading changes
what users see, so it takes a personal token of a member or above.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from glasspane.errors import LimitExceeded, NotFound, ProtocolError
from glasspane.sourcemaps.bundles import checksum
from glasspane.web.auth import require_member
from glasspane.web.deps import instance_of

ORG = "glasspane"
#: Most chunks the CLI sends in one request (so a request holds at most 4 chunk sizes).
CHUNKS_PER_REQUEST = 4

router = APIRouter(
    prefix="/api/0/organizations/{org}",
    tags=["sentry-cli"],
    dependencies=[Depends(require_member)],
)


class AssembleIn(BaseModel):
    checksum: str = Field(description="SHA-1 of the whole bundle (a zip)")
    chunks: list[str] = Field(description="SHA-1 of each chunk, in order", max_length=10_000)
    projects: list[str] = Field(description="Names of the projects the bundle is for")


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
        "accept": ["artifact_bundles", "sources"],
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
    by_name = {p.name: p for p in instance.projects()}
    unknown = [name for name in body.projects if name not in by_name]
    if unknown or not body.projects:
        raise NotFound(
            f"Unknown project {', '.join(unknown) or '(none given)'}: set SENTRY_PROJECT to "
            f"one of {', '.join(sorted(by_name))}"
        )
    bundle = checksum(body.checksum, "checksum")
    chunks = [checksum(c, "Each of chunks") for c in body.chunks]
    done = instance.bundles.assemble([by_name[n].id for n in body.projects], bundle, chunks)
    return {"state": done.state, "missingChunks": done.missing, "detail": None}
