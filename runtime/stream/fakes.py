"""In-memory versions of the task's ports, for tests that run in milliseconds: a "broker" that
keeps what each committed transaction wrote, and a changelog read back from it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import AsyncIterator

from runtime.stream.ports import Offsets, ProducerFenced
from runtime.stream.positions import decode_positions, is_positions
from runtime.stream.records import OutRecord


@dataclass
class FakeBroker:
    """What committed transactions wrote, per topic, and the consumer offsets they committed (to
    the group, or with the task's state in its changelog)."""

    log: dict[str, list[OutRecord]] = field(default_factory=dict)
    offsets: Offsets = field(default_factory=dict)
    owners: dict[str, int] = field(default_factory=dict)  # transactional id -> current epoch

    def records(self, topic: str) -> list[OutRecord]:
        return self.log.get(topic, [])

    def aggregates(self, changelog: str) -> list[OutRecord]:
        """A changelog's aggregate records, without the tasks' positions."""
        return [r for r in self.records(changelog) if not is_positions(r.key)]

    def types(self, topic: str) -> list[str]:
        return [r.type for r in self.records(topic)]


class FakeTransactions:
    def __init__(self, broker: FakeBroker, transactional_id: str) -> None:
        self.broker = broker
        self.transactional_id = transactional_id
        self.epoch = 0
        self.fail_next: Exception | None = None  # the next commit raises this (and writes nothing)
        self.commits = 0
        # Like a topic's max.message.bytes on the topics a task writes, but for the dead-letter
        # topics, which take what their source topic took.
        self.max_record_bytes: int | None = None

    async def start(self) -> None:
        # Like InitProducerId: a new epoch for the id fences whoever had it before.
        self.epoch = self.broker.owners.get(self.transactional_id, 0) + 1
        self.broker.owners[self.transactional_id] = self.epoch

    async def commit(self, records: list[OutRecord], offsets: Offsets) -> None:
        if self.broker.owners.get(self.transactional_id) != self.epoch:
            raise ProducerFenced(self.transactional_id)
        if self.fail_next is not None:
            exc, self.fail_next = self.fail_next, None
            raise exc
        if self.max_record_bytes is not None and any(len(r.value or b"") > self.max_record_bytes
                                                     for r in records if not r.topic.endswith(".dlq")):
            from aiokafka.errors import MessageSizeTooLargeError
            raise MessageSizeTooLargeError("a record is larger than the broker takes")
        for r in records:
            self.broker.log.setdefault(r.topic, []).append(r)
            if is_positions(r.key):  # what a restore starts from: the offsets the task committed
                self.broker.offsets.update(decode_positions(r.value))
        self.broker.offsets.update(offsets)
        self.commits += 1

    async def stop(self) -> None:
        pass


@dataclass(frozen=True)
class _Read:
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


class FakeChangelog:
    def __init__(self, broker: FakeBroker, topic: str) -> None:
        self.broker = broker
        self.topic = topic

    def _partition(self, partition: int) -> list[OutRecord]:
        return [r for r in self.broker.records(self.topic) if r.partition == partition]

    async def end(self, partition: int) -> int:
        return len(self._partition(partition))

    async def read(self, partition: int, start: int) -> AsyncIterator[_Read]:
        for r in self._partition(partition)[start:]:
            yield _Read(r.key, r.value, r.headers)
