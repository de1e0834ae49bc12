"""Records in and out of a task, and the service's internal topics."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from contracts.topics import DLQ_SUFFIX

H_EVENT_TYPE = "x-event-type"
H_PRODUCER = "x-producer"
# On a repartition topic: the aggregate key the record is for, and where it was first read.
H_AGGREGATE_KEY = "x-aggregate-key"
H_SOURCE_TOPIC = "x-source-topic"


# Internal topics are named after the service's consumer group (its application id), like Kafka
# Streams' `<application.id>-<store>-changelog`: two deployments on one cluster never share state.


def changelog_topic(group: str) -> str:
    """Compacted: the latest version of every aggregate of the service, partitioned like its input."""
    return f"{group}.changelog"


def views_dlq_topic(group: str) -> str:
    """What the query model's database refused, with the reason (runtime/views/refusals.py)."""
    return f"{group}.views.dlq"


def repartition_topic(group: str) -> str:
    """Messages re-keyed to an aggregate that lives on another partition (a shop, a user)."""
    return f"{group}.repartition"


class RecordLike(Protocol):
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Any
    timestamp: int


@dataclass(frozen=True)
class InRecord:
    """A consumed record (aiokafka's ConsumerRecord has the same fields); tests build these."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()
    timestamp: int = 0


@dataclass(frozen=True)
class OutRecord:
    """A record a batch writes; all of them go in the batch's one transaction."""

    topic: str
    key: bytes
    value: bytes | None
    partition: int | None = None  # None: Kafka's partitioner (murmur2 of the key)
    headers: tuple[tuple[str, bytes], ...] = field(default=())

    @property
    def type(self) -> str:
        return header(self.headers, H_EVENT_TYPE) or ""

    def envelope(self) -> dict[str, Any]:
        return orjson.loads(self.value or b"{}")


def header(headers: Any, name: str) -> str | None:
    for k, v in headers or ():
        if k == name:
            return v.decode("utf-8", "replace") if isinstance(v, (bytes, bytearray)) else str(v)
    return None


def event_record(env: dict[str, Any], topic: str, key: str, producer: str) -> OutRecord:
    value = orjson.dumps(env)
    return OutRecord(topic, key.encode(), value,
                     headers=((H_EVENT_TYPE, env["type"].encode()), (H_PRODUCER, producer.encode())))


def is_dlq(topic: str) -> bool:
    return topic.endswith(DLQ_SUFFIX)
