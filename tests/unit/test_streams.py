"""Bounded decompression: every encoding round-trips, and bombs stop at the limit."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import Callable

import brotli
import pytest
import zstandard

from glasspane.errors import LimitExceeded, ProtocolError
from glasspane.protocol.streams import decompress

MiB = 1024 * 1024
LIMIT = 1 * MiB

Compressor = Callable[[bytes], bytes]


def raw_deflate(data: bytes, level: int = 9) -> bytes:
    encoder = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    return encoder.compress(data) + encoder.flush()


def zstd(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


def zstd_streamed(data: bytes) -> bytes:
    """A frame without the content size in its header, as streaming writers make."""
    encoder = zstandard.ZstdCompressor().compressobj()
    return encoder.compress(data) + encoder.flush()


ENCODINGS: list[tuple[str, Compressor]] = [
    ("gzip", gzip.compress),
    ("x-gzip", gzip.compress),
    ("deflate", zlib.compress),  # zlib-wrapped, as HTTP defines it
    ("deflate", raw_deflate),  # raw, as some clients send it
    ("br", brotli.compress),
    ("zstd", zstd),
    ("zstd", zstd_streamed),
]
IDS = ["gzip", "x-gzip", "deflate-zlib", "deflate-raw", "br", "zstd", "zstd-streamed"]

PAYLOAD = b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}\n' + bytes(range(256)) * 200


@pytest.mark.parametrize(("encoding", "compress"), ENCODINGS, ids=IDS)
def test_round_trip(encoding: str, compress: Compressor) -> None:
    assert decompress(compress(PAYLOAD), encoding, LIMIT) == PAYLOAD


@pytest.mark.parametrize(("encoding", "compress"), ENCODINGS, ids=IDS)
def test_round_trip_of_output_larger_than_a_chunk(encoding: str, compress: Compressor) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB: several of the decoder's chunks
    assert decompress(compress(data), encoding, 2 * MiB) == data


@pytest.mark.parametrize(("encoding", "compress"), ENCODINGS, ids=IDS)
def test_empty_payload_round_trips(encoding: str, compress: Compressor) -> None:
    assert decompress(compress(b""), encoding, LIMIT) == b""


@pytest.mark.parametrize("encoding", ["GZIP", " gzip ", "Gzip", "identity, gzip", "gzip, identity"])
def test_encoding_names_are_case_and_space_insensitive(encoding: str) -> None:
    assert decompress(gzip.compress(PAYLOAD), encoding, LIMIT) == PAYLOAD


@pytest.mark.parametrize("encoding", [None, "", "identity", "IDENTITY", " , "])
def test_no_encoding_passes_the_body_through(encoding: str | None) -> None:
    assert decompress(PAYLOAD, encoding, LIMIT) == PAYLOAD


def test_stacked_encodings_are_undone_last_first() -> None:
    """``Content-Encoding: gzip, br`` means gzip was applied first, then br."""
    body = brotli.compress(gzip.compress(PAYLOAD))
    assert decompress(body, "gzip, br", LIMIT) == PAYLOAD


def test_stacked_encodings_in_the_wrong_order_are_corrupt() -> None:
    body = brotli.compress(gzip.compress(PAYLOAD))
    with pytest.raises(ProtocolError):
        decompress(body, "br, gzip", LIMIT)


def test_zstd_multiple_frames_are_all_read() -> None:
    body = zstd(b"first,") + zstd(b"second")
    assert decompress(body, "zstd", LIMIT) == b"first,second"


# -- limits ------------------------------------------------------------------------------

ZEROS = bytes(50 * MiB)


BOMBS: dict[str, bytes] = {}


def bomb(name: str, compress: Compressor) -> bytes:
    """~50 MiB of zeros, compressed once per run (the slow part is compressing)."""
    if name not in BOMBS:
        BOMBS[name] = compress(ZEROS)
    return BOMBS[name]


@pytest.mark.parametrize(
    ("encoding", "name", "compress"),
    [
        ("gzip", "gzip", lambda d: gzip.compress(d, 1)),
        ("deflate", "deflate-zlib", lambda d: zlib.compress(d, 1)),
        ("deflate", "deflate-raw", lambda d: raw_deflate(d, 1)),
        ("br", "br", lambda d: brotli.compress(d, quality=1)),
        ("zstd", "zstd", zstd),
        ("gzip, br", "gzip-br", lambda d: brotli.compress(gzip.compress(d, 1), quality=1)),
    ],
    ids=["gzip", "deflate-zlib", "deflate-raw", "br", "zstd", "gzip-then-br"],
)
def test_bomb_stops_at_the_limit(encoding: str, name: str, compress: Compressor) -> None:
    body = bomb(name, compress)
    assert len(body) < LIMIT  # the body itself is small: only the output is big
    tracemalloc.start()
    try:
        with pytest.raises(LimitExceeded) as caught:
            decompress(body, encoding, LIMIT)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * LIMIT, f"decoding the bomb held {peak} bytes; it must stop near the limit"
    message = str(caught.value)
    assert "max_decompressed_size" in message
    assert "GLASSPANE_MAX_DECOMPRESSED_SIZE" in message
    assert str(LIMIT) in message


@pytest.mark.parametrize(("encoding", "compress"), ENCODINGS, ids=IDS)
def test_output_exactly_at_the_limit_is_accepted(encoding: str, compress: Compressor) -> None:
    data = b"a" * 1000
    assert decompress(compress(data), encoding, 1000) == data


@pytest.mark.parametrize(("encoding", "compress"), ENCODINGS, ids=IDS)
def test_output_one_byte_over_the_limit(encoding: str, compress: Compressor) -> None:
    with pytest.raises(LimitExceeded, match="max_decompressed_size"):
        decompress(compress(b"a" * 1001), encoding, 1000)


def test_uncompressed_body_over_the_limit() -> None:
    with pytest.raises(LimitExceeded, match="max_decompressed_size"):
        decompress(b"x" * 1001, None, 1000)


# -- broken input ------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_corrupt_data(encoding: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        decompress(b"this is not compressed at all, not even a little", encoding, LIMIT)
    assert f"not valid {encoding} data" in str(caught.value)


@pytest.mark.parametrize(("encoding", "compress"), ENCODINGS, ids=IDS)
def test_truncated_data(encoding: str, compress: Compressor) -> None:
    """A body cut short is corrupt: decoding it must not pass off a prefix as the body."""
    body = compress(PAYLOAD)
    with pytest.raises(ProtocolError):
        decompress(body[: len(body) // 2], encoding, LIMIT)


@pytest.mark.parametrize("encoding", ["compress", "lz4", "snappy", "gzip, lzma"])
def test_unknown_encoding(encoding: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        decompress(PAYLOAD, encoding, LIMIT)
    message = str(caught.value)
    assert "is not supported" in message
    assert "gzip" in message and "zstd" in message


def test_unknown_encoding_is_not_a_limit_error() -> None:
    with pytest.raises(ProtocolError) as caught:
        decompress(b"x" * 10, "lz4", 1)
    assert not isinstance(caught.value, LimitExceeded)
