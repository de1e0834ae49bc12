"""Create the project's topics (and their dead-letter twins) up front, idempotently."""
from __future__ import annotations

import asyncio

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError

from contracts.topics import ALL, ARBITRATION_FLAGGED_BUYERS, NOTIFY_LOCALES, SELLER_RESTRICTIONS, dlq
from runtime.stream.admin import (
    COMPACTED, DLQ_RETENTION_MS, RETENTION_MS, PartitionCountMismatch, create_missing, internal_topics,
    partition_mismatches,
)
from runtime.stream.layout import layout, topic

SERVICES = ("refund", "seller", "arbitration", "notify")
DLQ_PARTITIONS = 1  # dead letters are few; one partition keeps them in order


TABLES = (NOTIFY_LOCALES, SELLER_RESTRICTIONS, ARBITRATION_FLAGGED_BUYERS)


def wanted() -> list[NewTopic]:
    events = [t for t in ALL if t not in TABLES]
    out = [topic(t, {"retention.ms": str(RETENTION_MS)}) for t in events]
    out += [topic(dlq(t), {"retention.ms": str(DLQ_RETENTION_MS)}, partitions=DLQ_PARTITIONS) for t in events]
    out += [topic(t, COMPACTED) for t in TABLES]
    for service in SERVICES:  # the services create them too; here so compose and ACLs see them
        out += internal_topics(f"aftersale-{service}")
    return out


async def ensure_topics(bootstrap: str, timeout_s: float = 60.0, **client_kwargs: object) -> list[str]:
    """Returns the topics created now (the others existed). Waits for the broker up to `timeout_s`."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000, **client_kwargs)
        try:
            await admin.start()
            break
        except KafkaConnectionError as e:
            await admin.close()
            if asyncio.get_running_loop().time() > deadline:
                raise ConnectionError(f"Kafka at {bootstrap} is not reachable: {e}") from e
            await asyncio.sleep(0.5)
    topics = wanted()
    try:
        await enough_brokers(admin, deadline)
        missing = await create_missing(admin, topics)
        # Creation is asynchronous in the broker: wait until every topic has its metadata.
        while True:
            desc = await admin.describe_topics([t.name for t in topics])
            if wrong := partition_mismatches(desc, topics):
                raise PartitionCountMismatch(wrong)
            if all(d.get("error_code", 0) == 0 and d.get("partitions") for d in desc):
                break
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("topics were created but their metadata never appeared")
            await asyncio.sleep(0.2)
        return [t.name for t in missing]
    finally:
        await admin.close()


async def enough_brokers(admin: AIOKafkaAdminClient, deadline: float) -> None:
    """A cluster whose brokers are still starting (compose starts them together) has fewer than
    the replicas a topic needs: wait for them rather than have the creation refused."""
    want = layout().replication_factor
    while True:
        brokers = len((await admin.describe_cluster()).get("brokers") or ())
        if brokers >= want:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"the cluster has {brokers} broker(s); AFTERSALE_REPLICATION_FACTOR={want} needs {want}")
        await asyncio.sleep(1)
