"""Work that does not move. A batch whose commit the broker refuses for good (a record too large,
an invalid record) is split in halves until the one record that causes it is found; that record
is dead-lettered with the reason, and the rest commit. Whatever is still failing, and for how
long, is named in /health (`stuck`: the partition, the offset, the error) and in the
`aftersale_stuck_seconds` metric, once it has lasted `stuck_after_s`."""
from __future__ import annotations

import time
from typing import Any, Awaitable, Callable

from aiokafka.errors import (CorruptRecordException, InvalidMessageError, InvalidTimestampError,
                             MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError)

from runtime.service import metrics
from runtime.stream.task import CommitFailed, Task

# What the broker (or the producer, before sending) refuses whatever the retries.
PERMANENT = (MessageSizeTooLargeError, RecordTooLargeError, RecordListTooLargeError, InvalidMessageError,
             CorruptRecordException, InvalidTimestampError)


def permanent(exc: CommitFailed) -> bool:
    return isinstance(exc.__cause__, PERMANENT)


def note_failure(task: Task, records: list[Any], exc: BaseException) -> None:
    first = min(records, key=lambda r: r.offset) if records else None
    since = task.failing["since"] if task.failing else time.monotonic()
    task.failing = {"since": since, "error": str(exc)[:500],
                    "topic": first.topic if first else None, "offset": first.offset if first else None}


async def isolate(task: Task, records: list[Any], reason: str, reopen: Callable[[], Awaitable[None]]) -> None:
    """Commit what can be, halving the batch around what cannot; the single record the broker
    refuses is dead-lettered."""
    if len(records) == 1:
        await task.dead_letter(records[0], reason)
        return
    half = len(records) // 2
    for part in (records[:half], records[half:]):
        try:
            await task.process(part, hold=False)  # each half commits, or fails, on its own
        except CommitFailed as exc:
            if not permanent(exc):
                raise
            await reopen()
            await isolate(task, part, f"{exc.__cause__!r}", reopen)


def stuck(service: str, tasks: dict[int, Task], views: dict[str, Any], after_s: float) -> list[dict[str, Any]]:
    """Each part that has had work and made no progress for `after_s` or longer, and sets the metric."""
    now = time.monotonic()
    out = []
    for n, task in sorted(tasks.items()):
        failing_s = now - task.failing["since"] if task.failing else 0.0
        metrics.STUCK_SECONDS.labels(service, f"task-{n}").set(failing_s)
        if task.failing and failing_s >= after_s:
            out.append({"part": f"task {n}", "partition": n, "for_s": round(failing_s, 1),
                        **{k: v for k, v in task.failing.items() if k != "since"}})
    writing_s = views.get("writing_s", 0.0)
    metrics.STUCK_SECONDS.labels(service, "views").set(writing_s)
    if writing_s >= after_s:
        out.append({"part": "views", "for_s": writing_s, "records_behind": views.get("records_behind"),
                    "error": views.get("last_error"),
                    "database": "reachable" if views.get("database") else "unreachable"})
    return out
