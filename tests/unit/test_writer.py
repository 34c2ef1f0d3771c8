"""The group-commit writer (store/writer.py) against a fake connection.

The fake records every transaction the writer runs (begin, the batches and
tasks written, commit or rollback), so each contract of the writer is checked
without a database: a group shares one transaction, a bad entry fails alone,
a full disk fails the whole group at once, close drains the queue, and a full
queue refuses at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest

from glasspane.domain import Batch
from glasspane.errors import Conflict, DiskFull, StoreError
from glasspane.store.writer import GroupCommitWriter

WAIT = 10.0  # seconds: a future that takes longer than this is a hang


class Fake:
    """A connection and its transaction hooks; ``log`` is what the writer did, in order."""

    def __init__(self) -> None:
        self.log: list[tuple[str, Any]] = []
        self.committed: list[Batch] = []
        self._pending: list[Batch] = []
        self.poison: set[int] = set()  # ids of batches whose insert fails
        self.fail_with: Exception | None = None  # what a poisoned insert raises
        self.fail_rollback = False

    def write_batches(self, conn: Fake, batches: list[Batch]) -> None:
        assert conn is self
        self.log.append(("write", len(batches)))
        if any(id(b) in self.poison for b in batches):
            raise self.fail_with or ValueError("a column cannot hold this value")
        self._pending.extend(batches)

    def begin(self, conn: Fake) -> None:
        self.log.append(("begin", None))
        self._pending = []

    def commit(self, conn: Fake) -> None:
        self.log.append(("commit", None))
        self.committed.extend(self._pending)

    def rollback(self, conn: Fake) -> None:
        self.log.append(("rollback", None))
        self._pending = []
        if self.fail_rollback:
            raise RuntimeError("the connection is gone")

    def transactions(self) -> list[list[tuple[str, Any]]]:
        """The log cut into transactions, each from its begin to its commit or rollback."""
        out: list[list[tuple[str, Any]]] = []
        for entry in self.log:
            if entry[0] == "begin":
                out.append([])
            out[-1].append(entry)
        return out


@pytest.fixture
def fake() -> Fake:
    return Fake()


@pytest.fixture
def writer(fake: Fake) -> Iterator[GroupCommitWriter[Fake]]:
    running = GroupCommitWriter(fake, fake.write_batches, (fake.begin, fake.commit, fake.rollback))
    yield running
    running.close()


class Gate:
    """A write task that holds the writer thread until opened, so entries queue up
    behind it and the next group is known exactly."""

    def __init__(self, writer: GroupCommitWriter[Any]) -> None:
        self.entered = threading.Event()
        self._open = threading.Event()
        self.future = writer.submit(self._hold)
        assert self.entered.wait(WAIT), "the writer thread never ran the gate"

    def _hold(self, conn: object) -> str:
        self.entered.set()
        self._open.wait(WAIT)
        return "gate"

    def open(self) -> None:
        self._open.set()
        assert self.future.result(WAIT) == "gate"


def results(futures: list[Future[Any]]) -> list[Any]:
    return [f.result(WAIT) for f in futures]


def test_a_lone_batch_commits_at_once_and_its_future_resolves(
    writer: GroupCommitWriter[Fake], fake: Fake
) -> None:
    batch = Batch()
    assert writer.submit(batch).result(WAIT) is None
    assert fake.committed == [batch]
    assert fake.transactions() == [[("begin", None), ("write", 1), ("commit", None)]]


def test_batches_queued_together_share_one_transaction(
    writer: GroupCommitWriter[Fake], fake: Fake
) -> None:
    gate = Gate(writer)
    batches = [Batch() for _ in range(5)]
    futures = [writer.submit(b) for b in batches]
    gate.open()
    assert results(futures) == [None] * 5
    assert fake.committed == batches  # in the order submitted
    assert fake.transactions()[1] == [("begin", None), ("write", 5), ("commit", None)]


def test_a_group_is_at_most_max_group_entries(fake: Fake) -> None:
    writer = GroupCommitWriter(
        fake, fake.write_batches, (fake.begin, fake.commit, fake.rollback), max_group=2
    )
    try:
        gate = Gate(writer)
        futures = [writer.submit(Batch()) for _ in range(5)]
        gate.open()
        results(futures)
    finally:
        writer.close()
    assert [t[1] for t in fake.transactions()[1:]] == [("write", 2), ("write", 2), ("write", 1)]


def test_a_tasks_result_is_its_futures_and_it_runs_in_the_groups_transaction(
    writer: GroupCommitWriter[Fake], fake: Fake
) -> None:
    gate = Gate(writer)
    batch = writer.submit(Batch())
    task = writer.submit(lambda conn: ("answered on", conn))
    gate.open()
    assert batch.result(WAIT) is None
    assert task.result(WAIT) == ("answered on", fake)
    assert fake.transactions()[1] == [("begin", None), ("write", 1), ("commit", None)]


def test_a_bad_entry_fails_alone_and_the_rest_of_its_group_commits(
    writer: GroupCommitWriter[Fake], fake: Fake
) -> None:
    gate = Gate(writer)
    good_before, bad, good_after = Batch(), Batch(), Batch()
    fake.poison.add(id(bad))
    futures = [writer.submit(b) for b in (good_before, bad, good_after)]
    gate.open()

    assert futures[0].result(WAIT) is None and futures[2].result(WAIT) is None
    with pytest.raises(StoreError, match="could not commit the write: a column cannot hold"):
        futures[1].result(WAIT)
    assert fake.committed == [good_before, good_after]
    # The group's transaction was rolled back, then each entry had its own.
    group, *alone = fake.transactions()[1:]
    assert group == [("begin", None), ("write", 3), ("rollback", None)]
    assert [t[-1][0] for t in alone] == ["commit", "rollback", "commit"]


def test_a_task_raising_a_glasspane_error_fails_with_that_error(
    writer: GroupCommitWriter[Fake], fake: Fake
) -> None:
    def conflict(conn: object) -> None:
        raise Conflict("A project named 'shop' already exists; choose another name")

    gate = Gate(writer)
    batch = writer.submit(Batch())
    task = writer.submit(conflict)
    gate.open()
    assert batch.result(WAIT) is None
    with pytest.raises(Conflict, match="choose another name"):  # as raised, not wrapped
        task.result(WAIT)


def test_a_full_disk_fails_the_whole_group_at_once_without_retrying_each_entry(
    writer: GroupCommitWriter[Fake], fake: Fake
) -> None:
    gate = Gate(writer)
    batches = [Batch() for _ in range(3)]
    fake.poison.add(id(batches[0]))
    fake.fail_with = DiskFull("No space left on device in /data; free some space")
    futures = [writer.submit(b) for b in batches]
    gate.open()
    for future in futures:
        with pytest.raises(DiskFull, match="No space left"):
            future.result(WAIT)
    assert fake.committed == []
    assert fake.transactions()[1:] == [[("begin", None), ("write", 3), ("rollback", None)]]


def test_explain_turns_a_database_error_into_the_answer(fake: Fake) -> None:
    explained = DiskFull("The disk of /data is full")
    writer = GroupCommitWriter(
        fake,
        fake.write_batches,
        (fake.begin, fake.commit, fake.rollback),
        explain=lambda exc: explained if isinstance(exc, OSError) else exc,
    )
    try:
        gate = Gate(writer)
        batches = [Batch(), Batch()]
        fake.poison.add(id(batches[1]))
        fake.fail_with = OSError(28, "No space left on device")
        futures = [writer.submit(b) for b in batches]
        gate.open()
        for future in futures:  # explained as a full disk: the group fails together
            with pytest.raises(DiskFull) as caught:
                future.result(WAIT)
            assert caught.value is explained
    finally:
        writer.close()


def test_a_failing_rollback_does_not_hide_the_error_that_caused_it(
    writer: GroupCommitWriter[Fake], fake: Fake
) -> None:
    bad = Batch()
    fake.poison.add(id(bad))
    fake.fail_rollback = True
    with pytest.raises(StoreError, match="a column cannot hold"):
        writer.submit(bad).result(WAIT)
    assert writer.submit(Batch()).result(WAIT) is None  # the thread lives on


def test_prepare_runs_before_every_transaction_and_chooses_the_connection(fake: Fake) -> None:
    replacement = Fake()
    prepared: list[object] = []

    def prepare(conn: Fake) -> Fake:
        prepared.append(conn)
        return replacement

    writer = GroupCommitWriter(
        fake,
        replacement.write_batches,
        (replacement.begin, replacement.commit, replacement.rollback),
        prepare=prepare,
    )
    try:
        assert writer.submit(Batch()).result(WAIT) is None
        assert writer.submit(lambda conn: conn).result(WAIT) is replacement
    finally:
        writer.close()
    assert prepared == [fake, replacement]  # the second transaction got the new one
    assert len(replacement.committed) == 1 and fake.log == []


def test_close_commits_everything_queued_then_refuses_new_work(
    writer: GroupCommitWriter[Fake], fake: Fake
) -> None:
    gate = Gate(writer)
    batches = [Batch() for _ in range(4)]
    futures = [writer.submit(b) for b in batches]
    closing = threading.Thread(target=writer.close)
    closing.start()
    gate.open()
    closing.join(WAIT)
    assert not closing.is_alive()
    assert results(futures) == [None] * 4
    assert fake.committed == batches
    with pytest.raises(StoreError, match="shutting down"):
        writer.submit(Batch()).result(WAIT)
    writer.close()  # a second close is harmless


def test_a_full_queue_refuses_at_once_instead_of_waiting(fake: Fake) -> None:
    writer = GroupCommitWriter(
        fake, fake.write_batches, (fake.begin, fake.commit, fake.rollback), max_queue=2
    )
    try:
        gate = Gate(writer)
        queued = [writer.submit(Batch()), writer.submit(Batch())]
        refused = writer.submit(Batch())
        assert refused.done()  # answered without waiting for the writer
        with pytest.raises(StoreError, match="queue full"):
            refused.result(0)
        gate.open()
        assert results(queued) == [None, None]
    finally:
        writer.close()
