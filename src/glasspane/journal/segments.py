"""Segment files: their names, their record framing, and reading them back.

A segment is ``<writer>-<seq>.seg`` in the journal directory, where
``<writer>`` names one writing process for one run (``<run>.<index>``) and
``<seq>`` counts its segments from 1. Only that process appends to it.

A record is an 8-byte header (payload length and CRC-32 of the payload, both
little-endian unsigned 32-bit) followed by the payload. A reader stops at the
first record that is incomplete or whose checksum does not match: in a segment
still being written that is a record not yet fully written (read it again
later); in a finished segment it is the torn tail of a crash, never
acknowledged, so nothing after it exists.

Payloads are pickled :class:`~glasspane.domain.Batch` objects. Pickle is safe
here because only glasspane's own processes write these files (the directory
is the data directory's); it is the fastest way to carry the domain objects
between processes (no schema to keep in step with them).
"""

from __future__ import annotations

import copyreg
import dataclasses
import functools
import os
import pickle
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from glasspane import domain
from glasspane.domain import Batch

HEADER = struct.Struct("<II")
SUFFIX = ".seg"
#: A record larger than this is corrupt, whatever its checksum says.
MAX_RECORD = 1 << 30


@dataclass(frozen=True, order=True)
class SegmentName:
    writer: str
    seq: int

    @property
    def filename(self) -> str:
        return f"{self.writer}-{self.seq:08d}{SUFFIX}"

    @classmethod
    def parse(cls, filename: str) -> SegmentName | None:
        stem, suffix = filename[: -len(SUFFIX)], filename[-len(SUFFIX) :]
        writer, _, seq = stem.rpartition("-")
        if suffix != SUFFIX or not writer or not seq.isdigit():
            return None
        return cls(writer, int(seq))


def _register_reducers() -> None:
    """Pickle the domain's dataclasses as (class, field values): a third faster both ways
    than the slots dataclasses' own ``__getstate__``, and a quarter smaller."""
    for value in vars(domain).values():
        if isinstance(value, type) and dataclasses.is_dataclass(value):
            names = tuple(f.name for f in dataclasses.fields(value) if f.init)
            copyreg.pickle(value, functools.partial(_reduce, names))


def _reduce(names: tuple[str, ...], obj: object) -> tuple[type, tuple[object, ...]]:
    return type(obj), tuple([getattr(obj, name) for name in names])


_register_reducers()


def encode(batch: Batch) -> bytes:
    """One framed record holding ``batch``."""
    payload = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def decode(payload: bytes) -> Batch:
    batch = pickle.loads(payload)
    if not isinstance(batch, Batch):
        raise ValueError(f"a journal record holds a {type(batch).__name__}, not a Batch")
    return batch


def read_records(path: Path, offset: int, max_bytes: int = 64 << 20) -> Iterator[tuple[int, bytes]]:
    """(offset after the record, payload) for each whole record from ``offset``.

    Stops at the end of the file, at an incomplete or corrupt record, or once
    ``max_bytes`` were read (always after at least one record).
    """
    with open(path, "rb", buffering=1 << 20) as handle:
        handle.seek(offset)
        while max_bytes > 0:
            header = handle.read(HEADER.size)
            if len(header) < HEADER.size:
                return
            length, crc = HEADER.unpack(header)
            if length > MAX_RECORD:
                return
            payload = handle.read(length)
            if len(payload) < length or zlib.crc32(payload) != crc:
                return
            offset += HEADER.size + length
            max_bytes -= HEADER.size + length
            yield offset, payload


def list_segments(directory: Path) -> list[tuple[SegmentName, Path]]:
    """The directory's segments, oldest first per writer."""
    found = []
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return []
    for entry in entries:
        name = SegmentName.parse(entry.name)
        if name is not None:
            found.append((name, Path(entry.path)))
    return sorted(found)
