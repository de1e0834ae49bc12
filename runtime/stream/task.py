"""A task: one partition number of a service, with its aggregates, its timers and its producer.

The RangeAssignor gives one consumer partition p of every topic the service reads, so task p
owns every aggregate whose key hashes to p. It processes a batch of its records, and fires its
due deadlines, each as one Kafka transaction: new events, dead letters, changelog records and
where it has read to (positions.py) are committed together or not at all.
"""
from __future__ import annotations

import asyncio
import heapq
import time
from collections import defaultdict
from datetime import datetime
from typing import Any, Literal

import orjson
import structlog

from runtime.service import metrics
from runtime.service.settings import ServiceSettings
from runtime.stream.aggregate import next_due_of
from runtime.stream.batch import Batch
from runtime.stream.dlq import MAX_REASON, DeadLetterLimit, HandlerFailed, dead_letter_record
from runtime.stream.ports import Changelog, Offsets, Transactions
from runtime.stream.positions import already_read, decode_positions, is_positions, positions_record
from runtime.stream.processor import Processor, now_ms
from runtime.stream.records import RecordLike, is_dlq
from runtime.stream.retry import handle_with_retry
from runtime.stream.store import StateStore
from runtime.stream.timers import TimerSchedule

log = structlog.get_logger("task")



class CommitFailed(Exception):
    """The batch's transaction did not commit; nothing of it is visible, and the task forgot
    whatever it held uncommitted. `records` are all the caller must read again: this batch's and
    the earlier ones whose commit the task had deferred."""

    def __init__(self, reason: str, records: list[RecordLike] | None = None) -> None:
        super().__init__(reason)
        self.records = records or []


class Task:
    def __init__(self, partition: int, processor: Processor, transactions: Transactions, changelog: Changelog,
                 changelog_topic: str, settings: ServiceSettings) -> None:
        self.partition = partition
        self.processor = processor
        self.service = processor.service
        self.transactions = transactions
        self.changelog = changelog
        self.changelog_topic = changelog_topic
        self.settings = settings
        self.store = StateStore()
        self.timers = TimerSchedule()
        self.lock = asyncio.Lock()
        self.dead_letters = DeadLetterLimit(settings.dead_letter_limit, settings.dead_letter_window)
        self.changelog_position = 0  # where a restore continues from: the store holds all before it
        # The source positions the store holds (committed with it, in the changelog: positions.py),
        # and those the task's state holds, its deferred records too: a record before them is
        # one read again, and changes nothing.
        self.positions: Offsets = {}
        self.applied: Offsets = {}
        self.restore_seconds = 0.0
        self.stopped_by: str | None = None  # why the task gave up, when it did (health shows it)
        # Since when its commits fail, at which record and why (None: the last one went through).
        self.failing: dict[str, Any] | None = None
        # A batch that writes nothing another reader waits for commits no transaction of its own.
        # Offsets past records that changed nothing (another service's event this one does not
        # follow) ride with the task's next transaction; read again after a crash, such a record
        # changes nothing again. State changes that emitted no event (the service took note) are
        # held, uncommitted, and the next batch goes on from them: they commit with its events,
        # or alone once they are `deferred_state_s` old. Until then only the query model is behind.
        self.deferred: Offsets = {}
        self.deferred_since: float | None = None  # monotonic
        self.held: Batch | None = None
        self.held_since: float | None = None
        self.uncommitted: list[RecordLike] = []  # what a failed commit must have read again

    # ---- restore ---------------------------------------------------------------------------

    async def restore(self) -> int:
        """Catch the store up with the changelog (all of it for a new task, the rest for a task
        this process had before a rebalance), then schedule the deadlines. Returns records read."""
        started = time.perf_counter()
        n = 0
        next_due: dict[str, datetime | None] = {}
        async for r in self.changelog.read(self.partition, self.changelog_position):
            if is_positions(r.key):
                self.positions = decode_positions(r.value)
                continue
            key = (r.key or b"").decode()
            self.store.restore(key, r.value)
            next_due[key] = next_due_of(r.headers) if r.value is not None else None
            n += 1
        self.changelog_position = await self.changelog.end(self.partition)
        self.applied = dict(self.positions)
        for key, due in next_due.items():
            self.timers.schedule(key, due)
        self.restore_seconds = time.perf_counter() - started
        metrics.RESTORE_SECONDS.labels(self.service).observe(self.restore_seconds)
        metrics.RESTORED_AGGREGATES.labels(self.service, str(self.partition)).set(len(self.store))
        log.info("task_restored", partition=self.partition, records=n, aggregates=len(self.store),
                 seconds=round(self.restore_seconds, 3), timers=len(self.timers))
        return n

    async def suspend(self) -> None:
        """The partition is revoked: remember how far the changelog is, in case it comes back."""
        self.changelog_position = await self.changelog.end(self.partition)

    # ---- records ---------------------------------------------------------------------------

    async def process(self, records: list[RecordLike], hold: bool = True) -> bool:
        """Process a batch (this task's records of every topic) in one transaction. A batch that
        emits nothing defers its commit instead (`hold=False`: only if it changes nothing).
        True when it committed."""
        async with self.lock:
            started_ms = time.time() * 1000
            wait = metrics.RECORD_WAIT_SECONDS.labels(self.service)
            for r in records:
                wait.observe(max(0.0, started_ms - r.timestamp) / 1000)
            records = [r for r in records if not already_read(self.applied, r.topic, r.partition, r.offset)]
            if not records:
                return False
            batch = self._batch()
            offsets: Offsets = {}
            for r in merged(records):
                handle_with_retry(self.processor, r, batch, self.settings.handler_attempts, self.dead_letters)
                offsets[(r.topic, r.partition)] = r.offset + 1
            self.applied.update(offsets)  # once handled: a batch that raised is read again whole
            if not batch.out and (not batch.changed or self._may_hold(hold, len(records))):
                self._defer(batch, offsets, records)
                return False
            await self.commit(batch, offsets, records)
            return True

    def _batch(self) -> Batch:
        return Batch(self.store, self.partition, held=self.held)

    def _may_hold(self, hold: bool, more: int) -> bool:
        return (hold and self.settings.deferred_state_s > 0
                and len(self.uncommitted) + more <= self.settings.batch_max_records)

    def _defer(self, batch: Batch, offsets: Offsets, records: list[RecordLike]) -> None:
        now = time.monotonic()
        self.deferred.update(offsets)
        self.deferred_since = self.deferred_since or now
        self.uncommitted.extend(records)
        if batch.changed:
            self.held = batch
            self.held_since = self.held_since or now
            for key, agg in batch.changed.items():  # a deadline of a held change fires from it
                self.timers.schedule(key, agg.next_due)

    def _clear_uncommitted(self) -> tuple[list[RecordLike], Batch | None]:
        """Forget what the task deferred, committed now or dropped: the records read since the last
        commit and the held changes."""
        cleared = self.uncommitted, self.held
        self.uncommitted, self.held, self.held_since = [], None, None
        self.deferred, self.deferred_since = {}, None
        return cleared

    async def commit_deferred(self, offsets_after_s: float = 0.0, state_after_s: float = 0.0) -> bool:
        """Commit what the task deferred: held state once it is `state_after_s` old, offsets alone
        once the oldest has waited `offsets_after_s`; both at once before the partition goes to
        another owner. True when it committed."""
        async with self.lock:
            now = time.monotonic()
            due = ((self.held_since is not None and now - self.held_since >= state_after_s)
                   or (self.deferred_since is not None and now - self.deferred_since >= offsets_after_s))
            if not due:
                return False
            await self.commit(self._batch(), {})
            return True

    async def dead_letter(self, record: RecordLike, reason: str) -> None:
        """Set one record aside, with why, in a transaction of its own: its dead letter and the
        offset past it. For a record whose effects the broker refuses for good (stuck.py)."""
        async with self.lock:
            batch = self._batch()
            batch.write(dead_letter_record(record, HandlerFailed("commit_refused", reason[:MAX_REASON]), self.service))
            metrics.DEAD_LETTERS.labels(self.service, record.topic, "commit_refused").inc()
            await self.commit(batch, {(record.topic, record.partition): record.offset + 1}, [record])
        log.error("dead_lettered", code="commit_refused", reason=reason, topic=record.topic,
                  partition=record.partition, offset=record.offset)

    # ---- deadlines -------------------------------------------------------------------------

    async def fire_due(self, now: datetime | None = None) -> int:
        """Fire every deadline that has passed, in one transaction. Returns how many fired."""
        async with self.lock:
            now = now or now_ms()
            keys = self.timers.due(now)
            if not keys:
                return 0
            batch = self._batch()
            fired = 0
            try:
                for key in keys:
                    for name, due in sorted(batch.get(key).timers.items(), key=lambda kv: kv[1]):
                        if due > now:
                            break
                        batch.begin_record()
                        try:
                            fired += self.processor.fire(key, name, due, batch) == "applied"
                        except Exception as exc:  # noqa: BLE001 - one broken deadline must not stop the others
                            batch.undo_record()
                            log.error("timer_failure", key=key, timer=name, error=repr(exc), exc_info=True)
                            break  # its key waits for the next restore rather than fail every tick
                await self.commit(batch, {})
            finally:
                for key in keys:  # committed or not, the schedule follows the store
                    self.timers.schedule(key, self.store.get(key).next_due)
            return fired

    # ---- the transaction -------------------------------------------------------------------

    async def commit(self, batch: Batch, offsets: Offsets, records: list[RecordLike] | None = None) -> None:
        """What the batch changed (state to the changelog), its events, dead letters and where the
        task has read to (in the changelog too), in one transaction: all of them or none.

        The batch holds the held changes it went on from too. `records`: the batch's own, to read
        again with the deferred ones if the commit fails."""
        offsets = {**self.deferred, **offsets}  # a later offset of a partition replaces an earlier
        if batch.empty and not offsets:
            return
        out = batch.out + batch.changelog(self.changelog_topic)
        positions = {**self.positions, **offsets}
        if offsets:  # with the state, not in the group (positions.py)
            out.append(positions_record(self.changelog_topic, self.partition, positions))
        started = time.perf_counter()
        try:
            await self.transactions.commit(out, {})
        except Exception as exc:
            # The store never had the held changes: their deadlines go back to what it has; nor
            # the records read since the last commit, which are read again.
            self.applied = dict(self.positions)
            earlier, held = self._clear_uncommitted()
            for key in held.changed if held is not None else ():
                self.timers.schedule(key, self.store.get(key).next_due)
            raise CommitFailed(repr(exc), [*earlier, *(records or [])]) from exc
        batch.committed()
        self.positions = positions
        for tp, offset in positions.items():  # a record dead-lettered alone moves the reading on
            self.applied[tp] = max(offset, self.applied.get(tp, 0))
        self._clear_uncommitted()
        self.failing = None
        for key, agg in batch.changed.items():
            self.timers.schedule(key, agg.next_due)
        metrics.COMMIT_SECONDS.labels(self.service).observe(time.perf_counter() - started)
        metrics.TRANSACTIONS.labels(self.service, carried(batch)).inc()
        for r in batch.out:
            if is_dlq(r.topic) or not r.type:
                continue
            metrics.EMITTED.labels(self.service, r.type).inc()
            if r.type in self.processor.domain.counted:  # the service's business counters
                self.processor.domain.count(r.type, orjson.loads(r.value or b"{}").get("data", {}))


Carried = Literal["events", "state", "offsets"]


def carried(batch: Batch) -> Carried:
    """What a committed transaction carried: records for other readers (events, dead letters),
    state changes alone (the changelog), or nothing but offsets."""
    if batch.out:
        return "events"
    return "state" if batch.changed else "offsets"


def merged(records: list[RecordLike]) -> list[RecordLike]:
    """One partition number's records of several topics in time order (an order.paid before the
    refund.request that followed it), never reordering records of one topic partition."""
    by_topic: defaultdict[str, list[RecordLike]] = defaultdict(list)
    for r in records:
        by_topic[r.topic].append(r)
    if len(by_topic) == 1:
        return records
    return list(heapq.merge(*by_topic.values(), key=lambda r: r.timestamp))
