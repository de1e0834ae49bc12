"""Exactly-once with one producer per process (KIP-447), on aiokafka 0.14.

aiokafka commits a transaction's consumer offsets with TxnOffsetCommit version 0, which names the
group but not the member: the broker cannot tell a zombie (a process the group has moved on from)
from the owner. Version 3 carries the member's generation, member id and instance id, and the
broker refuses the offsets of a member that is not the group's current one. So a producer may
serve every partition of the process, instead of one producer (and one transaction) per partition.

Two requests, with the protocol classes aiokafka already has:
- TxnOffsetCommit v3, sent by the producer's own handler, patched to build it when the producer
  carries a `group_metadata` provider; a refusal for the generation aborts the transaction.
- OffsetFetch v7 with `require_stable`: the new owner of a partition waits while a transaction of
  the previous owner still holds offsets of it, so it restores and reads only after that
  transaction committed or aborted.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Callable

import structlog
from aiokafka import TopicPartition
from aiokafka import errors as Errors
from aiokafka.producer import sender as aiokafka_sender
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import Boolean, CompactArray, CompactString, Int16, Int32, Int64, Schema, TaggedFields

log = structlog.get_logger("kip447")

# The member is not (or no longer) the one the group knows: its offsets, and so its
# transaction, must not commit.
NOT_THE_GROUPS_MEMBER = {22: "ILLEGAL_GENERATION", 25: "UNKNOWN_MEMBER_ID", 27: "REBALANCE_IN_PROGRESS",
                         82: "FENCED_INSTANCE_ID"}
UNSTABLE_OFFSET_COMMIT = 88
NO_OFFSET = -1


@dataclass(frozen=True)
class GroupMetadata:
    group_id: str
    generation: int
    member_id: str
    instance_id: str | None


class NotTheGroupsMember(Errors.KafkaError):
    """The group has moved on from this member: the transaction is aborted, nothing of it is seen."""

    retriable = False


# ---- TxnOffsetCommit v3 ----------------------------------------------------------------------


class TxnOffsetCommitResponse_v3(Response):
    API_KEY = 28
    API_VERSION = 3
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("topics", CompactArray(
            ("topic", CompactString("utf-8")),
            ("partitions", CompactArray(("partition", Int32), ("error_code", Int16), ("tags", TaggedFields))),
            ("tags", TaggedFields))),
        ("tags", TaggedFields))


class TxnOffsetCommitRequest_v3(RequestStruct):
    API_KEY = 28
    API_VERSION = 3
    FLEXIBLE_VERSION = True
    RESPONSE_TYPE = TxnOffsetCommitResponse_v3
    SCHEMA = Schema(
        ("transactional_id", CompactString("utf-8")),
        ("group_id", CompactString("utf-8")),
        ("producer_id", Int64),
        ("producer_epoch", Int16),
        ("generation_id", Int32),
        ("member_id", CompactString("utf-8")),
        ("group_instance_id", CompactString("utf-8")),
        ("topics", CompactArray(
            ("topic", CompactString("utf-8")),
            ("partitions", CompactArray(
                ("partition", Int32), ("offset", Int64), ("leader_epoch", Int32),
                ("metadata", CompactString("utf-8")), ("tags", TaggedFields))),
            ("tags", TaggedFields))),
        ("tags", TaggedFields))


class TxnOffsetCommitV3(Request[TxnOffsetCommitRequest_v3]):
    API_KEY = 28

    def __init__(self, transactional_id: str, producer_id: int, producer_epoch: int, group: GroupMetadata,
                 offsets: dict[TopicPartition, Any]) -> None:
        topics: dict[str, list[tuple[Any, ...]]] = {}
        for tp, om in sorted(offsets.items()):
            topics.setdefault(tp.topic, []).append((tp.partition, om.offset, -1, om.metadata, {}))
        self.fields = (transactional_id, group.group_id, producer_id, producer_epoch, group.generation,
                       group.member_id, group.instance_id, [(t, ps, {}) for t, ps in topics.items()], {})

    def build(self, request_struct_class: type[TxnOffsetCommitRequest_v3]) -> TxnOffsetCommitRequest_v3:
        return request_struct_class(*self.fields)


class _AsVersion0:
    """A v3 answer in the shape aiokafka's handler reads (topic, [(partition, error_code)])."""

    def __init__(self, resp: TxnOffsetCommitResponse_v3) -> None:
        self.errors = [(topic, [(p, code) for p, code, _ in partitions]) for topic, partitions, _ in resp.topics]


_create_request = aiokafka_sender.TxnOffsetCommitHandler.create_request
_handle_response = aiokafka_sender.TxnOffsetCommitHandler.handle_response


def _create_request_v3(self: Any) -> Any:
    txn_manager = self._sender._txn_manager  # noqa: SLF001
    provider = getattr(txn_manager, "group_metadata", None)
    if provider is None:
        return _create_request(self)
    group = provider()
    if group.group_id != self._group_id:
        raise RuntimeError(f"offsets for group {self._group_id!r} with the metadata of {group.group_id!r}")
    return TxnOffsetCommitV3(txn_manager.transactional_id, txn_manager.producer_id, txn_manager.producer_epoch,
                             group, self._offsets)


def _handle_response_v3(self: Any, resp: Any) -> Any:
    if getattr(resp, "API_VERSION", 0) < 3:
        return _handle_response(self, resp)
    refused = {NOT_THE_GROUPS_MEMBER[code] for _, parts, _ in resp.topics for _, code, _ in parts
               if code in NOT_THE_GROUPS_MEMBER}
    if refused:
        # aiokafka would call these unexpected and leave the producer unusable; they are the
        # fencing working: abort this transaction and carry on as whatever member the group says.
        self._sender._txn_manager.error_transaction(  # noqa: SLF001
            NotTheGroupsMember(f"offsets refused for group {self._group_id}: {', '.join(sorted(refused))}"))
        return None
    return _handle_response(self, _AsVersion0(resp))


def install(producer: Any, group_metadata: Callable[[], GroupMetadata]) -> None:
    """Make this (started) transactional producer commit offsets with TxnOffsetCommit v3."""
    txn_manager = getattr(producer, "_txn_manager", None)
    handler = aiokafka_sender.TxnOffsetCommitHandler
    if txn_manager is None or not hasattr(handler, "create_request") or not hasattr(handler, "handle_response"):
        raise RuntimeError("aiokafka's transaction handling changed: check runtime/kip447.py against it")
    txn_manager.group_metadata = group_metadata
    handler.create_request = _create_request_v3
    handler.handle_response = _handle_response_v3


# ---- OffsetFetch v7, require_stable -------------------------------------------------------


class OffsetFetchResponse_v7(Response):
    API_KEY = 9
    API_VERSION = 7
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("topics", CompactArray(
            ("topic", CompactString("utf-8")),
            ("partitions", CompactArray(
                ("partition", Int32), ("offset", Int64), ("leader_epoch", Int32),
                ("metadata", CompactString("utf-8")), ("error_code", Int16), ("tags", TaggedFields))),
            ("tags", TaggedFields))),
        ("error_code", Int16),
        ("tags", TaggedFields))


class OffsetFetchRequest_v7(RequestStruct):
    API_KEY = 9
    API_VERSION = 7
    FLEXIBLE_VERSION = True
    RESPONSE_TYPE = OffsetFetchResponse_v7
    SCHEMA = Schema(
        ("group_id", CompactString("utf-8")),
        ("topics", CompactArray(("topic", CompactString("utf-8")), ("partitions", CompactArray(Int32)),
                                ("tags", TaggedFields))),
        ("require_stable", Boolean),
        ("tags", TaggedFields))


class OffsetFetchStable(Request[OffsetFetchRequest_v7]):
    API_KEY = 9

    def __init__(self, group_id: str, partitions: list[TopicPartition]) -> None:
        topics: dict[str, list[int]] = {}
        for tp in sorted(partitions):
            topics.setdefault(tp.topic, []).append(tp.partition)
        self.fields = (group_id, [(t, ps, {}) for t, ps in topics.items()], True, {})

    def build(self, request_struct_class: type[OffsetFetchRequest_v7]) -> OffsetFetchRequest_v7:
        return request_struct_class(*self.fields)


def read_offsets(resp: OffsetFetchResponse_v7) -> tuple[dict[tuple[str, int], int], bool]:
    """The committed offsets in an answer, and whether a transaction still holds some."""
    if resp.error_code:
        raise Errors.for_code(resp.error_code)()
    offsets: dict[tuple[str, int], int] = {}
    unstable = False
    for topic, partitions, _ in resp.topics:
        for partition, offset, _, _, code, _ in partitions:
            if code == UNSTABLE_OFFSET_COMMIT:
                unstable = True
            elif code:
                raise Errors.for_code(code)()
            elif offset != NO_OFFSET:
                offsets[(topic, partition)] = offset
    return offsets, unstable


async def stable_offsets(consumer: Any, group_id: str, partitions: list[TopicPartition],
                         retry_s: float = 0.1) -> dict[tuple[str, int], int]:
    """The group's committed offsets of these partitions once no open transaction holds any of
    them (the previous owner's commits or aborts; a dead one's times out). Partitions the group
    never committed are left out."""
    coordinator = consumer._coordinator  # noqa: SLF001 - the group coordinator the consumer found
    waited = 0.0
    while True:
        await coordinator.ensure_coordinator_known()
        client = consumer._client  # noqa: SLF001
        resp = await client.send(coordinator.coordinator_id, OffsetFetchStable(group_id, partitions))
        offsets, unstable = read_offsets(resp)
        if not unstable:
            if waited:
                log.info("offsets_stable", waited_s=round(waited, 2), partitions=len(partitions))
            return offsets
        await asyncio.sleep(retry_s)
        waited += retry_s
