"""How long the broker may hold the processing consumer's fetch: briefly while records flow, long
while none do.

While records flow, a fetch waits up to `fetch_wait_ms` for company (FETCH_MIN_BYTES is never
reached, so the wait decides): fewer, fuller fetches. But a consumer that waits 10 ms on quiet
partitions still asks a hundred times a second; measured on the project's machine, four idle
services and their broker kept 0.47 cores busy that way. After `idle_after_s` without a record,
a fetch returns at the first byte and otherwise waits `idle_wait_ms`: the first record after a
quiet spell goes at once, and a quiet service asks a few times a second (0.18 cores). With the
idle wait at 2 s (`fetch_idle_wait_ms`), the view writers and global tables paced alike, and the
lag measured from what the fetches bring, an idle platform asked the broker 11 times a second
instead of 106 and kept 0.09 cores busy instead of 0.13-0.18 (docs/benchmarks.md).

Waiting for company pays only while records come faster than one per wait: at 10 disputes/s each
service still asked about a hundred times a second. Below `company_from_per_s` the processing
consumer's fetches return at the first record, as a quiet one's do (47-48 fetches per dispute
became 42-43).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from runtime.service.settings import FETCH_MIN_BYTES


@dataclass(frozen=True)
class FetchTerms:
    min_bytes: int
    max_wait_ms: int


@dataclass
class FetchPace:
    busy_wait_ms: int
    idle_wait_ms: int = 500
    idle_after_s: float = 1.0
    # The record rate (per second, over the last `idle_after_s`) from which a fetch waits for
    # company. Below it a wait of `busy_wait_ms` mostly ends with nothing: a consumer would ask
    # 1000/busy_wait_ms times a second for fewer records than that, so its fetches return at the
    # first record instead (0: they wait for company whenever records flow).
    company_from_per_s: float = 0.0
    last_record_at: float = -math.inf
    window_start: float = -math.inf
    window_records: int = 0
    rate_per_s: float = 0.0

    @property
    def busy(self) -> FetchTerms:
        """The terms while records flow, and those a consumer starts with."""
        return FetchTerms(FETCH_MIN_BYTES, self.busy_wait_ms)

    def terms(self, records: int, now: float) -> FetchTerms:
        """The terms of the next fetch, after a poll that brought `records` at `now` (monotonic s)."""
        if records:
            self.last_record_at = now
        self.window_records += records
        if now - self.window_start >= self.idle_after_s:
            if self.window_start > -math.inf:
                self.rate_per_s = self.window_records / (now - self.window_start)
            self.window_start, self.window_records = now, 0
        if now - self.last_record_at >= self.idle_after_s or self.rate_per_s < self.company_from_per_s:
            return FetchTerms(1, self.idle_wait_ms)
        return self.busy


def set_fetch_terms(consumer: Any, terms: FetchTerms) -> None:
    """aiokafka reads these for every fetch request it builds; they have no public setter
    (runtime/tests/test_fetch_pace.py fails if the pinned aiokafka stops reading them)."""
    fetcher = consumer._fetcher  # noqa: SLF001
    fetcher._fetch_min_bytes = terms.min_bytes  # noqa: SLF001
    fetcher._fetch_max_wait_ms = terms.max_wait_ms  # noqa: SLF001
