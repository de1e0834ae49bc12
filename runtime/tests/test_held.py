"""A change that emits no event commits no transaction of its own: the task holds it and goes on
from it, and it commits with the task's next events, alone once it is old, or before the partition
leaves. A failed commit forgets everything held, and names every record to read again."""
from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from aiokafka import TopicPartition

from contracts.build import envelope
from runtime.stream.dlq import DeadLetterLimitExceeded
from runtime.stream.fakes import FakeBroker
from runtime.stream.loop import StreamLoop
from runtime.stream.task import CommitFailed
from runtime.stream.tasks import Tasks
from runtime.tests.test_task import CHANGELOG, DUE, HOLDING, ORDER, BuggySeller, Offsets, Shop, requested


def approve(offsets: Offsets, refund_id: str = "RF-1"):  # type: ignore[no-untyped-def]
    return offsets.record("seller.commands", envelope("seller.approve", {"order_id": ORDER, "refund_id": refund_id},
                                                      actor={"role": "seller", "id": "S-1"}))


async def test_a_change_without_events_waits_and_commits_with_the_next_events() -> None:
    broker = FakeBroker()
    task = await Shop(broker, HOLDING).task(0)
    offsets = Offsets()

    assert not await task.process([offsets.record("refund.events", requested())])  # the seller takes note
    assert task.transactions.commits == 0 and broker.aggregates(CHANGELOG) == [] and broker.offsets == {}
    assert task.store.get(ORDER).version == 0  # the store has only what committed

    assert await task.process([approve(offsets)])  # goes on from the held request
    assert task.transactions.commits == 1
    assert broker.types("seller.events") == ["seller.approved"]
    [state] = broker.aggregates(CHANGELOG)  # the aggregate once, both changes in it
    assert json.loads(state.value or b"")["state"]["requests"]["RF-1"]["step"] == "approved"
    assert task.store.get(ORDER).state["requests"]["RF-1"]["step"] == "approved"
    assert broker.offsets == {("refund.events", 0): 1, ("seller.commands", 0): 1}
    assert task.held is None and task.uncommitted == []


async def test_a_held_change_commits_alone_once_it_is_old() -> None:
    broker = FakeBroker()
    task = await Shop(broker, HOLDING).task(0)
    await task.process([Offsets().record("refund.events", requested())])

    assert not await task.commit_deferred(offsets_after_s=60, state_after_s=60)  # not old enough
    assert await task.commit_deferred(offsets_after_s=60, state_after_s=0)

    assert task.transactions.commits == 1 and len(broker.aggregates(CHANGELOG)) == 1
    assert broker.offsets == {("refund.events", 0): 1}
    assert not await task.commit_deferred()  # nothing left


async def test_a_failed_commit_forgets_what_was_held_and_names_every_record_to_read_again() -> None:
    broker = FakeBroker()
    task = await Shop(broker, HOLDING).task(0)
    offsets = Offsets()
    request, answer = offsets.record("refund.events", requested()), approve(offsets)
    await task.process([request])
    task.transactions.fail_next = ConnectionError("broker away")

    with pytest.raises(CommitFailed) as failed:
        await task.process([answer])

    assert failed.value.records == [request, answer]
    assert task.held is None and task.deferred == {} and task.store.get(ORDER).version == 0
    assert broker.aggregates(CHANGELOG) == [] and broker.offsets == {}
    # Read again, in order: the same outcome as if nothing had failed.
    await task.process([request])
    assert await task.process([answer])
    assert broker.types("seller.events") == ["seller.approved"]
    assert task.store.get(ORDER).state["requests"]["RF-1"]["step"] == "approved"


async def test_a_batch_whose_handling_fails_leaves_the_held_change_as_it_was() -> None:
    broker = FakeBroker()
    task = await Shop(broker, HOLDING, domain=BuggySeller()).task(0)
    offsets = Offsets()
    await task.process([offsets.record("refund.events", requested())])
    held = dict(task.held.changed)  # type: ignore[union-attr]

    with pytest.raises(DeadLetterLimitExceeded):  # the worker reads this batch again, later
        await task.process([offsets.record("refund.events", requested(refund_id=f"RF-bug-{i}")) for i in (1, 2)])

    assert task.held is not None and task.held.changed == held and task.transactions.commits == 0


async def test_a_deadline_of_a_held_change_fires_from_it() -> None:
    broker = FakeBroker()
    task = await Shop(broker, HOLDING).task(0)
    await task.process([Offsets().record("refund.events", requested())])
    assert task.timers.next_at() == DUE

    assert await task.fire_due(DUE + timedelta(seconds=1)) == 1

    assert task.transactions.commits == 1  # the held change and its deadline's event together
    assert broker.types("seller.events") == ["seller.timed_out"]
    assert broker.offsets == {("refund.events", 0): 1}
    assert task.store.get(ORDER).state["requests"]["RF-1"]["step"] != "awaiting_answer"


async def test_a_task_holds_no_more_records_than_a_batch_and_hold_false_commits_at_once() -> None:
    broker = FakeBroker()
    settings = HOLDING.model_copy(update={"batch_max_records": 2})
    task = await Shop(broker, settings).task(0)
    offsets = Offsets()
    first = [offsets.record("refund.events", requested(refund_id=f"RF-{i}")) for i in (1, 2)]
    assert not await task.process(first)

    assert await task.process([offsets.record("refund.events", requested(refund_id="RF-3"))])  # past the bound
    assert broker.offsets == {("refund.events", 0): 3}
    assert await task.process([offsets.record("refund.events", requested(refund_id="RF-4"))], hold=False)
    assert task.transactions.commits == 2


class SeekingConsumer:
    """What the loop asks of its consumer when it must read records again."""

    def __init__(self, *tps: TopicPartition) -> None:
        self.tps = set(tps)
        self.seeks: list[tuple[TopicPartition, int]] = []

    def assignment(self) -> set[TopicPartition]:
        return self.tps

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append((tp, offset))


async def test_when_a_held_change_fails_to_commit_on_its_own_its_records_are_read_again() -> None:
    broker = FakeBroker()
    task = await Shop(broker, HOLDING).task(0)
    offsets = Offsets()
    await task.process([offsets.record("refund.events", requested(refund_id=f"RF-{i}")) for i in (1, 2)])
    task.transactions.fail_next = ConnectionError("broker away")
    tasks = Tasks(lambda n: task)
    tasks.active[0] = task
    settings = HOLDING.model_copy(update={"timer_tick_s": 0.01, "deferred_state_s": 0.0})
    loop = StreamLoop(settings, "seller", ("refund.events",), "g", tasks, {})
    loop.consumer = SeekingConsumer(TopicPartition("refund.events", 0))
    stop = asyncio.Event()

    timers = asyncio.create_task(loop.fire_timers(stop))
    await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait_for(timers, 1)

    assert loop.consumer.seeks == [(TopicPartition("refund.events", 0), 0)]  # from the first held record
    assert task.held is None and broker.aggregates(CHANGELOG) == []
