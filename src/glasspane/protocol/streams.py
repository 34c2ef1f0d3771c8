"""Bounded decompression: limit → decompress → limit.

The body is already capped by ``max_body_size`` when it arrives here. Each
decoder produces output in chunks and stops as soon as the decompressed size
passes ``max_decompressed_size``, so a decompression bomb costs at most the
limit in memory, never the bomb's full size.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator

import brotli
import zstandard

from glasspane.errors import LimitExceeded, ProtocolError

CHUNK = 256 * 1024
SUPPORTED = ("gzip", "deflate", "br", "zstd", "identity")


#: zstd input is fed in slices this small so that one call's output stays
#: bounded (a few MiB at most) even for a maximally compressed stream.
ZSTD_SLICE = 64


class _Truncated(Exception):
    """The compressed stream ended before its end marker."""


def _zlib_chunks(body: bytes, wbits: int) -> Iterator[bytes]:
    decoder = zlib.decompressobj(wbits)
    data = body
    while data and not decoder.eof:
        yield decoder.decompress(data, CHUNK)
        data = decoder.unconsumed_tail
    yield decoder.flush()
    if not decoder.eof:
        raise _Truncated


def _gzip(body: bytes) -> Iterator[bytes]:
    return _zlib_chunks(body, 16 + zlib.MAX_WBITS)


def _deflate(body: bytes) -> Iterator[bytes]:
    # HTTP "deflate" is zlib-wrapped, but some clients send raw deflate.
    wbits = zlib.MAX_WBITS if body[:1] == b"\x78" else -zlib.MAX_WBITS
    return _zlib_chunks(body, wbits)


def _brotli(body: bytes) -> Iterator[bytes]:
    decoder = brotli.Decompressor()
    yield decoder.process(body, output_buffer_limit=CHUNK)
    while not decoder.is_finished():
        chunk = decoder.process(b"", output_buffer_limit=CHUNK)
        if not chunk:  # all input consumed, no more output, yet no end marker
            raise _Truncated
        yield chunk


def _zstd(body: bytes) -> Iterator[bytes]:
    decoder = zstandard.ZstdDecompressor().decompressobj()
    for start in range(0, len(body), ZSTD_SLICE):
        yield decoder.decompress(body[start : start + ZSTD_SLICE])
        if decoder.eof:
            # Further frames may follow (concatenated streams are valid zstd).
            rest = decoder.unused_data + body[start + ZSTD_SLICE :]
            if rest:
                yield from _zstd(rest)
            return
    raise _Truncated


DECODERS: dict[str, Callable[[bytes], Iterator[bytes]]] = {
    "gzip": _gzip,
    "x-gzip": _gzip,
    "deflate": _deflate,
    "br": _brotli,
    "zstd": _zstd,
}


def decompress(body: bytes, encoding: str | None, max_size: int) -> bytes:
    """Decode ``body`` per its Content-Encoding, stopping past ``max_size`` bytes.

    Raises :class:`LimitExceeded` naming ``max_decompressed_size`` when the
    output would be larger, and :class:`ProtocolError` for an unknown encoding
    or a corrupt stream.
    """
    encodings = [e.strip().lower() for e in (encoding or "").split(",") if e.strip()]
    for name in reversed(encodings):
        if name == "identity":
            continue
        decoder = DECODERS.get(name)
        if decoder is None:
            raise ProtocolError(
                f"Content-Encoding {name!r} is not supported; use one of {', '.join(SUPPORTED)}"
            )
        body = _bounded(decoder, body, name, max_size)
    if len(body) > max_size:
        raise _too_large(max_size)
    return body


def _bounded(
    decoder: Callable[[bytes], Iterator[bytes]], body: bytes, name: str, max_size: int
) -> bytes:
    out = bytearray()
    try:
        for chunk in decoder(body):
            out += chunk
            if len(out) > max_size:
                raise _too_large(max_size)
    except (zlib.error, brotli.error, zstandard.ZstdError) as exc:
        raise ProtocolError(f"Body is not valid {name} data: {exc}") from None
    except _Truncated:
        raise ProtocolError(
            f"Body ends before the end of its {name} stream: it was cut short"
        ) from None
    return bytes(out)


def _too_large(max_size: int) -> LimitExceeded:
    return LimitExceeded(
        f"Decompressed body exceeds {max_size} bytes (setting max_decompressed_size, "
        "GLASSPANE_MAX_DECOMPRESSED_SIZE)"
    )
