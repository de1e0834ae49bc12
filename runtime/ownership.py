"""Single writer per aggregate.

FerretDB v1 (on SQLite or PostgreSQL) applies an update as read-modify-write without isolation:
measured here, 20 concurrent conditional updates of one document had up to 15 winners and
`$inc` lost most increments. So an aggregate must never be written by two tasks at once:

- across processes: only the process that owns the key's Kafka partition writes it. All topics
  have the same partition count, keys hash like Kafka's default partitioner (murmur2), and the
  RangeAssignor gives one consumer the same partition numbers of every topic, so the owner of
  order O's commands also owns its events, its timers and its outbox;
- within a process: one asyncio lock per key serialises the consumer, the timer loop and the relay.

The optimistic version check stays as a second guard (atomic on MongoDB itself).
"""
from __future__ import annotations

import asyncio
from collections import defaultdict
from contextlib import asynccontextmanager
from typing import AsyncIterator

from aiokafka.partitioner import murmur2

PARTITIONS = 6  # every platform topic has this many (ops/topics.py creates them)


def partition_of(key: str, partitions: int = PARTITIONS) -> int:
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


class KeyLocks:
    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: defaultdict[str, int] = defaultdict(int)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] += 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if self._users[key] == 0:  # forget idle keys so the map does not grow without bound
                del self._users[key]
                self._locks.pop(key, None)
