"""The task's ports on a real broker (aiokafka): its transactional producer and its changelog.

aiokafka 0.14 sends TxnOffsetCommit version 0, which carries no group generation, so the
consumer-group fencing of KIP-447 is not available. Each task therefore has a transactional
id of its own (`<group>-<partition>`), as in Kafka Streams' first exactly-once mode: a new owner
of partition p starts the producer with p's id, which fences the previous owner's producer and
aborts its open transaction before the new owner reads anything.
"""
from __future__ import annotations

import asyncio
import os
from typing import Any, AsyncIterator

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import ProducerFenced as KafkaProducerFenced
from aiokafka.producer import sender as aiokafka_sender

from runtime.service.settings import LOAD_FETCH_WAIT_MS, QUIET_WAKE_MS
from runtime.stream.ports import ChangelogRecord, Offsets, ProducerFenced
from runtime.stream.records import OutRecord

log = structlog.get_logger("kafka")


class KafkaTransactions:
    def __init__(self, bootstrap: str, transactional_id: str, group_id: str, client: dict[str, Any],
                 crash_in_transaction_type: str = "") -> None:
        self.bootstrap = bootstrap
        self.transactional_id = transactional_id
        self.group_id = group_id
        self.client = client
        self.crash_type = crash_in_transaction_type
        self.producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        self.producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, transactional_id=self.transactional_id, enable_idempotence=True,
            acks="all", linger_ms=2, max_batch_size=256 * 1024, request_timeout_ms=30000,
            client_id=self.transactional_id, **self.client)
        await self.producer.start()  # init_transactions: fences the previous owner of this id
        quick_coordinator_retries(self.producer)

    async def commit(self, records: list[OutRecord], offsets: Offsets) -> None:
        producer = self.producer
        assert producer is not None, "start() first"
        try:
            await producer.begin_transaction()
            for r in records:
                await producer.send(r.topic, r.value, key=r.key, partition=r.partition, headers=list(r.headers))
            if self.crash_type and any(r.type == self.crash_type for r in records):
                await producer.flush()  # the records are on the broker, their transaction still open
                log.warning("fault_injection_crash", in_transaction_with=self.crash_type)
                os._exit(86)
            if offsets:
                await producer.send_offsets_to_transaction(
                    {TopicPartition(t, p): o for (t, p), o in offsets.items()}, self.group_id)
            await producer.commit_transaction()
        except KafkaProducerFenced as exc:
            raise ProducerFenced(self.transactional_id) from exc
        except BaseException:
            await self._abort()
            raise

    async def _abort(self) -> None:
        producer = self.producer
        if producer is None:
            return
        try:
            if producer._txn_manager is not None and producer._txn_manager.is_in_transaction():  # noqa: SLF001
                await producer.abort_transaction()
        except Exception as exc:  # noqa: BLE001 - the restart below starts clean anyway
            log.warning("abort_failed", transactional_id=self.transactional_id, error=repr(exc))

    async def stop(self) -> None:
        if self.producer is not None:
            try:
                await self.producer.stop()
            finally:
                self.producer = None


# After a commit the coordinator answers CONCURRENT_TRANSACTIONS until it has written the markers
# (KAFKA-5477), a few milliseconds here. aiokafka then waits BACKOFF_OVERRIDE (20 ms) before the
# next transaction's AddPartitionsToTxn, and its other coordinator retries wait retry_backoff_ms
# (100 ms): together most of a hop's latency (measured: 29 ms per one-record transaction with
# them, 9 ms with 2 ms). Only the coordinator requests get the short backoff; metadata refreshes
# keep the long one, so a broker that is down is not polled in a tight loop.
COORDINATOR_RETRY_BACKOFF_S = 0.005
MARKERS_PENDING_BACKOFF_S = 0.002


def quick_coordinator_retries(producer: AIOKafkaProducer) -> None:
    sender = getattr(producer, "_sender", None)
    if (sender is None or not hasattr(sender, "_retry_backoff")
            or not isinstance(getattr(aiokafka_sender, "BACKOFF_OVERRIDE", None), float)):
        raise RuntimeError("aiokafka's sender changed: check quick_coordinator_retries against it")
    sender._retry_backoff = COORDINATOR_RETRY_BACKOFF_S  # noqa: SLF001
    aiokafka_sender.BACKOFF_OVERRIDE = MARKERS_PENDING_BACKOFF_S  # read by the handler at each retry


class KafkaChangelog:
    """Reads a service's changelog with read_committed: only what committed transactions wrote."""

    def __init__(self, bootstrap: str, topic: str, client: dict[str, Any]) -> None:
        self.topic = topic
        self.bootstrap = bootstrap
        self.client = client
        self.consumer: AIOKafkaConsumer | None = None
        self._reading = asyncio.Lock()  # one consumer: restores take turns

    async def _start(self) -> AIOKafkaConsumer:
        if self.consumer is None:  # aiokafka clients belong to the running loop: made on first use
            self.consumer = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                isolation_level="read_committed", max_partition_fetch_bytes=4 * 1024 * 1024,
                fetch_max_bytes=8 * 1024 * 1024,  # bounded: what a restore holds at once
                fetch_max_wait_ms=LOAD_FETCH_WAIT_MS,
                consumer_timeout_ms=QUIET_WAKE_MS, **self.client)
            await self.consumer.start()
        return self.consumer

    async def end(self, partition: int) -> int:
        consumer = await self._start()
        tp = TopicPartition(self.topic, partition)
        return (await consumer.end_offsets([tp]))[tp]

    async def read(self, partition: int, start: int) -> AsyncIterator[ChangelogRecord]:
        consumer = await self._start()
        tp = TopicPartition(self.topic, partition)
        end = (await consumer.end_offsets([tp]))[tp]
        if start >= end:
            return
        async with self._reading:
            consumer.assign([tp])
            consumer.seek(tp, start)
            try:
                while await consumer.position(tp) < end:
                    batch = await consumer.getmany(tp, timeout_ms=1000, max_records=20000)
                    for r in batch.get(tp, ()):
                        if r.offset >= end:
                            return
                        yield r
            finally:
                consumer.assign([])

    async def stop(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop()
            self.consumer = None
