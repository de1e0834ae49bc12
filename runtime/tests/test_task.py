"""The runtime's steps against in-memory ports: the seller's side of a refund request, told as
records in and one transaction out per batch. No broker, no database; milliseconds each."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from contracts.build import encode, envelope
from runtime.stream.dlq import DeadLetterLimitExceeded
from runtime.stream.fakes import FakeBroker, FakeChangelog, FakeTransactions
from runtime.stream.ownership import partition_of
from runtime.stream.ports import ProducerFenced
from runtime.stream.processor import Processor
from runtime.stream.records import H_AGGREGATE_KEY, InRecord, header
from runtime.stream.task import CommitFailed, Task
from services.seller.domain.service import SellerDomain
from services.seller.settings import SellerSettings

CHANGELOG, REPARTITION = "aftersale-seller.changelog", "aftersale-seller.repartition"
# Most stories here are of one batch, one transaction: a change commits at once. HOLDING is the
# default, under which a change that emits no event waits for the task's next transaction.
SETTINGS = SellerSettings(handler_attempts=2, dead_letter_limit=1, dead_letter_window=10, deferred_state_s=0)
HOLDING = SETTINGS.model_copy(update={"deferred_state_s": 1.0})


def order_on(p: int, prefix: str = "O") -> str:
    n = 0
    while partition_of(f"{prefix}-{n}") != p:
        n += 1
    return f"{prefix}-{n}"


ORDER = order_on(0)
DUE = (datetime.now(timezone.utc) + timedelta(minutes=1)).replace(microsecond=0)


def requested(order_id: str = ORDER, refund_id: str = "RF-1", event_id: str | None = None) -> dict:
    return envelope("refund.requested", {
        "order_id": order_id, "refund_id": refund_id, "kind": "refund_only", "reason": "quality", "amount_fen": 500,
        "seller_id": "S-1", "buyer_id": "B-1", "seller_due_at": DUE.isoformat()},
        actor={"role": "buyer", "id": "B-1"}, event_id=event_id)


class Offsets:
    def __init__(self) -> None:
        self.next: dict[str, int] = {}

    def record(self, topic: str, env: dict | bytes, key: str = ORDER, headers: tuple = ()) -> InRecord:
        offset = self.next.get(topic, 0)
        self.next[topic] = offset + 1
        value = env if isinstance(env, bytes) else encode(env)
        return InRecord(topic, partition_of(key), offset, key.encode(), value, headers, timestamp=offset)


class Shop:
    """One seller service process: a task per partition on the shared fake broker."""

    def __init__(self, broker: FakeBroker, settings: SellerSettings = SETTINGS, domain: SellerDomain | None = None) -> None:
        self.broker = broker
        self.settings = settings
        self.processor = Processor(domain or SellerDomain(), settings, REPARTITION)

    async def task(self, partition: int, restore: bool = True) -> Task:
        t = Task(partition, self.processor, FakeTransactions(self.broker, f"aftersale-seller-{partition}"),
                 FakeChangelog(self.broker, CHANGELOG), CHANGELOG, self.settings)
        await t.transactions.start()
        if restore:
            await t.restore()
        return t


@pytest.fixture
def broker() -> FakeBroker:
    return FakeBroker()


async def test_a_request_starts_the_sellers_clock_in_one_transaction(broker: FakeBroker) -> None:
    task = await Shop(broker).task(0)
    record = Offsets().record("refund.events", requested())

    await task.process([record])

    assert task.transactions.commits == 1
    [state] = broker.aggregates(CHANGELOG)
    assert state.key == ORDER.encode() and state.partition == 0
    assert json.loads(state.value)["state"]["requests"]["RF-1"]["step"] == "awaiting_answer"
    assert broker.offsets == {("refund.events", 0): 1}
    assert len(task.timers) == 1


async def test_the_deadline_fires_once_in_the_process_that_took_the_partition_over(broker: FakeBroker) -> None:
    first = await Shop(broker).task(0)
    await first.process([Offsets().record("refund.events", requested())])

    second = await Shop(broker).task(0)  # restored from the changelog alone
    later = DUE + timedelta(seconds=1)

    assert await second.fire_due(later) == 1
    assert await second.fire_due(later + timedelta(seconds=5)) == 0
    assert broker.types("seller.events") == ["seller.timed_out"]
    assert len(second.store) == 1 and second.timers.next_at() is None


async def test_a_duplicate_another_system_sends_changes_nothing(broker: FakeBroker) -> None:
    task = await Shop(broker).task(0)
    offsets = Offsets()
    env = requested()
    await task.process([offsets.record("refund.events", env)])
    version = task.store.get(ORDER).version

    await task.process([offsets.record("refund.events", env)])  # the same event_id, again

    assert task.store.get(ORDER).version == version
    assert len(broker.aggregates(CHANGELOG)) == 1
    assert broker.offsets[("refund.events", 0)] == 1 and task.deferred == {("refund.events", 0): 2}
    assert await task.commit_deferred()
    assert broker.offsets[("refund.events", 0)] == 2  # read past, all the same


async def test_records_that_change_nothing_cost_no_transaction_and_ride_with_the_next(broker: FakeBroker) -> None:
    task = await Shop(broker).task(0)
    offsets = Offsets()
    await task.process([offsets.record("refund.events", requested())])
    commits = task.transactions.commits
    unfollowed = envelope("refund.completed", {  # the seller service does not follow it
        "order_id": ORDER, "refund_id": "RF-9", "amount_fen": 1, "refund_to": "balance"},
        actor={"role": "system", "id": "svc:refund"})
    assert not await task.process([offsets.record("refund.events", unfollowed)])
    assert not await task.commit_deferred(offsets_after_s=60, state_after_s=60)  # not old enough to go alone
    assert task.transactions.commits == commits and broker.offsets[("refund.events", 0)] == 1

    approve = Offsets().record("seller.commands", envelope(
        "seller.approve", {"order_id": ORDER, "refund_id": "RF-1"}, actor={"role": "seller", "id": "S-1"}))
    assert await task.process([approve])
    assert task.transactions.commits == commits + 1
    assert broker.offsets[("refund.events", 0)] == 2 and broker.offsets[("seller.commands", 0)] == 1
    assert task.deferred == {} and not await task.commit_deferred()


async def test_an_aborted_batch_leaves_the_store_as_it_was_and_its_retry_emits_the_same_ids(broker: FakeBroker) -> None:
    task = await Shop(broker).task(0)
    offsets = Offsets()
    await task.process([offsets.record("refund.events", requested())])
    approve = offsets.record("seller.commands", envelope("seller.approve", {"order_id": ORDER, "refund_id": "RF-1"},
                                                       actor={"role": "seller", "id": "S-1"}))
    task.transactions.fail_next = ConnectionError("broker away")

    with pytest.raises(CommitFailed):
        await task.process([approve])
    assert task.store.get(ORDER).state["requests"]["RF-1"]["step"] == "awaiting_answer"
    assert broker.types("seller.events") == []

    await task.process([approve])  # read again from the same offset
    assert task.store.get(ORDER).state["requests"]["RF-1"]["step"] == "approved"
    assert broker.types("seller.events") == ["seller.approved"]


async def test_the_old_owner_is_fenced_once_the_new_one_starts(broker: FakeBroker) -> None:
    old = await Shop(broker).task(0)
    await Shop(broker).task(0)  # a rebalance gave partition 0 to another process

    with pytest.raises(CommitFailed) as failed:
        await old.process([Offsets().record("refund.events", requested())])
    assert isinstance(failed.value.__cause__, ProducerFenced)
    assert broker.aggregates(CHANGELOG) == []


async def test_a_message_that_is_not_json_is_dead_lettered_and_a_bad_command_refused(broker: FakeBroker) -> None:
    task = await Shop(broker).task(0)
    offsets = Offsets()
    bad_command = envelope("seller.approve", {"order_id": ORDER}, actor={"role": "seller", "id": "S-1"}, validate=False)

    await task.process([offsets.record("seller.commands", b"{not json"), offsets.record("seller.commands", bad_command)])

    letters = broker.records("seller.commands.dlq")
    assert [header(r.headers, "x-dlq-code") for r in letters] == ["invalid.not_json", "invalid.invalid_data"]
    [rejected] = broker.records("seller.events")
    assert rejected.envelope()["data"]["command_event_id"] == bad_command["event_id"]
    assert broker.offsets[("seller.commands", 0)] == 2


class BuggySeller(SellerDomain):
    def decide(self, key, state, msg, ctx):  # type: ignore[no-untyped-def]
        if msg.data.refund_id.startswith("RF-bug"):
            raise RuntimeError("a bug")
        return super().decide(key, state, msg, ctx)


async def test_a_bug_is_dead_lettered_and_the_partition_goes_on_until_bugs_pile_up(broker: FakeBroker) -> None:
    task = await Shop(broker, domain=BuggySeller()).task(0)
    offsets = Offsets()

    await task.process([offsets.record("refund.events", requested(refund_id="RF-bug-1")),
                        offsets.record("refund.events", requested(refund_id="RF-2"))])

    [letter] = broker.records("refund.events.dlq")
    assert header(letter.headers, "x-dlq-code") == "handler_error"
    assert "after 2 attempts" in (header(letter.headers, "x-dlq-reason") or "")
    assert set(task.store.get(ORDER).state["requests"]) == {"RF-2"}  # the record behind it was applied

    with pytest.raises(DeadLetterLimitExceeded):  # a second bug within ten records: stop, do not dead-letter on
        await task.process([offsets.record("refund.events", requested(refund_id="RF-bug-2"))])


async def test_shop_credit_reaches_the_shops_own_partition_through_the_repartition_topic(broker: FakeBroker) -> None:
    domain = SellerDomain()
    shop_home = domain.partition_of("shop:S-1")
    order = order_on((shop_home + 1) % 6)  # an order whose partition is not the shop's
    orders_task = await Shop(broker).task(partition_of(order))
    timed_out = envelope("refund.state_changed", {
        "order_id": order, "refund_id": "RF-9", "seller_id": "S-1", "buyer_id": "B-1", "state": "in_arbitration",
        "previous_state": "requested", "awaiting": "platform", "due_at": None, "kind": "refund_only", "amount_fen": 100,
        "cause": "seller.timed_out"}, actor={"role": "system", "id": "svc:refund"})

    await orders_task.process([Offsets().record("refund.events", timed_out, key=order)])

    [forwarded] = broker.records(REPARTITION)
    assert forwarded.partition == shop_home and header(forwarded.headers, H_AGGREGATE_KEY) == "shop:S-1"
    assert "shop:S-1" not in set(orders_task.store.keys())

    shop_task = await Shop(broker).task(shop_home)
    await shop_task.process([InRecord(REPARTITION, shop_home, 0, forwarded.key, forwarded.value, forwarded.headers)])

    assert "shop.credit_changed" in broker.types("seller.events")
    assert shop_task.store.get("shop:S-1").state["defects"]["RF-9"]["why"] == "timeout"


def test_two_services_reacting_to_one_event_emit_different_event_ids() -> None:
    from runtime.stream.aggregate import Aggregate
    from runtime.stream.batch import Batch
    from runtime.api.decision import Decision, Emit
    from runtime.stream.store import StateStore
    from services.notify.domain.service import NotifyDomain

    decision = Decision(state={}, emits=[Emit("locale.changed", {"user_id": "U-1", "locale": "en"})])
    ids = []
    for processor in (Shop(FakeBroker()).processor, Processor(NotifyDomain(), SETTINGS, "r")):
        batch = Batch(StateStore(), 0)
        processor.apply_decision(batch, Aggregate(ORDER), decision, "the-same-cause", None)
        ids.append(batch.out[0].envelope()["event_id"])
    assert ids[0] != ids[1]


async def test_a_record_takes_the_declared_steps_in_their_order(broker: FakeBroker, monkeypatch) -> None:
    """STEPS is what `describe` prints; this is what the task runs. They are one list."""
    from runtime.stream.steps import STEPS

    taken: list[str] = []
    for step in STEPS:
        owner = Processor if step.code.__qualname__.startswith("Processor.") else Task
        original = step.code

        if step.name == "commit":
            async def spy(*a, _name=step.name, _code=original, **kw):
                taken.append(_name)
                return await _code(*a, **kw)
        else:
            def spy(*a, _name=step.name, _code=original, **kw):
                taken.append(_name)
                return _code(*a, **kw)
        monkeypatch.setattr(owner, step.code.__name__, spy)
    task = await Shop(broker).task(0)

    await task.process([Offsets().record("refund.events", requested())])

    assert taken == [s.name for s in STEPS]


async def test_a_deadline_nobody_declared_is_a_bug_not_a_state(broker: FakeBroker, monkeypatch) -> None:
    from runtime.api.decision import Decision
    from services.seller.domain import service as seller_service

    domain = SellerDomain()
    decide = domain.decide

    def with_a_new_timer(key, state, msg, ctx) -> Decision:
        d = decide(key, state, msg, ctx)
        d.timers = {**(d.timers or {}), "nudge:RF-1": DUE}
        return d

    monkeypatch.setattr(domain, "decide", with_a_new_timer)
    task = await Shop(broker, domain=domain).task(0)

    await task.process([Offsets().record("refund.events", requested())])

    # the record is not applied: a bug the handler's retries cannot fix, dead-lettered with its reason
    [letter] = broker.records("refund.events.dlq")
    assert "undeclared deadline 'nudge:RF-1'" in str(dict(letter.headers))
    assert broker.aggregates(CHANGELOG) == []
    assert "seller_timeout" in seller_service.SellerDomain.timers  # the real ones are declared
