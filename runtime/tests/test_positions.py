"""Where a task has read to commits with its state, in its changelog: a restore knows exactly which
records the state holds, a record read again (fetched from the group's older offsets, or after a
rewind) changes nothing, and the group's offsets are a report."""
from __future__ import annotations

import asyncio

import pytest
from aiokafka import TopicPartition

from runtime.stream.dlq import DeadLetterLimitExceeded
from runtime.stream.fakes import FakeBroker, FakeChangelog, FakeTransactions
from runtime.stream.loop import StreamLoop
from runtime.stream.ports import Offsets as Positions
from runtime.stream.positions import decode_positions, is_positions
from runtime.stream.records import OutRecord
from runtime.stream.task import CommitFailed, Task
from runtime.stream.tasks import Tasks
from runtime.tests.test_held import approve
from runtime.tests.test_task import CHANGELOG, HOLDING, SETTINGS, BuggySeller, Offsets, Shop, requested


class GroupOffsets(FakeTransactions):
    """Records what each commit asked of the group's offsets."""

    def __init__(self, broker: FakeBroker, transactional_id: str) -> None:
        super().__init__(broker, transactional_id)
        self.group_offsets: list[Positions] = []

    async def commit(self, records: list[OutRecord], offsets: Positions) -> None:
        await super().commit(records, offsets)
        self.group_offsets.append(offsets)


def last_positions(broker: FakeBroker) -> Positions:
    [*_, record] = [r for r in broker.records(CHANGELOG) if is_positions(r.key)]
    return decode_positions(record.value)


async def test_each_commit_keeps_every_position_of_the_task_in_its_changelog_not_in_the_group() -> None:
    broker = FakeBroker()
    task = await Shop(broker).task(0)
    task.transactions = GroupOffsets(broker, "aftersale-seller-0")
    await task.transactions.start()
    offsets = Offsets()

    assert await task.process([offsets.record("refund.events", requested())])
    assert await task.process([approve(offsets)])

    assert task.transactions.group_offsets == [{}, {}]
    # Compaction keeps the latest record only: it names the partitions the last batch did not read.
    assert last_positions(broker) == {("refund.events", 0): 1, ("seller.commands", 0): 1} == task.positions


async def test_a_new_owner_restores_the_positions_and_does_not_handle_what_it_reads_again() -> None:
    broker = FakeBroker()
    offsets = Offsets()
    request, answer = offsets.record("refund.events", requested()), approve(offsets)
    await (await Shop(broker).task(0)).process([request, answer])
    events, commits = list(broker.records("seller.events")), len(broker.records(CHANGELOG))

    task = await Shop(broker).task(0)  # another process: its consumer starts at older group offsets
    handled: list[int] = []
    handle = task.processor.handle
    task.processor.handle = lambda r, batch: handled.append(r.offset) or handle(r, batch)  # type: ignore[method-assign]

    assert task.positions == task.applied == {("refund.events", 0): 1, ("seller.commands", 0): 1}
    # Not even handled: an aggregate remembers a few event ids only, and the platform's own records
    # rely on this, not on those.
    assert not await task.process([request, answer]) and handled == []
    assert broker.records("seller.events") == events and len(broker.records(CHANGELOG)) == commits
    assert task.store.get(request.key.decode()).state["requests"]["RF-1"]["step"] == "approved"
    assert await task.process([offsets.record("refund.events", requested(refund_id="RF-2"))])  # the next one goes on
    assert handled == [1] and task.positions[("refund.events", 0)] == 2


async def test_a_batch_that_fails_is_read_again_whole() -> None:
    broker = FakeBroker()
    task = await Shop(broker, domain=BuggySeller()).task(0)
    offsets = Offsets()
    good, bugs = (offsets.record("refund.events", requested()),
                  [offsets.record("refund.events", requested(refund_id=f"RF-bug-{i}")) for i in (1, 2)])

    with pytest.raises(DeadLetterLimitExceeded):  # handling raised after the first record
        await task.process([good, *bugs])
    assert task.applied == {}  # nothing of the batch is taken as read

    task.transactions.fail_next = ConnectionError("broker away")
    with pytest.raises(CommitFailed):
        await task.process([good])
    assert task.applied == task.positions == {}

    assert await task.process([good])  # read again: handled, not skipped
    assert task.positions == {("refund.events", 0): 1}


class Consumer:
    """The processing consumer as the tasks' opening and closing use it."""

    def __init__(self, *tps: TopicPartition) -> None:
        self.tps = set(tps)
        self.seeks: dict[TopicPartition, int] = {}
        self.commits: list[dict[TopicPartition, int]] = []

    def assignment(self) -> set[TopicPartition]:
        return self.tps

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks[tp] = offset

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(offsets)


async def test_a_task_that_opens_reads_on_from_its_positions_and_reports_them_when_it_leaves() -> None:
    broker = FakeBroker()
    offsets = Offsets()
    await (await Shop(broker).task(0)).process([offsets.record("refund.events", requested()), approve(offsets)])
    shop = Shop(broker)
    tasks = Tasks(lambda n: Task(n, shop.processor, FakeTransactions(broker, f"aftersale-seller-{n}"),
                                 FakeChangelog(broker, CHANGELOG), CHANGELOG, SETTINGS))
    stream = StreamLoop(SETTINGS, "seller", ("refund.events", "seller.commands"), "g", tasks, {})
    events, commands, elsewhere = (TopicPartition("refund.events", 0), TopicPartition("seller.commands", 0),
                                   TopicPartition("refund.events", 1))
    stream.consumer = Consumer(events, commands, elsewhere)

    await tasks.on_partitions_assigned([events, commands])

    assert stream.consumer.seeks == {events: 1, commands: 1}
    await tasks.on_partitions_revoked([events, commands])
    assert stream.consumer.commits == [{events: 1, commands: 1}]
    await stream.report({("refund.events", 0): 1, ("seller.commands", 0): 1})
    assert len(stream.consumer.commits) == 1  # reported already: not asked again


async def test_a_record_read_again_while_its_change_is_held_is_not_handled_twice() -> None:
    task = await Shop(FakeBroker(), HOLDING).task(0)
    request = Offsets().record("refund.events", requested())
    assert not await task.process([request])  # held, not committed
    handled: list[int] = []
    handle = task.processor.handle
    task.processor.handle = lambda r, batch: handled.append(r.offset) or handle(r, batch)  # type: ignore[method-assign]

    assert not await task.process([request])  # a rewind, or a fetch from before it

    assert handled == [] and task.applied == {("refund.events", 0): 1} and task.positions == {}
