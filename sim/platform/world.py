"""The whole platform in one process: the four services' real processors (parse, authorize, route,
decide, timers, duplicates, repartition) over an in-memory log, with a virtual clock.

Each topic keeps its partitions' records in order; each service reads every partition of the
topics it consumes from its own positions, one task per partition number, as the real task does.
A step delivers a few records to one task and commits them at once, like one transaction: its
events join the log, its aggregates the store. What is random (which task goes next, how many
records, which topic first) comes from the world's `random.Random`, so a seed replays a run.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import orjson

from contracts import topics as T
from contracts.registry import CONSUMES
from runtime.api.domain import Domain
from runtime.service.settings import ServiceSettings
from runtime.stream.aggregate import Aggregate
from runtime.stream.batch import Batch
from runtime.stream.dlq import DeadLetterLimit
from runtime.stream.ownership import PARTITIONS, partition_of
from runtime.stream.processor import Processor
from runtime.stream.records import H_EVENT_TYPE, InRecord, OutRecord, header, is_dlq, repartition_topic
from runtime.stream.retry import DEAD_LETTERED, handle_with_retry
from runtime.stream.store import StateStore
from runtime.stream.timers import TimerSchedule

EPOCH = datetime(2026, 12, 1, tzinfo=timezone.utc)
# Global tables: compacted topics every instance reads whole (the real GlobalTable keeps the
# latest envelope's data per key).
TABLES = (T.SELLER_RESTRICTIONS, T.ARBITRATION_FLAGGED_BUYERS, T.NOTIFY_LOCALES)


class Clock:
    """Virtual time, in milliseconds like every time the platform writes."""

    def __init__(self, start: datetime = EPOCH) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now = self.now + timedelta(milliseconds=int(seconds * 1000))

    def to(self, when: datetime) -> None:
        if when > self.now:
            self.now = when


@dataclass
class Logged:
    """One record on the log, with what the invariants read of it."""

    topic: str
    partition: int
    offset: int
    key: bytes
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    env: dict[str, Any] | None = None  # parsed lazily

    @property
    def envelope(self) -> dict[str, Any]:
        if self.env is None:
            self.env = orjson.loads(self.value or b"{}")
        return self.env

    @property
    def type(self) -> str:
        return header(self.headers, H_EVENT_TYPE) or self.envelope.get("type", "")


class Log:
    """Every topic's partitions, in order. Readers keep their own positions."""

    def __init__(self) -> None:
        self.parts: dict[tuple[str, int], list[Logged]] = {}
        self.listeners: list[Callable[[Logged], None]] = []
        self.appended = 0  # records ever appended: a reader idle since then is idle still

    def append(self, topic: str, key: bytes, value: bytes | None, partition: int | None = None,
               headers: tuple[tuple[str, bytes], ...] = ()) -> Logged:
        p = partition if partition is not None else partition_of(key.decode())
        records = self.parts.setdefault((topic, p), [])
        rec = Logged(topic, p, len(records), key, value, headers)
        records.append(rec)
        self.appended += 1
        for listen in self.listeners:
            listen(rec)
        return rec

    def partition(self, topic: str, p: int) -> list[Logged]:
        return self.parts.get((topic, p), [])


@dataclass
class Task:
    """One partition number of one service: its committed aggregates, timers and read positions."""

    partition: int
    store: StateStore = field(default_factory=StateStore)
    timers: TimerSchedule = field(default_factory=TimerSchedule)
    positions: dict[str, int] = field(default_factory=dict)
    idle_at: int = -1  # the log's `appended` when this task was last found with nothing to read


class Node:
    """One service: its domain's real processor, one task per partition, its global tables."""

    def __init__(self, domain: Domain, settings: ServiceSettings, log: Log, clock: Clock) -> None:
        self.domain = domain
        self.service = domain.service
        self.settings = settings
        self.log = log
        self.clock = clock
        self.group = f"aftersale-{self.service}"
        self.repartition = repartition_topic(self.group)
        self.tables: dict[str, dict[str, Any]] = {t: {} for t in domain.global_tables}
        self.processor = Processor(domain, settings, self.repartition, tables=self.tables, clock=clock)
        self.reads = (*CONSUMES[self.service], self.repartition)  # type: ignore[index]
        self.tasks = [Task(p) for p in range(PARTITIONS)]
        self.limit = DeadLetterLimit(10**9, 10**9)  # the simulation counts dead letters itself
        self.dead_letters: list[tuple[Logged, str]] = []

    # ---- reading ---------------------------------------------------------------------------

    def pending(self, task: Task) -> list[str]:
        """The topics with records this task has not read yet."""
        return [t for t in self.reads if task.positions.get(t, 0) < len(self.log.partition(t, task.partition))]

    def waiting(self, task: Task) -> bool:
        """Whether this task has a record it has not read yet (what `pending` lists, cheaper)."""
        if task.idle_at == self.log.appended:
            return False
        parts, p = self.log.parts, task.partition
        if any(task.positions.get(t, 0) < len(parts.get((t, p), ())) for t in self.reads):
            return True
        task.idle_at = self.log.appended
        return False

    def has_pending(self) -> bool:
        return any(self.waiting(task) for task in self.tasks)

    def take(self, task: Task, rng: random.Random, most: int) -> list[Logged]:
        """Up to `most` records, each topic's in order, topics interleaved at random."""
        out: list[Logged] = []
        cursors = {t: task.positions.get(t, 0) for t in self.pending(task)}
        while cursors and len(out) < most:
            t = rng.choice(sorted(cursors))
            records = self.log.partition(t, task.partition)
            out.append(records[cursors[t]])
            cursors[t] += 1
            if cursors[t] >= len(records):
                del cursors[t]
        return out

    # ---- a transaction ---------------------------------------------------------------------

    def process(self, task: Task, records: list[Logged], *, crash: bool = False) -> list[Logged]:
        """Handle `records` as one batch and commit it, or (`crash`) lose it all: the records are
        read again later, as after a crash before the commit."""
        batch = Batch(task.store, task.partition)
        for r in records:
            rec = InRecord(r.topic, r.partition, r.offset, r.key, r.value, r.headers)
            outcome = handle_with_retry(self.processor, rec, batch, self.settings.handler_attempts, self.limit)
            if outcome == DEAD_LETTERED:
                self.dead_letters.append((r, "handler failed"))
        if crash:
            return []
        for r in records:
            task.positions[r.topic] = max(task.positions.get(r.topic, 0), r.offset + 1)
        return self._commit(task, batch)

    def fire_due(self, task: Task) -> list[Logged]:
        now = self.clock()
        keys = task.timers.due(now)
        if not keys:
            return []
        batch = Batch(task.store, task.partition)
        for key in keys:
            for name, due in sorted(batch.get(key).timers.items(), key=lambda kv: kv[1]):
                if due > now:
                    break
                batch.begin_record()
                self.processor.fire(key, name, due, batch)
        written = self._commit(task, batch)
        for key in keys:
            task.timers.schedule(key, task.store.get(key).next_due)
        return written

    def next_due(self) -> datetime | None:
        dues = [t.timers.next_at() for t in self.tasks if t.timers.next_at() is not None]
        return min(dues) if dues else None  # type: ignore[type-var]

    def _commit(self, task: Task, batch: Batch) -> list[Logged]:
        written = [self._write(r) for r in batch.out]
        batch.committed()
        for key, agg in batch.changed.items():
            task.timers.schedule(key, agg.next_due)
        return written

    def _write(self, r: OutRecord) -> Logged:
        rec = self.log.append(r.topic, r.key, r.value, r.partition, r.headers)
        if is_dlq(r.topic):
            reason = header(r.headers, "x-dlq-reason") or header(r.headers, "x-dlq-code") or "?"
            self.dead_letters.append((rec, reason))
        return rec

    # ---- a crash ---------------------------------------------------------------------------

    def restart(self) -> None:
        """Memory is lost: every task's store is read back from its changelog (what was committed,
        through its JSON encoding) and its timers scheduled again from it."""
        for task in self.tasks:
            old = task.store
            task.store, task.timers = StateStore(), TimerSchedule()
            for key in list(old.keys()):
                agg = old.get(key)
                task.store.restore(key, agg.encode())
                task.timers.schedule(key, agg.next_due)

    def table_update(self, rec: Logged) -> None:
        if rec.topic in self.tables:
            self.tables[rec.topic][rec.key.decode()] = rec.envelope.get("data", {})

    def aggregates(self, key_filter: Callable[[str], bool] = lambda k: True) -> dict[str, Aggregate]:
        out = {}
        for task in self.tasks:
            for key in list(task.store.keys()):
                if key_filter(key):
                    out[key] = task.store.get(key)
        return out
