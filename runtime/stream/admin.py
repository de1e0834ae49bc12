"""A service's internal topics (changelog, repartition), created at start when missing, the way
Kafka Streams creates its own."""
from __future__ import annotations

import asyncio
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from runtime.stream.layout import layout, topic
from runtime.stream.ownership import PARTITIONS
from runtime.stream.records import changelog_topic, repartition_topic, views_dlq_topic

RETENTION_MS = 7 * 24 * 3600 * 1000
DLQ_RETENTION_MS = 30 * 24 * 3600 * 1000
# A compacted topic keeps the latest record of every key for good; small segments and a low dirty
# ratio let the cleaner run often, so a restore reads little more than one record per aggregate.
COMPACTED = {"cleanup.policy": "compact", "segment.ms": str(10 * 60 * 1000), "segment.bytes": str(64 * 1024 * 1024),
             "min.cleanable.dirty.ratio": "0.1", "min.compaction.lag.ms": "0"}


def internal_topics(group: str) -> list[NewTopic]:
    return [topic(changelog_topic(group), COMPACTED),
            topic(repartition_topic(group), {"retention.ms": str(RETENTION_MS)}),
            # What the query model's database refused (runtime/views/refusals.py): one partition, kept a month.
            topic(views_dlq_topic(group), {"retention.ms": str(DLQ_RETENTION_MS)}, partitions=1)]


class PartitionCountMismatch(RuntimeError):
    """A topic exists with another partition count than aggregates are keyed over: records would
    reach tasks that do not own their aggregates. Kafka can add partitions to a topic but not move
    the keys already in it, so a new count means new topics (docs/operating.md, "Partitions")."""

    def __init__(self, wrong: list[str]) -> None:
        super().__init__(
            f"topics with another partition count than AFTERSALE_PARTITIONS={PARTITIONS}: {', '.join(wrong)}. "
            "Keys would move between tasks, so the count of existing topics is not changed in place: set "
            "AFTERSALE_PARTITIONS back to what they have, or migrate to a new cluster (or new topics) created with "
            "the new count and replay the events into it (docs/operating.md, \"Partitions\").")


def partition_mismatches(described: list[dict[str, Any]], wanted: list[NewTopic]) -> list[str]:
    """`name: has N, wants M` for every described topic whose partitions are all known and differ."""
    want = {t.name: t.num_partitions for t in wanted}
    out = []
    for d in described:
        parts = d.get("partitions") or ()
        name = d.get("topic")
        if d.get("error_code", 0) == 0 and parts and name in want and len(parts) != want[name]:
            out.append(f"{name}: has {len(parts)}, wants {want[name]}")
    return out


async def create_missing(admin: AIOKafkaAdminClient, wanted: list[NewTopic]) -> list[NewTopic]:
    """Creates those of `wanted` that do not exist yet, and returns them. Another creator winning
    the race (a replica, the operator's CLI) is no error."""
    existing = set(await admin.list_topics())
    missing = [t for t in wanted if t.name not in existing]
    if missing:
        try:
            answer = await admin.create_topics(missing)
        except TopicAlreadyExistsError:
            return missing
        if refused := creation_refusals(answer):
            raise TopicsRefused(refused)
    return missing


class TopicsRefused(RuntimeError):
    """The broker would not create topics as the layout asks (more replicas than brokers, most often)."""

    def __init__(self, refused: list[str]) -> None:
        super().__init__(f"the broker refused to create topics ({layout().describe()}): {'; '.join(refused)}. "
                         "AFTERSALE_REPLICATION_FACTOR cannot exceed the brokers in the cluster.")


ALREADY_EXISTS = 36


def creation_refusals(answer: Any) -> list[str]:
    """`name: error` for each topic a CreateTopics answer refused (one that exists is no refusal)."""
    out = []
    for entry in getattr(answer, "topic_errors", None) or ():
        name, code = entry[0], entry[1]
        message = entry[2] if len(entry) > 2 and isinstance(entry[2], str) else ""
        if code not in (0, ALREADY_EXISTS):
            out.append(f"{name}: error {code} {message or ''}".strip())
    return out


async def ensure_internal_topics(bootstrap: str, group: str, client: dict[str, Any],
                                 timeout_s: float = 30.0, sources: tuple[str, ...] = ()) -> list[str]:
    """Creates the service's changelog and repartition topics when missing and waits for their
    leaders; refuses to start on topics (its own or the `sources` it reads) of another partition
    count than AFTERSALE_PARTITIONS, whose keys its tasks would not own."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000, **client)
    await admin.start()
    try:
        if sources:
            read = await admin.describe_topics(list(sources))
            if wrong := partition_mismatches(read, [topic(t, {}) for t in sources]):
                raise PartitionCountMismatch(wrong)
        wanted = internal_topics(group)
        missing = await create_missing(admin, wanted)
        # Creation is asynchronous: a consumer subscribing before every partition has a leader
        # would be assigned only some of them.
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            described = await admin.describe_topics([t.name for t in wanted])
            if wrong := partition_mismatches(described, wanted):
                raise PartitionCountMismatch(wrong)
            counts = {t.name: t.num_partitions for t in wanted}
            if all(d.get("error_code", 0) == 0 and len(d.get("partitions") or ()) == counts.get(d.get("topic"), PARTITIONS)
                   and all(p.get("leader", -1) >= 0 for p in d["partitions"]) for d in described):
                return [t.name for t in missing]
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"internal topics of {group} have no leaders after {timeout_s} s")
            await asyncio.sleep(0.2)
    finally:
        await admin.close()
