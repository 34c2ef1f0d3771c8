"""Token buckets shared by the ingest processes: one key's limit holds across them."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from glasspane.ingest.buckets import SLOTS, LocalBuckets, SharedBuckets


def test_local_and_shared_buckets_follow_the_same_rule(tmp_path: Path) -> None:
    for buckets in (LocalBuckets(), SharedBuckets(tmp_path / "b.bin")):
        assert buckets.take("k", 1.0, 2.0, 1.0, 0.0) == 0.0
        assert buckets.take("k", 1.0, 2.0, 1.0, 0.0) == 0.0
        assert buckets.take("k", 1.0, 2.0, 1.0, 0.0) == 1.0  # empty: one second to wait
        assert buckets.take("k", 1.0, 2.0, 1.0, 1.5) == 0.0  # refilled meanwhile
        assert buckets.take("other", 1.0, 2.0, 1.0, 1.5) == 0.0  # keys are apart


def _take_many(path: str, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    buckets = SharedBuckets(Path(path))
    results.put(sum(buckets.take("key", 0.001, 50.0, 1.0, 0.0) == 0.0 for _ in range(40)))


def test_processes_share_one_bucket(tmp_path: Path) -> None:
    path = tmp_path / "b.bin"
    SharedBuckets.reset(path)
    SharedBuckets(path).close()
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue = context.Queue()  # type: ignore[type-arg]
    processes = [context.Process(target=_take_many, args=(str(path), results)) for _ in range(3)]
    for process in processes:
        process.start()
    taken = sum(results.get(timeout=60) for _ in processes)
    for process in processes:
        process.join(timeout=30)
    assert taken == 50  # the burst, across all three, not 50 each


def test_a_full_table_reuses_the_slot_touched_longest_ago(tmp_path: Path) -> None:
    buckets = SharedBuckets(tmp_path / "b.bin")
    for n in range(SLOTS * 2):  # more keys than slots: no error, no growth
        buckets.take(f"key-{n}", 1.0, 1.0, 1.0, float(n))
    assert (tmp_path / "b.bin").stat().st_size == SLOTS * 24
    assert buckets.take("fresh", 1.0, 1.0, 1.0, 1e9) == 0.0
