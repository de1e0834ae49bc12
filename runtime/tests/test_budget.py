"""An aggregate stays within its byte budget: a command that would grow it past the budget is
refused (`limit_reached`), an event dead-lettered, and nothing of either is applied. The partition
goes on, and another aggregate of it is served as before."""
from __future__ import annotations

import orjson

from contracts.build import encode, envelope
from runtime.stream.batch import Batch
from runtime.stream.ownership import partition_of
from runtime.stream.processor import REJECTED, Processor
from runtime.stream.records import InRecord
from runtime.stream.store import StateStore
from services.arbitration.domain.service import ArbitrationDomain
from services.arbitration.settings import ArbitrationSettings
from services.refund.domain.service import RefundDomain
from services.refund.settings import RefundSettings

SETTINGS = RefundSettings(max_posts_per_day=1000)
ORDER, OTHER = "O-budget-1", "O-budget-2"


class Feed:
    def __init__(self) -> None:
        self.offsets: dict[str, int] = {}

    def __call__(self, topic: str, type_: str, data: dict, actor: tuple[str, str], key: str) -> InRecord:
        offset = self.offsets.get(topic, 0)
        self.offsets[topic] = offset + 1
        env = envelope(type_, data, actor={"role": actor[0], "id": actor[1]})
        return InRecord(topic, partition_of(key), offset, key.encode(), encode(env), timestamp=offset)


def paid(feed: Feed, order_id: str) -> InRecord:
    return feed("orders.events", "order.paid", {
        "order_id": order_id, "buyer_id": "B1", "seller_id": "S1", "amount_fen": 10000, "currency": "CNY",
        "paid_at": "2026-12-01T00:00:00Z"}, ("system", "orders"), order_id)


def request(feed: Feed, order_id: str) -> InRecord:
    return feed("refund.commands", "refund.request", {
        "order_id": order_id, "kind": "refund_only", "reason": "quality", "amount_fen": 5000, "refund_to": "original",
        "description": "坏了", "evidence": [{"kind": "photo", "uri": "https://img.example/1.jpg"}]}, ("buyer", "B1"), order_id)


def test_a_command_past_the_budget_is_refused_and_the_aggregate_stays_within_it() -> None:
    store, feed = StateStore(), Feed()
    batch = Batch(store, partition_of(ORDER))
    for r in (paid(feed, ORDER), request(feed, ORDER)):
        Processor(RefundDomain(), SETTINGS, "aftersale-refund.repartition").handle(r, batch)
    budget = len(batch.get(ORDER).encode()) + 1500  # room for a few posts: each adds who and when
    processor = Processor(RefundDomain(), RefundSettings(aggregate_budget_bytes=budget, max_posts_per_day=1000),
                          "aftersale-refund.repartition")
    refund_id = next(iter(batch.get(ORDER).state["refunds"]))
    outcomes = []
    for i in range(40):
        post = feed("refund.commands", "conversation.post", {"order_id": ORDER, "refund_id": refund_id,
                                                             "text": "长" * 1000, "attachments": []},
                    ("buyer", "B1"), ORDER)
        outcomes.append(processor.handle(post, batch))
    assert outcomes[0] == "applied" and outcomes[-1] == REJECTED
    assert len(batch.get(ORDER).encode()) <= budget
    refusals = [orjson.loads(r.value)["data"] for r in batch.out
                if r.type == "command.rejected"]
    assert refusals and all(r["code"] == "limit_reached" and "aggregate_budget" in r["message"] for r in refusals)
    assert len(refusals) == outcomes.count(REJECTED)


def test_an_event_past_the_budget_is_dead_lettered_and_the_partition_goes_on() -> None:
    # The arbitration service keeps an order's items for the case file.
    processor = Processor(ArbitrationDomain(), ArbitrationSettings(aggregate_budget_bytes=3000),
                          "aftersale-arbitration.repartition")
    feed = Feed()
    batch = Batch(StateStore(), partition_of(ORDER))
    big = feed("orders.events", "order.paid", {
        "order_id": ORDER, "buyer_id": "B1", "seller_id": "S1", "amount_fen": 10000, "currency": "CNY",
        "paid_at": "2026-12-01T00:00:00Z",
        "items": [{"sku": f"SKU{i}", "title": "一件很长的商品" * 20, "qty": 1, "price_fen": 100} for i in range(10)]},
        ("system", "orders"), ORDER)
    assert processor.handle(big, batch) == REJECTED
    assert batch.get(ORDER).version == 0  # nothing of it applied
    [letter] = [r for r in batch.out if r.topic == "orders.events.dlq"]
    assert dict(letter.headers)["x-dlq-code"] == b"invalid.limit_reached"
    other = feed("orders.events", "order.paid", {
        "order_id": OTHER, "buyer_id": "B2", "seller_id": "S1", "amount_fen": 500, "currency": "CNY",
        "paid_at": "2026-12-01T00:00:00Z"}, ("system", "orders"), OTHER)
    served = Batch(batch.store, partition_of(OTHER))
    processor.handle(other, served)
    assert served.get(OTHER).version == 1


async def test_a_batch_the_broker_refuses_for_good_is_split_until_the_one_record_is_dead_lettered() -> None:
    from runtime.stream.fakes import FakeBroker, FakeChangelog, FakeTransactions
    from runtime.stream.stuck import isolate, permanent
    from runtime.stream.task import CommitFailed, Task

    broker = FakeBroker()
    changelog = "aftersale-refund.changelog"
    processor = Processor(RefundDomain(), SETTINGS, "aftersale-refund.repartition")
    p = partition_of(ORDER)
    task = Task(p, processor, FakeTransactions(broker, "t-0"), FakeChangelog(broker, changelog), changelog, SETTINGS)
    await task.transactions.start()
    feed = Feed()
    first = [paid(feed, ORDER), request(feed, ORDER)]
    await task.process(first)
    refund_id = next(iter(task.store.get(ORDER).state["refunds"]))
    task.transactions.max_record_bytes = 10_000  # a post with 20 photos of 2 KB addresses is more

    def post(text: str, photos: int = 0) -> InRecord:
        attachments = [{"kind": "photo", "uri": f"https://img.example.cn/{i:02d}/" + "p" * 2000} for i in range(photos)]
        return feed("refund.commands", "conversation.post", {"order_id": ORDER, "refund_id": refund_id, "text": text,
                                                             "attachments": attachments}, ("buyer", "B1"), ORDER)
    batch = [post("短"), post("长", photos=20), post("短")]
    try:
        await task.process(batch)
        raise AssertionError("the broker took a record past its size")
    except CommitFailed as exc:
        assert permanent(exc)
    await task.transactions.start()
    await isolate(task, batch, "too large", task.transactions.start)

    [letter] = broker.records("refund.commands.dlq")
    assert letter.value == batch[1].value and dict(letter.headers)["x-dlq-code"] == b"commit_refused"
    assert broker.offsets[("refund.commands", p)] == batch[-1].offset + 1
    posts = task.store.get(ORDER).state["refunds"][refund_id]["posts"]
    assert len(posts) == 2 and all(len(r.value) <= 10_000 for r in broker.aggregates(changelog))
