"""The service's consumer loop: fetch, split by task, process, commit; timers; positions.

One consumer reads every topic of the service (read_committed). Where each task has read to
commits with its state, in its changelog (positions.py); the group's offsets only report it.
The RangeAssignor hands it partition p of every topic together, so partition number p is task p.
A batch is split by task and the tasks commit concurrently; the timer loop fires each task's
deadlines through the same transactional path. Each task has a worker of its own, so the tasks
commit concurrently while the consumer keeps polling.
"""
from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor

from runtime.service import metrics
from runtime.service.periodic import every, unless_stopped
from runtime.service.settings import QUIET_WAKE_MS, ServiceSettings
from runtime.stream.dlq import DeadLetterLimitExceeded
from runtime.stream.fetch_pace import FetchPace, set_fetch_terms
from runtime.stream.membership import static_member_id
from runtime.stream.ports import Offsets, ProducerFenced
from runtime.stream.stuck import isolate, note_failure, permanent
from runtime.stream.task import CommitFailed
from runtime.stream.tasks import Tasks

log = structlog.get_logger("stream")


class StreamLoop:
    def __init__(self, settings: ServiceSettings, service: str, topics: tuple[str, ...], group_id: str,
                 tasks: Tasks, client: dict[str, Any]) -> None:
        self.settings = settings
        self.service = service
        self.tasks = tasks
        self.group_id = group_id
        self.client = client
        self.consumer: Any = None
        self.topics = topics
        self.inflight = 0  # batches being processed
        self.backlog = 0  # records fetched, not yet handed to their task
        self.pending: dict[int, list[Any]] = {}
        self.wakeups: dict[int, asyncio.Event] = {}
        self.workers: dict[int, asyncio.Task[None]] = {}
        self.pace = FetchPace(settings.fetch_wait_ms, settings.fetch_idle_wait_ms,
                              company_from_per_s=settings.fetch_company_from_per_s)
        self.fetch_terms = self.pace.terms(0, time.monotonic())  # the consumer starts with these: quiet
        self.reported: Offsets = {}  # the positions the group's offsets say
        tasks.reading = self

    async def start(self) -> None:
        s = self.settings
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=s.kafka_bootstrap, group_id=self.group_id, enable_auto_commit=False,
            isolation_level="read_committed", auto_offset_reset=s.offset_reset,
            # Range, not round robin: one consumer gets partition p of every topic, so task p.
            partition_assignment_strategy=(RangePartitionAssignor,),
            group_instance_id=static_member_id(self.group_id, s.instance_id, self.topics),
            session_timeout_ms=s.session_timeout_ms, max_partition_fetch_bytes=4 * 1024 * 1024,
            fetch_min_bytes=self.fetch_terms.min_bytes, fetch_max_wait_ms=self.fetch_terms.max_wait_ms,
            consumer_timeout_ms=QUIET_WAKE_MS, **self.client)
        await self.consumer.start()
        self.consumer.subscribe(list(self.topics), listener=self.tasks)

    async def stop(self) -> None:
        await self.tasks.close_all()
        if self.consumer is not None:
            await self.consumer.stop()

    async def run(self, stop: asyncio.Event) -> None:
        """Poll, and hand each task its records; the tasks commit on their own, so one slow
        transaction holds up neither the poll nor the other tasks."""
        while not stop.is_set():
            try:
                while self.backlog > 4 * self.settings.batch_max_records and not stop.is_set():
                    await asyncio.sleep(0.005)  # backpressure: the tasks are behind
                batch = await unless_stopped(self.consumer.getmany(
                    timeout_ms=QUIET_WAKE_MS, max_records=self.settings.batch_max_records), stop) or {}
                if self.tasks.unpinned:  # assigned since the last turn: pinned before its records go on
                    try:
                        await self._pin_start(batch)
                    except Exception:
                        self._seek_to_first([r for records in batch.values() for r in records])
                        raise
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the broker comes back; keep asking
                log.warning("poll_failed", error=repr(exc))
                await asyncio.sleep(self.settings.retry_backoff_s)
                continue
            for tp, records in batch.items():
                self._enqueue(tp.partition, records, stop)
            terms = self.pace.terms(sum(len(records) for records in batch.values()), time.monotonic())
            if terms != self.fetch_terms:
                set_fetch_terms(self.consumer, terms)
                self.fetch_terms = terms
        await self._drain()

    def _enqueue(self, n: int, records: list[Any], stop: asyncio.Event) -> None:
        self.pending.setdefault(n, []).extend(records)
        self.backlog += len(records)
        self.wakeups.setdefault(n, asyncio.Event()).set()
        worker = self.workers.get(n)
        if worker is None or worker.done():
            self.workers[n] = asyncio.create_task(self._work(n, stop))

    def _take(self, n: int) -> list[Any]:
        records = self.pending.pop(n, [])
        self.backlog -= len(records)
        return records

    async def _work(self, n: int, stop: asyncio.Event) -> None:
        wakeup = self.wakeups[n]
        loop = asyncio.get_running_loop()
        last_commit = 0.0
        while not stop.is_set() or self.pending.get(n):
            await wakeup.wait()
            wakeup.clear()
            # A transaction costs the broker and this process about the same whether it carries one
            # record or a hundred: records that arrive within commit_interval_s of the last commit
            # wait for each other and share one.
            gather = self.settings.commit_interval_s - (loop.time() - last_commit)
            if gather > 0 and not stop.is_set():
                await asyncio.sleep(gather)
            records = self._take(n)
            if not records:
                continue
            self.inflight += 1
            try:
                if await self._process(n, records):
                    last_commit = loop.time()
            except Exception as exc:  # noqa: BLE001 - a worker must outlive any one batch
                log.error("task_worker_failed", partition=n, error=repr(exc), exc_info=True)
                self._rewind(n, records)
                await asyncio.sleep(self.settings.retry_backoff_s)
            finally:
                self.inflight -= 1

    async def _drain(self, timeout_s: float = 10.0) -> None:
        """On stop: let the batches in hand commit, then stop the workers."""
        for wakeup in self.wakeups.values():
            wakeup.set()
        workers = [w for w in self.workers.values() if not w.done()]
        if workers:
            await asyncio.wait(workers, timeout=timeout_s)
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

    async def _process(self, n: int, records: list[Any]) -> bool:
        """True when the batch committed a transaction."""
        task = self.tasks.active.get(n)
        if task is None:
            # Fetched while its task is still opening (aiokafka fetches as soon as partitions are
            # assigned), or revoked meanwhile: read them again later, or let the new owner.
            self._rewind(n, records)
            await asyncio.sleep(0.05)
            return False
        try:
            return await task.process(records)
        except CommitFailed as exc:
            fenced = isinstance(exc.__cause__, ProducerFenced)
            log.warning("commit_failed", partition=n, error=str(exc), fenced=fenced)
            records = exc.records  # this batch's and those whose commit the task had deferred
            note_failure(task, records, exc)
            if permanent(exc):
                # Retrying would fail the same way for ever: find the record and set it aside.
                await self.tasks.reopen(task)
                await isolate(task, records, f"{exc.__cause__!r}", lambda: self.tasks.reopen(task))
                return True
            self._rewind(n, records)
            if fenced:
                self.tasks.active.pop(n, None)  # another process owns it; a rebalance follows
                await task.transactions.stop()
                return False
            await asyncio.sleep(self.settings.retry_backoff_s)
            await self.tasks.reopen(task)
        except DeadLetterLimitExceeded as exc:
            log.critical("dead_letter_limit_exceeded", partition=n, error=str(exc))
            task.stopped_by = str(exc)
            self._rewind(n, records)
            self.consumer.pause(*{TopicPartition(r.topic, r.partition) for r in records})
        return False

    async def _pin_start(self, fetched: dict[Any, list[Any]]) -> None:
        """A partition the group never committed starts where the offset reset put it; commit that
        start at once, so a crash before its first batch does not move it to a later "latest".
        Where a poll already brought its first records, the start is the first of them."""
        tps, self.tasks.unpinned = self.tasks.unpinned, set()
        try:
            by_task: defaultdict[int, dict[tuple[str, int], int]] = defaultdict(dict)
            for tp in tps:
                if await self.consumer.committed(tp) is None:
                    records = fetched.get(tp)
                    start = records[0].offset if records else await self.consumer.position(tp)
                    by_task[tp.partition][(tp.topic, tp.partition)] = start
            for n, offsets in by_task.items():
                task = self.tasks.active.get(n)
                if task is not None:
                    async with task.lock:
                        await task.transactions.commit([], offsets)
        except Exception:
            self.tasks.unpinned |= tps  # tried again at the next turn
            raise

    def seek(self, positions: Offsets) -> None:
        """Move each of these partitions the consumer still owns to its offset: an opening task's
        positions (a record before them would be skipped anyway), or the first record to read again."""
        owned = self.consumer.assignment() if self.consumer is not None else set()
        for (topic, partition), offset in positions.items():
            if (tp := TopicPartition(topic, partition)) in owned:
                self.consumer.seek(tp, offset)

    async def report(self, positions: Offsets) -> None:
        """Commit the group's offsets to where tasks have read: for the lag others see, and for a
        consumer's start, not for what the tasks restore. A commit that fails is tried next time."""
        owned = self.consumer.assignment() if self.consumer is not None else set()
        changed = {TopicPartition(t, p): o for (t, p), o in positions.items()
                   if self.reported.get((t, p)) != o and TopicPartition(t, p) in owned}
        if not changed:
            return
        try:
            await self.consumer.commit(changed)
        except Exception as exc:  # noqa: BLE001 - a report; the next one carries the same
            log.info("positions_not_reported", error=repr(exc))
            return
        self.reported.update({(tp.topic, tp.partition): o for tp, o in changed.items()})

    async def report_positions(self, stop: asyncio.Event) -> None:
        async for _ in every(self.settings.positions_report_s, stop):
            positions: Offsets = {}
            for task in list(self.tasks.active.values()):
                positions.update(task.positions)
            await self.report(positions)

    def _rewind(self, n: int, records: list[Any]) -> None:
        """Read these records again from their first offsets (the store was left as before them),
        and everything fetched for the task after them."""
        self._seek_to_first([*records, *self._take(n)])

    def _seek_to_first(self, records: list[Any]) -> None:
        """Move each partition of these records back to the first of them it still owns."""
        first: Offsets = {}
        for r in records:
            tp = (r.topic, r.partition)
            first[tp] = min(first.get(tp, r.offset), r.offset)
        self.seek(first)

    async def fire_timers(self, stop: asyncio.Event) -> None:
        async for _ in every(self.settings.timer_tick_s, stop):
            for task in list(self.tasks.active.values()):
                if task.stopped_by:
                    continue
                try:
                    await task.fire_due()
                    await task.commit_deferred(offsets_after_s=self.settings.deferred_offsets_s,
                                               state_after_s=self.settings.deferred_state_s)
                except CommitFailed as exc:
                    log.warning("timer_commit_failed", partition=task.partition, error=str(exc))
                    self._rewind(task.partition, exc.records)  # deferred records: read again
                    if isinstance(exc.__cause__, ProducerFenced):
                        self.tasks.active.pop(task.partition, None)
                    else:
                        await self.tasks.reopen(task)
                except Exception as exc:  # noqa: BLE001 - never let the timer loop die
                    log.error("timer_loop_failed", partition=task.partition, error=repr(exc), exc_info=True)

    async def measure_lag(self, stop: asyncio.Event, every_s: float = 5.0) -> None:
        """Consumer lag per owned partition: the end of the log (as the last fetch saw it) minus
        the records this process has processed or holds. Nothing is asked of the broker: an
        OffsetFetch per partition every few seconds was a sixth of what an idle platform asked."""
        async for _ in every(every_s, stop):
            try:
                parts = list(self.consumer.assignment()) if self.consumer else []
                held: dict[tuple[str, int], int] = {}
                for records in self.pending.values():
                    for r in records:
                        held[(r.topic, r.partition)] = held.get((r.topic, r.partition), 0) + 1
                for tp in parts:
                    end = self.consumer.last_stable_offset(tp)
                    if end is None:  # not fetched yet
                        continue
                    position = await self.consumer.position(tp)
                    metrics.CONSUMER_LAG.labels(self.service, tp.topic, str(tp.partition)).set(
                        max(0, end - position) + held.get((tp.topic, tp.partition), 0))
            except Exception as exc:  # noqa: BLE001 - a metric must never stop the service
                log.warning("lag_measure_failed", error=repr(exc))
