"""Which partition a key belongs to: Kafka's default partitioner (murmur2), so the task that owns
partition p of a topic owns every aggregate whose key lands there."""
from __future__ import annotations

from aiokafka.partitioner import murmur2

PARTITIONS = 6  # every platform topic has this many (ops/topics.py creates them)


def partition_of(key: str, partitions: int = PARTITIONS) -> int:
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions
