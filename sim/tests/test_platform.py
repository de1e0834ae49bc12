"""The whole platform, simulated: random worlds of random actors against the four services' real
domain code, checked by every invariant after every step and at rest (sim/platform). A failure
prints the seed and the shortest steps that show it; `make simulate SEED=… N=…` plays it again."""
from __future__ import annotations

import asyncio
import os

from sim.platform.runs import report, run_many, shrink

SEED = int(os.environ.get("AFTERSALE_SIM_SEED", "20261206"))
DISPUTES = int(os.environ.get("AFTERSALE_SIM_DISPUTES", "20000"))
JOBS = int(os.environ.get("AFTERSALE_SIM_JOBS", str(min(2, os.cpu_count() or 1))))


async def test_random_disputes_break_no_invariant():
    # In a thread: an event loop the suite shares keeps serving its Kafka clients meanwhile.
    result = await asyncio.to_thread(run_many, SEED, DISPUTES, 3, JOBS)
    if result.failed is not None:
        seed, outcome = result.failed
        raise AssertionError(report(seed, shrink(seed, 3, outcome)))
    assert result.played >= DISPUTES
