"""One broker of three is SIGKILLed in the middle of a stream of disputes (the leader of a
changelog partition, so that the state store's writes move to another broker), and started
again later. Every promise holds (tests/support/promises.py), and every service is ready again
without a restart of its own: the replicated topics lost nothing and no client gave up."""
from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from ops.launcher import System, health
from runtime.stream.layout import layout
from runtime.stream.records import changelog_topic
from tests.support.infra import instance_up, kill_and_wait, state_dir
from tests.support.promises import SERVICES, check_promises, run_disputes


def node_pidfile(node: int) -> Path:
    kafka = state_dir() / "kafka"  # node 1 keeps the single broker's folder (infra/scripts/common.sh)
    return (kafka if node == 1 else kafka / f"node-{node}") / "kafka.pid"


async def partitions(bootstrap: str, topic: str) -> dict[int, dict]:
    """Partition -> its leader and in-sync replicas, as the cluster says now."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
        return {p["partition"]: {"leader": p["leader"], "isr": sorted(p["isr"])} for p in described["partitions"]}
    finally:
        await admin.close()


def start_missing_nodes() -> None:
    instance_up(os.environ["AFTERSALE_INSTANCE"])  # what still runs is left running


async def test_a_broker_lost_mid_stream_loses_nothing(bus, system: System, dbs, infra) -> None:
    assert layout().replication_factor == 3 and layout().min_insync_replicas == 2
    pids = {name: p.popen.pid for name, p in system.procs.items() if p.popen}
    changelog = changelog_topic(f"aftersale-refund{system.procs['refund'].env['AFTERSALE_GROUP_SUFFIX']}")
    before = await partitions(infra.bootstrap, changelog)
    assert all(p["isr"] == [1, 2, 3] for p in before.values()), before
    victim = before[0]["leader"]  # the broker the refund service's partition 0 changelog is written to
    survivors = ",".join(a for i, a in enumerate(infra.bootstrap.split(","), 1) if i != victim)
    seen: dict[str, object] = {}

    async def chaos() -> None:
        await asyncio.sleep(3)
        await asyncio.to_thread(kill_and_wait, node_pidfile(victim), timeout_s=10)
        seen["killed_at"] = time.monotonic()
        while "moved" not in seen:  # the controller hands its partitions to the other replicas
            await asyncio.sleep(0.5)
            try:
                now = await partitions(survivors, changelog)
            except Exception as exc:  # noqa: BLE001 - asked again; a test failure names the last
                seen["error"] = repr(exc)
                continue
            if now[0]["leader"] not in (victim, -1):
                seen["moved"], seen["moved_after_s"] = now, round(time.monotonic() - seen["killed_at"], 1)
        await asyncio.sleep(2)  # the stream goes on with two brokers, then the third comes back
        seen["restart_began_after_s"] = round(time.monotonic() - seen["killed_at"], 1)
        restart.append(asyncio.get_running_loop().run_in_executor(None, start_missing_nodes))
        await asyncio.shield(restart[0])  # not cut short when the stream ends first
        seen["restarted_after_s"] = round(time.monotonic() - seen["killed_at"], 1)

    restart: list[asyncio.Future] = []
    try:
        driver, psp = await run_disputes(bus, chaos)
    finally:  # whatever happened, the next test has three brokers
        await (restart[0] if restart else asyncio.to_thread(start_missing_nodes))

    print(f"\n[cluster] broker {victim} killed; refund changelog {before} -> {seen}")
    assert "moved" in seen, f"the leadership of the changelog partition moved off the lost broker: {seen}"
    assert "restart_began_after_s" in seen, f"the broker was started again while the stream went on: {seen}"
    await check_promises(driver, psp, bus, dbs)
    for name in SERVICES:
        h = health(system.procs[name].port) or {}
        assert h.get("ready") and h.get("pid") == pids[name], f"{name} is ready again on its own: {h}"
    for _ in range(60):  # the restarted broker catches up and is a full replica again
        after = await partitions(infra.bootstrap, changelog)
        if all(p["isr"] == [1, 2, 3] for p in after.values()):
            break
        await asyncio.sleep(1)
    assert all(p["isr"] == [1, 2, 3] for p in after.values()), after
