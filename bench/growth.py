"""`python -m bench.growth`: what one more message costs as a case or a request grows, through
the processor (decide, the aggregate budget's encoding, the changelog records), no broker.

Submissions of 2,000 characters to one case (the first four with 20 photos) up to past the limit,
and posts of 1,000 characters to one request, each timed and its changelog bytes counted."""
from __future__ import annotations

import time

from contracts.build import encode, envelope
from contracts.registry import topic_for
from runtime.stream.aggregate import Aggregate
from runtime.stream.batch import Batch
from runtime.stream.ownership import partition_of
from runtime.stream.processor import Processor
from runtime.stream.records import InRecord
from runtime.stream.store import StateStore
from runtime.tests.test_budget import Feed, paid, request
from services.arbitration.domain.model import ArbitrationOrder
from services.arbitration.domain.service import ArbitrationDomain
from services.arbitration.settings import ArbitrationSettings
from services.arbitration.tests.test_cases import NOW, escalate
from services.refund.domain.service import RefundDomain
from services.refund.settings import RefundSettings

PHOTOS = [{"kind": "photo", "uri": f"https://img.example.cn/{i:02d}/" + "p" * 2022} for i in range(20)]


def timed(processor: Processor, store: StateStore, record: InRecord, key: str) -> tuple[str, float, int, int]:
    batch = Batch(store, record.partition)
    started = time.perf_counter()
    outcome = processor.handle(record, batch)
    written = sum(len(r.value or b"") for r in batch.changelog("changelog"))
    took = (time.perf_counter() - started) * 1000
    batch.committed()
    return outcome, took, written, len(store.get(key).encode())


def submissions(show: tuple[int, ...] = (1, 2, 100, 250, 499, 500, 501)) -> None:
    processor = Processor(ArbitrationDomain(), ArbitrationSettings(evidence_window_s=10 * 24 * 3600), "repartition",
                          clock=lambda: NOW)
    store, state = StateStore(), escalate().state
    store.put_all({"O1": Aggregate("O1", 1, state)})
    case_id = next(iter(ArbitrationOrder.load("O1", state).cases))
    for i in range(max(show)):
        party = ("buyer", "B1") if i % 2 == 0 else ("seller", "S1")
        env = envelope("evidence.submit", {"order_id": "O1", "case_id": case_id, "description": "长" * 2000,
                                           "evidence": PHOTOS if i < 4 else [], "done": False},
                       actor={"role": party[0], "id": party[1]})
        where = topic_for("evidence.submit", party[0])  # the seller's on seller.commands (contract v3)
        outcome, took, written, size = timed(processor, store, InRecord(where, partition_of("O1"), i,
                                                                        b"O1", encode(env)), "O1")
        if i + 1 in show:
            print(f"submission {i + 1}: {outcome}, {took:.2f} ms, changelog {written} B, aggregate {size} B")


def posts(show: tuple[int, ...] = (1, 2, 100, 200, 201)) -> None:
    processor = Processor(RefundDomain(), RefundSettings(max_posts_per_day=10 ** 6), "repartition")
    store, feed, order = StateStore(), Feed(), "O-growth"
    for r in (paid(feed, order), request(feed, order)):
        timed(processor, store, r, order)
    refund_id = next(iter(store.get(order).state["refunds"]))
    for i in range(max(show)):
        rec = feed("refund.commands", "conversation.post", {"order_id": order, "refund_id": refund_id,
                                                            "text": "长" * 1000, "attachments": []}, ("buyer", "B1"), order)
        outcome, took, written, size = timed(processor, store, rec, order)
        if i + 1 in show:
            print(f"post {i + 1}: {outcome}, {took:.2f} ms, changelog {written} B, aggregate {size} B")


if __name__ == "__main__":
    submissions()
    posts()
