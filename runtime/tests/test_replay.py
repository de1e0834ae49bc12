"""Operators send a dead letter of a service's own topic back through ops.commands
(dead_letter.replay), since they may not write that topic (contract version 3): the service that
set it aside handles it as if read again; a second replay is a duplicate, and another service
ignores it."""
from __future__ import annotations

import base64

from contracts.build import encode, envelope
from runtime.stream.batch import Batch
from runtime.stream.ownership import partition_of
from runtime.stream.processor import APPLIED, DUPLICATE, IGNORED, Processor
from runtime.stream.records import InRecord
from runtime.stream.store import StateStore
from runtime.tests.test_budget import Feed, paid
from services.refund.domain.service import RefundDomain
from services.refund.settings import RefundSettings
from services.seller.domain.service import SellerDomain
from services.seller.settings import SellerSettings

ORDER = "O-replay-1"


def replay(of: InRecord, service: str, offset: int = 0) -> InRecord:
    env = envelope("dead_letter.replay", {"key": of.key.decode(), "service": service, "topic": of.topic,
                                          "value_b64": base64.b64encode(of.value).decode(),
                                          "dead_letter": f"{of.topic}.dlq@{of.offset}"},
                   actor={"role": "system", "id": "ops"})
    return InRecord("ops.commands", partition_of(ORDER), offset, of.key, encode(env))


def test_a_replayed_dead_letter_is_handled_once_by_the_service_it_names() -> None:
    refund = Processor(RefundDomain(), RefundSettings(), "aftersale-refund.repartition")
    store = StateStore()
    lost = paid(Feed(), ORDER)  # as if dead-lettered by the refund service
    batch = Batch(store, partition_of(ORDER))
    assert refund.handle(replay(lost, "refund"), batch) == APPLIED
    batch.committed()
    assert store.get(ORDER).state["order"]["paid_fen"] == 10000
    assert refund.handle(replay(lost, "refund", 1), Batch(store, partition_of(ORDER))) == DUPLICATE


def test_a_replay_for_another_service_or_of_a_topic_it_does_not_read_changes_nothing() -> None:
    refund = Processor(RefundDomain(), RefundSettings(), "aftersale-refund.repartition")
    seller = Processor(SellerDomain(), SellerSettings(), "aftersale-seller.repartition")
    store, lost = StateStore(), paid(Feed(), ORDER)
    batch = Batch(store, partition_of(ORDER))
    assert refund.handle(replay(lost, "seller"), batch) == IGNORED
    elsewhere = InRecord("payments.commands", lost.partition, 0, lost.key, lost.value)
    assert seller.handle(replay(elsewhere, "seller"), batch) == IGNORED
    assert batch.out == [] and store.get(ORDER).version == 0
