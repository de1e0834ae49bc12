"""One transactional producer per process, shared by its tasks (exactly-once v2, KIP-447).

A transaction costs the broker and this process about the same whatever it carries (design.md).
With a producer per task, each task paid for its own; here the tasks' commits that arrive while
a transaction is in flight go together in the next one (group commit), so a process runs one
transaction at a time however many partitions it owns.

Fencing follows the consumer group instead of the transactional id: every transaction carries
its tasks' consumer offsets, committed with the member's generation (runtime/kip447.py), so the
broker refuses the transaction of a process the group has moved on from. A task's new owner
starts only when no open transaction holds offsets of its partitions (`stable`).
"""
from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

import structlog

from runtime.ports import Offsets, Transactions
from runtime.records import OutRecord

log = structlog.get_logger("transactions")


class ProcessTransactions:
    def __init__(self, producer: Transactions, stable: Callable[[int], Awaitable[Offsets]]) -> None:
        self.producer = producer
        self.stable = stable  # a partition number -> its committed offsets, once no transaction holds them
        self.queue: list[tuple[list[OutRecord], Offsets, asyncio.Future[None]]] = []
        self.flushing: asyncio.Task[None] | None = None
        self.ready = False  # started, and no transaction failed since
        self.transactions = 0
        self.commits = 0  # tasks' commits, of which `transactions` carried several together
        self._producer_lock = asyncio.Lock()  # start, stop and a transaction never overlap

    def for_task(self, partition: int) -> TaskTransactions:
        return TaskTransactions(self, partition)

    async def ensure_started(self) -> None:
        """Start the producer, or restart it after a failed transaction. Starting fences (and
        aborts the open transaction of) an earlier run of this process, which had the same id."""
        async with self._producer_lock:
            await self._restart_if_needed()

    async def _restart_if_needed(self) -> None:
        if self.ready:
            return
        await self.producer.stop()
        await self.producer.start()
        self.ready = True

    async def commit(self, records: list[OutRecord], offsets: Offsets) -> None:
        """Commit with whatever else is waiting; raises what the transaction raised."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.queue.append((records, offsets, done))
        if self.flushing is None or self.flushing.done():
            self.flushing = asyncio.create_task(self._flush())
        await asyncio.shield(done)  # a caller that gives up does not cancel the others' transaction

    async def _flush(self) -> None:
        while self.queue:
            waiting, self.queue = self.queue, []
            records = [r for rs, _, _ in waiting for r in rs]
            offsets: Offsets = {}
            for _, o, _ in waiting:
                offsets.update(o)  # tasks own disjoint partitions
            try:
                async with self._producer_lock:
                    await self._restart_if_needed()
                    await self.producer.commit(records, offsets)
            except BaseException as exc:  # noqa: BLE001 - every task in it hears why, and rewinds
                self.ready = False
                for _, _, done in waiting:
                    if not done.done():
                        done.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            self.transactions += 1
            self.commits += len(waiting)
            for _, _, done in waiting:
                if not done.done():
                    done.set_result(None)

    async def stop(self) -> None:
        if self.flushing is not None and not self.flushing.done():
            await asyncio.wait([self.flushing], timeout=10)
        async with self._producer_lock:
            await self.producer.stop()
            self.ready = False


class TaskTransactions:
    """A task's view of the process's producer (the `Transactions` port)."""

    def __init__(self, shared: ProcessTransactions, partition: int) -> None:
        self.shared = shared
        self.partition = partition
        self.positions: Offsets = {}  # the task's consumer offsets as last committed

    async def start(self) -> None:
        """Before the task reads anything: the producer is up, and the partition's previous owner
        has nothing in flight (its last transaction committed or aborted)."""
        await self.shared.ensure_started()
        self.positions = await self.shared.stable(self.partition)

    async def commit(self, records: list[OutRecord], offsets: Offsets) -> None:
        # The broker checks the member's generation only with offsets: a transaction with none
        # (a deadline firing) carries one of the task's last ones again, so a zombie's is refused
        # too, and the partition's next owner waits for it.
        if not offsets and self.positions:
            offsets = dict([min(self.positions.items())])
        await self.shared.commit(records, offsets)
        self.positions = {**self.positions, **offsets}

    async def stop(self) -> None:
        """The process's producer outlives its tasks: it stops with the process."""
