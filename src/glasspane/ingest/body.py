"""Reading a request body within the size limit, whatever its framing."""

from __future__ import annotations

from starlette.requests import Request

from glasspane.errors import LimitExceeded


def _too_large(limit: int) -> LimitExceeded:
    return LimitExceeded(
        f"Request body exceeds {limit} bytes (setting max_body_size, GLASSPANE_MAX_BODY_SIZE)"
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body (chunked or not); :class:`LimitExceeded` past ``limit`` bytes.

    A declared Content-Length over the limit is refused before reading; a
    chunked body is counted as it streams, so memory stays within the limit.
    """
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)
