"""Reading topics without a consumer group: from the beginning to the end, or following live."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import AsyncIterator

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaConnectionError

from runtime.stream.kafka_auth import aiokafka_kwargs


class Unreachable(Exception):
    pass


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: tuple


async def _consumer(bootstrap: str, **kwargs: object) -> AIOKafkaConsumer:
    c = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None, isolation_level="read_committed",
                         request_timeout_ms=10000, **aiokafka_kwargs(), **kwargs)
    try:
        await asyncio.wait_for(c.start(), 15)
    except (KafkaConnectionError, asyncio.TimeoutError, OSError) as e:
        await c.stop()
        raise Unreachable(f"cannot reach Kafka at {bootstrap} ({type(e).__name__}: {e})") from None
    return c


async def read(bootstrap: str, topics: list[str], *, follow: bool = False, from_beginning: bool = True,
               idle_timeout_s: float | None = None) -> AsyncIterator[Record]:
    """Yield records of `topics`. Without `follow`, stop at the end offsets seen at the start."""
    c = await _consumer(bootstrap)
    try:
        cluster = await c._client.fetch_all_metadata()  # the public topics() leaves partitions unknown
        missing = [t for t in topics if t not in cluster.topics()]
        if missing:
            raise Unreachable(f"no such topic on {bootstrap}: {', '.join(missing)}")
        parts = [TopicPartition(t, p) for t in topics for p in sorted(cluster.partitions_for_topic(t) or ())]
        c.assign(parts)
        if from_beginning:
            await c.seek_to_beginning(*parts)
        else:
            await c.seek_to_end(*parts)
        end = await c.end_offsets(parts)
        remaining = {tp for tp in parts if end[tp] > await c.position(tp)}
        if not follow and not remaining:
            return
        idle = 0.0
        while True:
            batch = await c.getmany(timeout_ms=200)
            if not batch:
                idle += 0.2
                if idle_timeout_s is not None and idle >= idle_timeout_s:
                    return
            for tp, recs in batch.items():
                idle = 0.0
                for r in recs:
                    if not follow and r.offset >= end[tp]:
                        continue
                    yield Record(r.topic, r.partition, r.offset, r.timestamp, r.key, r.value, tuple(r.headers or ()))
            if not follow:
                # The position, not the last offset: a transaction's commit marker ends many partitions.
                remaining = {tp for tp in remaining if await c.position(tp) < end[tp]}
                if not remaining:
                    return
    finally:
        await c.stop()
