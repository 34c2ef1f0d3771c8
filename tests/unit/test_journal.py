"""The ingest journal: records survive as written, torn tails are ignored, the feeder
commits positions with the rows and resumes where they end."""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future
from pathlib import Path

import pytest

from glasspane.domain import Batch, Outcome
from glasspane.errors import DiskFull
from glasspane.journal.feeder import FORGET, JournalFeeder
from glasspane.journal.segments import SegmentName, decode, encode, list_segments, read_records
from glasspane.journal.writer import JournalWriter


def _batch(n: int) -> Batch:
    return Batch(outcomes=[Outcome(1, "error", f"reason-{n}", n, float(n))])


class FakeStore:
    """Collects what the feeder writes; ``fail`` makes the next writes raise."""

    def __init__(self) -> None:
        self.batches: list[Batch] = []
        self.positions: dict[str, int] = {}
        self.fail: Exception | None = None

    def write(self, batch: Batch) -> Future[None]:
        future: Future[None] = Future()
        if self.fail is not None:
            future.set_exception(self.fail)
            return future
        self.batches.append(batch)
        for name, position in batch.checkpoint.items():
            if position == FORGET:
                self.positions.pop(name, None)
            else:
                self.positions[name] = position
        future.set_result(None)
        return future

    def reasons(self) -> list[str]:
        return [o.reason for b in self.batches for o in b.outcomes]


def test_segment_names_round_trip() -> None:
    name = SegmentName("6b10.0.1", 12)
    assert name.filename == "6b10.0.1-00000012.seg"
    assert SegmentName.parse(name.filename) == name
    assert SegmentName.parse("notes.txt") is None
    assert SegmentName.parse("x-12a.seg") is None


def test_appended_records_read_back_in_order(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path, "w.0.1")
    futures = [writer.append(encode(_batch(i))) for i in range(50)]
    for future in futures:
        assert future.result(timeout=5) is None
    writer.close()
    [(_, path)] = list_segments(tmp_path)
    records = list(read_records(path, 0))
    assert [decode(p).outcomes[0].reason for _, p in records] == [f"reason-{i}" for i in range(50)]
    assert records[-1][0] == path.stat().st_size
    middle = records[24][0]  # reading on from a position gives the rest
    assert len(list(read_records(path, middle))) == 25


def test_a_torn_or_corrupt_tail_ends_the_segment(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path, "w.0.1")
    for i in range(3):
        writer.append(encode(_batch(i))).result(timeout=5)
    writer.close()
    [(_, path)] = list_segments(tmp_path)
    whole = path.stat().st_size
    with open(path, "ab") as handle:  # half a record, as a crash mid-write leaves it
        handle.write(encode(_batch(9))[:20])
    assert [end for end, _ in read_records(path, 0)][-1] == whole
    data = bytearray(path.read_bytes())
    data[whole - 3] ^= 0xFF  # a flipped byte in the last whole record
    path.write_bytes(bytes(data))
    assert len(list(read_records(path, 0))) == 2


def test_segments_rotate_at_their_size(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path, "w.0.1", segment_bytes=1000)
    for i in range(40):
        writer.append(encode(_batch(i))).result(timeout=5)
    writer.close()
    segments = list_segments(tmp_path)
    assert len(segments) > 3
    assert [n.seq for n, _ in segments] == list(range(1, len(segments) + 1))
    total = sum(len(list(read_records(p, 0))) for _, p in segments)
    assert total == 40


def test_concurrent_appends_share_fsyncs_and_all_resolve(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path, "w.0.1")
    syncs = []
    real_fsync = os.fsync

    def counting(fd: int) -> None:
        syncs.append(fd)
        real_fsync(fd)

    os.fsync = counting  # type: ignore[assignment]
    try:
        results: list[Future[None]] = []
        lock = threading.Lock()

        def append(k: int) -> None:
            for i in range(50):
                future = writer.append(encode(_batch(k * 100 + i)))
                with lock:
                    results.append(future)

        threads = [threading.Thread(target=append, args=(k,)) for k in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for future in results:
            future.result(timeout=10)
    finally:
        os.fsync = real_fsync  # type: ignore[assignment]
        writer.close()
    assert len(results) == 400
    assert len(syncs) < 400  # grouped: far fewer fsyncs than records
    [(_, path)] = list_segments(tmp_path)
    assert len(list(read_records(path, 0))) == 400


def test_a_refused_write_is_disk_full_and_leaves_no_torn_record(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path, "w.0.1")
    writer.append(encode(_batch(1))).result(timeout=5)
    real_write = os.write

    def full(fd: int, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    os.write = full  # type: ignore[assignment]
    try:
        with pytest.raises(DiskFull, match="disk full: "):
            writer.append(encode(_batch(2)))
    finally:
        os.write = real_write  # type: ignore[assignment]
    writer.append(encode(_batch(3))).result(timeout=5)  # it heals by itself
    writer.close()
    reasons = [
        decode(p).outcomes[0].reason
        for _, path in list_segments(tmp_path)
        for _, p in read_records(path, 0)
    ]
    assert reasons == ["reason-1", "reason-3"]


def test_feeder_commits_positions_with_rows_and_resumes_there(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path, "w.0.1")
    for i in range(5):
        writer.append(encode(_batch(i))).result(timeout=5)
    store = FakeStore()
    feeder = JournalFeeder(tmp_path, store.write, {}, live_writers=lambda: {"w.0.1"})
    assert feeder.feed_once() == 5
    assert len(store.batches) == 1  # one write for the whole round
    assert store.reasons() == [f"reason-{i}" for i in range(5)]
    [(name, path)] = list_segments(tmp_path)
    assert store.positions == {name.filename: path.stat().st_size}
    assert feeder.feed_once() == 0  # nothing new
    for i in range(5, 8):
        writer.append(encode(_batch(i))).result(timeout=5)
    writer.close()
    # A new feeder (a restart) starts at the committed positions: nothing twice.
    again = JournalFeeder(tmp_path, store.write, dict(store.positions), live_writers=set)
    assert again.replay() == 3
    assert store.reasons() == [f"reason-{i}" for i in range(8)]
    # The writer is gone and its segment fed to the end: deleted, position forgotten.
    again.feed_once()
    assert list_segments(tmp_path) == []
    assert store.positions == {}


def test_a_failed_round_is_retried_from_the_same_positions(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path, "w.0.1")
    for i in range(3):
        writer.append(encode(_batch(i))).result(timeout=5)
    writer.close()
    store = FakeStore()
    store.fail = DiskFull("disk full: test")
    feeder = JournalFeeder(tmp_path, store.write, {}, live_writers=lambda: {"w.0.1"})
    with pytest.raises(DiskFull):
        feeder.feed_once()
    assert feeder.unfed_bytes() > 0
    store.fail = None
    assert feeder.feed_once() == 3
    assert store.reasons() == ["reason-0", "reason-1", "reason-2"]
    assert feeder.unfed_bytes() == 0


def test_catch_up_waits_for_what_was_appended_before(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path, "w.0.1")
    store = FakeStore()
    feeder = JournalFeeder(tmp_path, store.write, {}, live_writers=lambda: {"w.0.1"})
    feeder.start()
    try:
        writer.append(encode(_batch(7))).result(timeout=5)
        assert feeder.catch_up(timeout=5)
        assert store.reasons() == ["reason-7"]  # visible once catch_up returns
        assert feeder.lag()[0] == 0
    finally:
        feeder.stop()
        writer.close()


def test_no_room_refuses_before_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = JournalWriter(tmp_path, "w.0.1")
    writer.append(encode(_batch(1))).result(timeout=5)
    real = os.statvfs(tmp_path)

    class Full:
        f_bavail, f_frsize = 0, real.f_frsize

    monkeypatch.setattr(os, "statvfs", lambda path: Full())
    with pytest.raises(DiskFull, match=str(tmp_path.parent)):
        writer.append(encode(_batch(2)))
    monkeypatch.undo()
    writer.append(encode(_batch(3))).result(timeout=5)  # room again: resumes by itself
    writer.close()
    reasons = [
        decode(p).outcomes[0].reason for _, p in read_records(list_segments(tmp_path)[0][1], 0)
    ]
    assert reasons == ["reason-1", "reason-3"]
