"""Six partitions, three replicas of each service: every partition's task has exactly one owner,
and a replica SIGKILLed mid-stream hands its partitions to the others with every promise kept
(tests/support/promises.py)."""
from __future__ import annotations

import asyncio

from ops.launcher import Proc, System, health
from runtime.stream.layout import layout
from tests.support.promises import SERVICES, check_promises, run_disputes

def owners(procs: list[Proc]) -> dict[str, list[int]]:
    """Each live replica's tasks, by replica."""
    return {p.name: (health(p.port) or {}).get("partitions", []) for p in procs if p.alive()}


async def one_owner_each(procs: list[Proc], timeout: float = 90.0) -> dict[str, list[int]]:
    """Waits until the live replicas own every partition, each exactly once, and says who owns what."""
    want = list(range(layout().partitions))
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        now = owners(procs)
        if sorted(p for parts in now.values() for p in parts) == want:
            return now
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"partitions {want} not owned once each: {now}")
        await asyncio.sleep(0.5)


async def test_three_replicas_own_six_partitions_once_and_one_lost_hands_its_own_over(
        bus, system: System, dbs) -> None:
    assert layout().partitions == 6
    extra = {s: [system.replica(s, n, 18180 + 100 * n + SERVICES.index(s)) for n in (2, 3)] for s in SERVICES}
    replicas = {s: [system.procs[s], *extra[s]] for s in SERVICES}
    try:
        for procs in extra.values():
            for p in procs:
                p.start()
        for procs in extra.values():
            for p in procs:
                await asyncio.to_thread(p.wait_ready, 120)
        spread = {s: await one_owner_each(replicas[s]) for s in SERVICES}
        assert all(all(parts for parts in by.values()) for by in spread.values()), f"every replica works: {spread}"

        victim = extra["seller"][0]
        handed: dict[str, list[int]] = {}

        async def chaos() -> None:
            await asyncio.sleep(4)
            victim.kill()  # SIGKILL: nothing handed over by the replica itself
            handed.update(await one_owner_each(replicas["seller"]))

        driver, psp = await run_disputes(bus, chaos)

        print(f"\n[cluster] seller partitions {spread['seller']} -> after {victim.name} was lost: {handed}")
        assert victim.name not in handed and sorted(p for parts in handed.values() for p in parts) == list(range(6))
        await check_promises(driver, psp, bus, dbs)
        for s in SERVICES:
            assert await one_owner_each(replicas[s], timeout=10)
    finally:
        for procs in extra.values():
            for p in procs:
                p.kill()
