"""A service's internal topics (changelog, repartition), created at start when missing, the way
Kafka Streams creates its own."""
from __future__ import annotations

from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from runtime.ownership import PARTITIONS
from runtime.records import changelog_topic, repartition_topic

RETENTION_MS = 7 * 24 * 3600 * 1000
# A compacted topic keeps the latest record of every key for good; small segments and a low dirty
# ratio let the cleaner run often, so a restore reads little more than one record per aggregate.
COMPACTED = {"cleanup.policy": "compact", "segment.ms": str(10 * 60 * 1000), "segment.bytes": str(64 * 1024 * 1024),
             "min.cleanable.dirty.ratio": "0.1", "min.compaction.lag.ms": "0"}


def internal_topics(group: str) -> list[NewTopic]:
    return [NewTopic(changelog_topic(group), PARTITIONS, 1, topic_configs=COMPACTED),
            NewTopic(repartition_topic(group), PARTITIONS, 1, topic_configs={"retention.ms": str(RETENTION_MS)})]


async def ensure_internal_topics(bootstrap: str, group: str, client: dict[str, Any]) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000, **client)
    await admin.start()
    try:
        wanted = internal_topics(group)
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t.name not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another replica created them first
        return [t.name for t in missing]
    finally:
        await admin.close()
