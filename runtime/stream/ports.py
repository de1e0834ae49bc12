"""The task's two ports to Kafka, so the processing steps can be tested without a broker
(runtime.stream.fakes has in-memory versions): a transactional producer, and a changelog to restore from."""
from __future__ import annotations

from typing import AsyncIterator, Protocol

from runtime.stream.records import OutRecord

# Consumer positions to commit with a transaction: (topic, partition) -> next offset to read.
Offsets = dict[tuple[str, int], int]


class ProducerFenced(Exception):
    """Another process took this task's transactional id: it owns the partition now."""


class Transactions(Protocol):
    """One task's transactional producer. Its id is the task's, so starting it fences (and
    aborts the open transaction of) any earlier owner of the partition."""

    async def start(self) -> None: ...

    async def commit(self, records: list[OutRecord], offsets: Offsets) -> None:
        """Write every record and the consumer offsets in one transaction, or none of them
        (raises; the transaction is aborted). Raises ProducerFenced when fenced."""

    async def stop(self) -> None: ...


class ChangelogRecord(Protocol):
    key: bytes | None
    value: bytes | None
    headers: object


class Changelog(Protocol):
    async def end(self, partition: int) -> int:
        """The offset after the last committed record of a changelog partition."""

    def read(self, partition: int, start: int) -> AsyncIterator[ChangelogRecord]:
        """Every committed record from `start` to the end as of the call, in order."""
