"""The consumer loop's hand-off to a task: records that arrive within commit_interval_s of the
task's last commit wait and share one transaction; without an interval each goes at once."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

from aiokafka import TopicPartition

from runtime.service.settings import ServiceSettings
from runtime.stream.fakes import FakeBroker, FakeTransactions
from runtime.stream.loop import StreamLoop


class CountingTask:
    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    async def process(self, records: list) -> bool:
        self.batches.append([r.offset for r in records])
        return True  # each batch committed a transaction


def record(offset: int) -> SimpleNamespace:
    return SimpleNamespace(topic="t", partition=0, offset=offset)


async def trickle(interval_s: float) -> list[list[int]]:
    """Ten records, 10 ms apart, to one task."""
    task = CountingTask()
    tasks = SimpleNamespace(active={0: task})
    loop = StreamLoop(ServiceSettings(commit_interval_s=interval_s), "svc", ("t",), "g", tasks, {})  # type: ignore[arg-type]
    stop = asyncio.Event()
    for i in range(10):
        loop._enqueue(0, [record(i)], stop)  # noqa: SLF001 - the hand-off is what is tested
        await asyncio.sleep(0.01)
    await asyncio.sleep(interval_s + 0.05)
    stop.set()
    loop.wakeups[0].set()
    await asyncio.wait_for(loop.workers[0], 1)
    return task.batches


async def test_records_that_trickle_in_share_a_transaction_per_commit_interval():
    batches = await trickle(0.05)
    assert sum(batches, []) == list(range(10))  # all of them, in order
    assert len(batches) <= 4  # about 100 ms of records, a batch per 50 ms (and the first at once)


async def test_without_an_interval_each_record_goes_at_once():
    assert await trickle(0.0) == [[i] for i in range(10)]


class AssignedDuringThePoll:
    """A consumer whose group assigns partition 0 while a poll waits, and whose poll then brings
    the partition's first records (offsets 5 and 6), as aiokafka's does after a rebalance."""

    def __init__(self, tasks: SimpleNamespace, stop: asyncio.Event) -> None:
        self.tp = TopicPartition("t", 0)
        self.tasks, self.stop = tasks, stop
        self._fetcher = SimpleNamespace()  # where the loop sets the next fetch's terms

    async def getmany(self, timeout_ms: int, max_records: int) -> dict:
        self.tasks.unpinned = {self.tp}
        self.stop.set()
        return {self.tp: [record(5), record(6)]}

    async def committed(self, tp: TopicPartition) -> None:
        return None  # the group never committed it: "latest" put the position at its end

    async def position(self, tp: TopicPartition) -> int:
        return 7  # past what the poll brought

    def assignment(self) -> set[TopicPartition]:
        return {self.tp}


async def test_a_partition_assigned_during_a_poll_is_pinned_at_its_first_record_not_past_it():
    broker = FakeBroker()
    task = CountingTask()
    task.lock, task.transactions = asyncio.Lock(), FakeTransactions(broker, "svc-0")  # type: ignore[attr-defined]
    await task.transactions.start()  # type: ignore[attr-defined]
    tasks = SimpleNamespace(active={0: task}, unpinned=set())
    stop = asyncio.Event()
    loop = StreamLoop(ServiceSettings(commit_interval_s=0), "svc", ("t",), "g", tasks, {})  # type: ignore[arg-type]
    loop.consumer = AssignedDuringThePoll(tasks, stop)

    await asyncio.wait_for(loop.run(stop), 2)

    assert broker.offsets == {("t", 0): 5}  # a crash now starts again at the records just read
    assert task.batches == [[5, 6]]
