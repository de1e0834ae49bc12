"""Crash tests: a stream of concurrent disputes while services are SIGKILLed at random moments,
the broker restarts, or the database restarts or hangs. Afterwards every promise of
tests/support/promises.py holds."""
from __future__ import annotations

import asyncio
import os
import random
import signal
from pathlib import Path

import pytest

from ops.launcher import System, health
from tests.support.infra import instance_up, kill_and_wait, state_dir
from tests.support.promises import DISPUTES, PATIENT, SERVICES, check_promises, run_disputes


@pytest.fixture(scope="module", autouse=True)
def patient_deadlines(system: System):
    before = {name: dict(p.env) for name, p in system.procs.items()}
    for name in SERVICES:
        system.restart(name, env=PATIENT)
    yield
    for name in SERVICES:
        system.procs[name].env = before[name]
        system.restart(name)


def _kill_and_restart(system: System, name: str) -> None:
    # Not waiting until it is ready: the next kill may come while it is still restoring.
    system.restart(name, kill=True, wait=False)


def _all_ready(system: System) -> None:
    for p in system.procs.values():
        p.wait_ready(90)


async def test_services_killed_at_random_moments_keep_every_promise(bus, system, dbs) -> None:
    rng = random.Random(int(os.environ.get("AFTERSALE_CHAOS_SEED", "20261126")))
    kills: list[str] = []

    async def chaos() -> None:
        loop = asyncio.get_running_loop()
        while True:  # every service in turn, in a random order, at random moments
            for name in rng.sample(SERVICES, len(SERVICES)):
                await asyncio.sleep(rng.uniform(0.3, 1.5))
                kills.append(name)
                await loop.run_in_executor(None, _kill_and_restart, system, name)

    driver, psp = await run_disputes(bus, chaos)
    await asyncio.get_running_loop().run_in_executor(None, _all_ready, system)

    print(f"\n[crash] {DISPUTES} disputes, SIGKILLs: {len(kills)} ({', '.join(kills)})")
    assert set(kills) == set(SERVICES), "every service was killed at least once"
    await check_promises(driver, psp, bus, dbs)


def _own_infra(infra) -> None:
    if not infra.how.startswith("project scripts"):
        pytest.skip("restarting the broker or database needs the project's own infrastructure scripts")


def _restart_component(pidfile: Path, sig: int) -> None:
    kill_and_wait(pidfile, sig)
    instance_up(os.environ.get("AFTERSALE_INSTANCE", "test"))  # starts what is not running


@pytest.mark.parametrize("component,pidfile", [("broker", "kafka/kafka.pid"), ("database", "ferretdb/ferretdb.pid")])
async def test_a_restart_mid_stream_loses_nothing(component, pidfile, bus, system, dbs, infra) -> None:
    _own_infra(infra)

    async def chaos() -> None:
        await asyncio.sleep(2)
        await asyncio.get_running_loop().run_in_executor(None, _restart_component, state_dir() / pidfile,
                                                         signal.SIGKILL)

    driver, psp = await run_disputes(bus, chaos)
    await check_promises(driver, psp, bus, dbs)


async def test_a_hung_database_holds_up_only_the_query_model(bus, system, dbs, infra) -> None:
    """FerretDB stops answering (SIGSTOP): disputes go on, /health says the views are behind,
    and once it answers again the views catch up."""
    _own_infra(infra)
    ferret = int((state_dir() / "ferretdb/ferretdb.pid").read_text())
    seen_behind: list[dict] = []

    async def chaos() -> None:
        await asyncio.sleep(2)
        os.kill(ferret, signal.SIGSTOP)
        try:
            for _ in range(20):
                await asyncio.sleep(0.5)
                views = (health(system.procs["notify"].port) or {}).get("views", {})
                if views.get("records_behind") or views.get("database") is False:
                    seen_behind.append(views)
        finally:
            os.kill(ferret, signal.SIGCONT)

    try:
        driver, psp = await run_disputes(bus, chaos)
    finally:
        os.kill(ferret, signal.SIGCONT)
    assert seen_behind, "health showed the query model falling behind while the database hung"
    await check_promises(driver, psp, bus, dbs)
