"""The tasks a process owns: opened as the group assigns partitions, closed as it takes them.

A task opens by fencing the partition's previous owner and restoring what it committed; the
consumer then reads on from the positions in that state. A task that leaves reports where it
read to, once for all that leave together.
"""
from __future__ import annotations

import asyncio
from typing import Any, Callable, Protocol

import structlog
from aiokafka import ConsumerRebalanceListener

from runtime.stream.ports import Offsets
from runtime.stream.task import Task

log = structlog.get_logger("stream")


class Tasks(ConsumerRebalanceListener):
    """The tasks this process owns, opened and closed as the group assigns partitions."""

    def __init__(self, make_task: Callable[[int], Task]) -> None:
        self.make_task = make_task
        self.active: dict[int, Task] = {}
        self.suspended: dict[int, Task] = {}  # revoked in this rebalance; kept in case they come back
        self.unpinned: set[Any] = set()  # assigned partitions whose start is not committed yet
        self.ready = False
        self.reading: Reading = NoReading()  # the consumer's side, once there is one (StreamLoop)

    async def on_partitions_revoked(self, revoked: Any) -> None:
        self.ready = False
        leaving: Offsets = {}
        for n in sorted({tp.partition for tp in revoked}):
            task = self.active.pop(n, None)
            if task is None:
                continue
            await self._commit_deferred(task)
            async with task.lock:  # let its batch in hand commit first
                leaving.update(task.positions)
                try:
                    await task.suspend()
                    self.suspended[n] = task
                except Exception as exc:  # noqa: BLE001 - without a position it must restore from scratch
                    log.warning("suspend_failed", partition=n, error=repr(exc))
                await task.transactions.stop()
        await self.reading.report(leaving)  # one commit for all of them

    async def on_partitions_assigned(self, assigned: Any) -> None:
        numbers = sorted({tp.partition for tp in assigned})
        for n in numbers:
            if n in self.active:
                continue
            task = self.suspended.pop(n, None) or self.make_task(n)
            await self.open(task)
        self.suspended.clear()  # partitions that went elsewhere: their state is someone else's now
        self.unpinned = set(assigned)
        self.ready = True
        log.info("partitions_assigned", tasks=numbers)

    @staticmethod
    async def _commit_deferred(task: Task) -> None:
        """Before a task leaves: what it read that changed nothing is the next owner's to skip."""
        try:
            await task.commit_deferred()
        except Exception as exc:  # noqa: BLE001 - read again, it changes nothing again
            log.warning("deferred_offsets_not_committed", partition=task.partition, error=repr(exc))

    async def open(self, task: Task) -> None:
        # First fence the previous owner (its open transaction is aborted), then read what it
        # committed: the changelog is complete once nobody else can write to it. An assigned
        # partition must get its task, so a broker still recovering is waited out.
        async def start_and_restore() -> None:
            await task.transactions.start()
            await task.restore()

        await self._until_done(task, start_and_restore, "task_open_failed")
        # The consumer starts where the group's offsets say, which may be behind what the state
        # holds (they are a report) or, once expired, past it: it reads on from the state's.
        self.reading.seek(task.positions)
        task.stopped_by = None
        self.active[task.partition] = task

    async def reopen(self, task: Task) -> None:
        """After a failed commit: a fresh producer (aborting whatever was open), same state."""
        async with task.lock:
            await self._until_done(task, task.transactions.start, "producer_restart_failed")

    async def _until_done(self, task: Task, step: Callable[[], Any], what: str) -> None:
        backoff = 0.2
        while True:
            await task.transactions.stop()
            try:
                await step()
                return
            except Exception as exc:  # noqa: BLE001 - the broker or its transaction log is coming back
                log.warning(what, partition=task.partition, error=repr(exc), retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def close_all(self) -> None:
        leaving: Offsets = {}
        for task in list(self.active.values()):
            await self._commit_deferred(task)
            async with task.lock:
                leaving.update(task.positions)
                await task.transactions.stop()
        await self.reading.report(leaving)
        self.active.clear()
        self.suspended.clear()


class Reading(Protocol):
    """The processing consumer, as the tasks need it when they open and close."""

    def seek(self, positions: Offsets) -> None: ...

    async def report(self, positions: Offsets) -> None: ...


class NoReading:
    def seek(self, positions: Offsets) -> None:
        pass

    async def report(self, positions: Offsets) -> None:
        pass
