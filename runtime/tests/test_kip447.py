"""The two requests of KIP-447 that aiokafka 0.14 lacks, built with its protocol classes: what is
sent, and how the answers are read. The real broker's side: tests/reliability/test_replicas.py."""
from __future__ import annotations

from io import BytesIO
from types import SimpleNamespace

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import GroupAuthorizationFailedError
from aiokafka.producer import sender as aiokafka_sender
from aiokafka.structs import OffsetAndMetadata

from runtime import kip447
from runtime.kip447 import (GroupMetadata, NotTheGroupsMember, OffsetFetchRequest_v7, OffsetFetchResponse_v7,
                            OffsetFetchStable, TxnOffsetCommitResponse_v3, TxnOffsetCommitV3, read_offsets)

GROUP = GroupMetadata("aftersale-seller", 7, "member-1", "aftersale-seller-0-abc")


def roundtrip(struct):
    return type(struct).SCHEMA.decode(BytesIO(struct.encode()))


def test_offsets_are_committed_with_the_members_generation() -> None:
    offsets = {TopicPartition("refund.events", 2): OffsetAndMetadata(41, ""),
               TopicPartition("orders.events", 2): OffsetAndMetadata(9, "")}
    struct = TxnOffsetCommitV3("aftersale-seller-instance-0", 1001, 3, GROUP, offsets).prepare({28: (0, 5)})
    assert struct.API_VERSION == 3 and struct.FLEXIBLE_VERSION
    fields = roundtrip(struct)
    assert fields[:7] == ("aftersale-seller-instance-0", "aftersale-seller", 1001, 3, 7, "member-1",
                          "aftersale-seller-0-abc")
    assert [(t, [(p, o) for p, o, *_ in ps]) for t, ps, _ in fields[7]] == [
        ("orders.events", [(2, 9)]), ("refund.events", [(2, 41)])]


def test_the_stable_offsets_request_asks_the_broker_to_wait_for_open_transactions() -> None:
    struct = OffsetFetchStable("aftersale-seller", [TopicPartition("refund.events", 1),
                                                    TopicPartition("orders.events", 1)]).prepare({9: (0, 9)})
    assert isinstance(struct, OffsetFetchRequest_v7)
    group, topics, require_stable, _ = roundtrip(struct)
    assert (group, require_stable) == ("aftersale-seller", True)
    assert [(t, ps) for t, ps, _ in topics] == [("orders.events", [1]), ("refund.events", [1])]


def fetch_answer(*partitions: tuple[str, int, int, int], error: int = 0) -> OffsetFetchResponse_v7:
    topics: dict[str, list] = {}
    for topic, partition, offset, code in partitions:
        topics.setdefault(topic, []).append((partition, offset, -1, "", code, {}))
    return OffsetFetchResponse_v7(0, [(t, ps, {}) for t, ps in topics.items()], error, {})


def test_a_transaction_still_holding_offsets_makes_the_answer_unstable() -> None:
    offsets, unstable = read_offsets(fetch_answer(("refund.events", 1, 40, 0), ("orders.events", 1, -1, 88)))
    assert (offsets, unstable) == ({("refund.events", 1): 40}, True)
    offsets, unstable = read_offsets(fetch_answer(("refund.events", 1, 41, 0), ("orders.events", 1, -1, 0)))
    assert (offsets, unstable) == ({("refund.events", 1): 41}, False), "never committed: left out"
    with pytest.raises(GroupAuthorizationFailedError):
        read_offsets(fetch_answer(error=30))


class FakeTxnManager:
    transactional_id, producer_id, producer_epoch = "aftersale-seller-instance-0", 1001, 3

    def __init__(self) -> None:
        self.errors: list[Exception] = []
        self.committed: list[tuple[TopicPartition, int]] = []
        self.group_metadata = lambda: GROUP

    def error_transaction(self, exc: Exception) -> None:
        self.errors.append(exc)

    def offset_committed(self, tp: TopicPartition, offset: int, group_id: str) -> None:
        self.committed.append((tp, offset))


def handler(txn_manager: FakeTxnManager) -> aiokafka_sender.TxnOffsetCommitHandler:
    sender = SimpleNamespace(_txn_manager=txn_manager, _retry_backoff=0.1)
    offsets = {TopicPartition("refund.events", 2): OffsetAndMetadata(41, "")}
    return aiokafka_sender.TxnOffsetCommitHandler(sender, offsets, "aftersale-seller")


def commit_answer(code: int) -> TxnOffsetCommitResponse_v3:
    return TxnOffsetCommitResponse_v3(0, [("refund.events", [(2, code, {})], {})], {})


@pytest.fixture
def installed():
    producer = SimpleNamespace(_txn_manager=FakeTxnManager())
    kip447.install(producer, lambda: GROUP)
    return producer._txn_manager


def test_a_member_the_group_has_moved_on_from_has_its_transaction_aborted(installed: FakeTxnManager) -> None:
    h = handler(installed)
    assert isinstance(h.create_request(), TxnOffsetCommitV3)
    assert h.handle_response(commit_answer(22)) is None  # ILLEGAL_GENERATION
    assert [type(e) for e in installed.errors] == [NotTheGroupsMember]
    assert "ILLEGAL_GENERATION" in str(installed.errors[0])
    assert installed.committed == []


def test_offsets_the_broker_took_are_recorded_as_committed(installed: FakeTxnManager) -> None:
    assert handler(installed).handle_response(commit_answer(0)) is None
    assert installed.committed == [(TopicPartition("refund.events", 2), 41)] and installed.errors == []


def test_a_producer_without_group_metadata_keeps_the_old_request(installed: FakeTxnManager) -> None:
    plain = FakeTxnManager()
    del plain.group_metadata
    assert not isinstance(handler(plain).create_request(), TxnOffsetCommitV3)
