"""Which partition a key belongs to: Kafka's default partitioner (murmur2), so the task that owns
partition p of a topic owns every aggregate whose key lands there."""
from __future__ import annotations

from functools import lru_cache

from aiokafka.partitioner import murmur2

from runtime.stream.layout import layout

# Every platform topic has this many (AFTERSALE_PARTITIONS, runtime/stream/layout.py): a partition
# is the unit of scale-out (as many replicas of a service as partitions) and each is a task with
# its own transactional producer. Measured on 2 cores, 3 partitions sustain 50 disputes/s where 6
# do not: fewer, larger transactions cost the broker less. A larger deployment sets more before
# its topics exist (docs/design.md, "Production profile").
PARTITIONS = layout().partitions


# murmur2 is pure Python (5 us a key), and each order's key is asked for with every record of it.
@lru_cache(maxsize=1 << 16)
def partition_of(key: str, partitions: int = PARTITIONS) -> int:
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions
