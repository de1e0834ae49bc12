"""When a task's aggregates next need waking: an in-memory schedule of their earliest deadlines.

The deadlines themselves are state (each aggregate's `timers`, written to the changelog with
everything else); this is only an index over them, rebuilt after a restore. An entry can be
stale (the deadline moved or was cleared): the task checks the aggregate before firing, and
schedules its real next deadline again.
"""
from __future__ import annotations

import heapq
from datetime import datetime


class TimerSchedule:
    def __init__(self) -> None:
        self._heap: list[tuple[datetime, str]] = []
        self._next: dict[str, datetime] = {}  # the earliest entry in the heap for each key

    def __len__(self) -> int:
        return len(self._next)

    def schedule(self, key: str, due: datetime | None) -> None:
        if due is None:
            return  # an entry already in the heap turns out stale when it comes up
        current = self._next.get(key)
        if current is None or due < current:
            self._next[key] = due
            heapq.heappush(self._heap, (due, key))

    def due(self, now: datetime) -> list[str]:
        """Keys with a deadline at or before `now`, earliest first; they leave the schedule."""
        keys = []
        while self._heap and self._heap[0][0] <= now:
            due, key = heapq.heappop(self._heap)
            if self._next.get(key) == due:
                del self._next[key]
                keys.append(key)
        return keys

    def next_at(self) -> datetime | None:
        return self._heap[0][0] if self._heap else None

    def clear(self) -> None:
        self._heap.clear()
        self._next.clear()
