"""The consumer loop's hand-off to a task: records that arrive within commit_interval_s of the
task's last commit wait and share one transaction; without an interval each goes at once."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

from runtime.service.settings import ServiceSettings
from runtime.stream.loop import StreamLoop


class CountingTask:
    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    async def process(self, records: list) -> bool:
        self.batches.append([r.offset for r in records])
        return True  # each batch committed a transaction


def record(offset: int) -> SimpleNamespace:
    return SimpleNamespace(topic="t", partition=0, offset=offset)


async def trickle(interval_s: float) -> list[list[int]]:
    """Ten records, 10 ms apart, to one task."""
    task = CountingTask()
    tasks = SimpleNamespace(active={0: task})
    loop = StreamLoop(ServiceSettings(commit_interval_s=interval_s), "svc", ("t",), "g", tasks, {})  # type: ignore[arg-type]
    stop = asyncio.Event()
    for i in range(10):
        loop._enqueue(0, [record(i)], stop)  # noqa: SLF001 - the hand-off is what is tested
        await asyncio.sleep(0.01)
    await asyncio.sleep(interval_s + 0.05)
    stop.set()
    loop.wakeups[0].set()
    await asyncio.wait_for(loop.workers[0], 1)
    return task.batches


async def test_records_that_trickle_in_share_a_transaction_per_commit_interval():
    batches = await trickle(0.05)
    assert sum(batches, []) == list(range(10))  # all of them, in order
    assert len(batches) <= 4  # about 100 ms of records, a batch per 50 ms (and the first at once)


async def test_without_an_interval_each_record_goes_at_once():
    assert await trickle(0.0) == [[i] for i in range(10)]
