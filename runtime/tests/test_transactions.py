"""The process's one producer, shared by its tasks: commits that meet go together, a failure is
every task's, and every transaction carries offsets so that the group can fence it."""
from __future__ import annotations

import asyncio

import pytest

from runtime.fakes import FakeBroker, FakeTransactions
from runtime.ports import Offsets
from runtime.records import OutRecord
from runtime.transactions import ProcessTransactions


def event(topic: str, n: int) -> OutRecord:
    return OutRecord(topic, b"k", b'{"n": %d}' % n, 0)


class HeldProducer(FakeTransactions):
    """Its transactions wait until released, so that others arrive meanwhile."""

    def __init__(self, broker: FakeBroker) -> None:
        super().__init__(broker, "aftersale-seller-instance-0")
        self.release = asyncio.Event()
        self.transactions: list[tuple[list[bytes], Offsets]] = []
        self.starts = 0

    async def start(self) -> None:
        self.starts += 1
        await super().start()

    async def commit(self, records: list[OutRecord], offsets: Offsets) -> None:
        await self.release.wait()
        await super().commit(records, offsets)
        self.transactions.append(([r.value for r in records], dict(offsets)))


def process(producer: HeldProducer, committed: dict[int, Offsets] | None = None) -> ProcessTransactions:
    async def stable(n: int) -> Offsets:
        return dict((committed or {}).get(n, {}))

    return ProcessTransactions(producer, stable)


async def test_commits_that_arrive_during_a_transaction_share_the_next() -> None:
    producer = HeldProducer(FakeBroker())
    shared = process(producer)
    tasks = [shared.for_task(n) for n in range(3)]
    for t in tasks:
        await t.start()
    first = asyncio.create_task(tasks[0].commit([event("seller.events", 0)], {("refund.events", 0): 1}))
    await asyncio.sleep(0)  # the first transaction is in flight
    others = [asyncio.create_task(tasks[n].commit([event("seller.events", n)], {("refund.events", n): 4}))
              for n in (1, 2)]
    producer.release.set()
    await asyncio.gather(first, *others)

    assert producer.transactions == [
        ([b'{"n": 0}'], {("refund.events", 0): 1}),
        ([b'{"n": 1}', b'{"n": 2}'], {("refund.events", 1): 4, ("refund.events", 2): 4}),
    ]
    assert (shared.transactions, shared.commits) == (2, 3)
    assert producer.starts == 1, "one producer for the process, started once"


async def test_a_failed_transaction_fails_every_task_in_it_and_the_next_starts_afresh() -> None:
    producer = HeldProducer(FakeBroker())
    shared = process(producer)
    a, b = shared.for_task(0), shared.for_task(1)
    await a.start()
    await b.start()
    producer.fail_next = RuntimeError("broker away")
    producer.release.set()
    results = await asyncio.gather(a.commit([event("seller.events", 0)], {("refund.events", 0): 1}),
                                   b.commit([event("seller.events", 1)], {("refund.events", 1): 1}),
                                   return_exceptions=True)
    assert [str(r) for r in results] == ["broker away", "broker away"]
    assert producer.broker.log == {}

    await b.commit([event("seller.events", 1)], {("refund.events", 1): 1})
    assert producer.starts == 2, "restarted before the next transaction"
    assert [r.value for r in producer.broker.records("seller.events")] == [b'{"n": 1}']
    assert producer.broker.offsets == {("refund.events", 1): 1}


async def test_a_deadline_firing_carries_one_of_the_tasks_offsets_again() -> None:
    """The broker checks the group generation only with offsets: a transaction without them
    could be a zombie's, firing a deadline that the partition's new owner fires too."""
    producer = HeldProducer(FakeBroker())
    producer.release.set()
    shared = process(producer, {0: {("refund.events", 0): 7, ("orders.events", 0): 3}})
    task = shared.for_task(0)
    await task.start()

    await task.commit([event("seller.events", 0)], {})
    await task.commit([event("seller.events", 1)], {("orders.events", 0): 9})
    await task.commit([event("seller.events", 2)], {})

    assert [offsets for _, offsets in producer.transactions] == [
        {("orders.events", 0): 3}, {("orders.events", 0): 9}, {("orders.events", 0): 9}]


async def test_a_task_starts_only_once_its_partition_is_stable() -> None:
    producer = HeldProducer(FakeBroker())
    asked: list[int] = []
    release = asyncio.Event()

    async def stable(n: int) -> Offsets:
        asked.append(n)
        await release.wait()  # the previous owner's transaction is still open
        return {("refund.events", n): 2}

    task = ProcessTransactions(producer, stable).for_task(2)
    starting = asyncio.create_task(task.start())
    await asyncio.sleep(0.01)
    assert asked == [2] and not starting.done()
    release.set()
    await starting
    assert task.positions == {("refund.events", 2): 2}


async def test_a_task_that_gives_up_waiting_does_not_cancel_the_others_commit() -> None:
    producer = HeldProducer(FakeBroker())
    shared = process(producer)
    a, b = shared.for_task(0), shared.for_task(1)
    first = asyncio.create_task(a.commit([event("seller.events", 0)], {("refund.events", 0): 1}))
    await asyncio.sleep(0)
    second = asyncio.create_task(b.commit([event("seller.events", 1)], {("refund.events", 1): 1}))
    await asyncio.sleep(0)
    first.cancel()
    producer.release.set()
    await second
    with pytest.raises(asyncio.CancelledError):
        await first
    assert len(producer.broker.records("seller.events")) == 2, "the cancelled caller's transaction still committed"
