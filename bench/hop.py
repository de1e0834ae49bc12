"""What one hop costs on this machine, measured in the same run as the disputes.

A hop is what a service's task does with a record that arrives alone: read it (`read_committed`,
the fetch returning at the first record), then one transaction with an event and a state record
(`KafkaTransactions`, the tasks' own producer port). A child process does only that, at a steady
light rate fed from here; its CPU and Kafka's, divided by the hops, are what every transaction a
dispute makes stands on, whatever the services do around it. A phase's transactions per dispute
times this is the part of its CPU per dispute no code inside a task can remove (docs/benchmarks.md).
"""
from __future__ import annotations

import asyncio
import signal
import sys
import time
import uuid
from typing import Any

import uvloop
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.cpu import OUTSIDE, CpuMeter
from bench.raw import make_topics
from runtime.service.settings import ServiceSettings
from runtime.stream.kafka import KafkaTransactions
from runtime.stream.records import OutRecord

PARTITIONS = 3
# The services' fetch wait when records come one at a time (AFTERSALE_FETCH_IDLE_WAIT_MS's default).
IDLE_WAIT_MS: int = ServiceSettings.model_fields["fetch_idle_wait_ms"].default


async def raw_hop(bootstrap: str, per_second: float = 50.0, seconds: float = 20.0,
                  warm_s: float = 5.0, quiet_s: float = 5.0) -> dict[str, Any]:
    """Feed `per_second` records to a hop process for `warm_s` (not counted), then `seconds`;
    return the hop process's CPU per hop, and Kafka's beyond what it spent in `quiet_s` before
    the feed (its own housekeeping, the hop process's held fetches)."""
    run = uuid.uuid4().hex[:6]
    t_in, t_out, t_state = f"bench.hop.in.{run}", f"bench.hop.out.{run}", f"bench.hop.state.{run}"
    await make_topics(bootstrap, [t_in, t_out, t_state], PARTITIONS)
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.hop", bootstrap, t_in, t_out, t_state,
        stdout=asyncio.subprocess.PIPE)
    assert child.stdout is not None
    feeder = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=0)
    fed = 0
    try:
        ready = await asyncio.wait_for(child.stdout.readline(), 60)
        if ready.strip() != b"ready":
            raise RuntimeError(f"the hop process did not start: {ready!r}")
        await feeder.start()
        meter = CpuMeter({"hop": child.pid})
        payload = b"x" * 700

        async def feed(n: int) -> None:
            nonlocal fed
            t0 = time.perf_counter()
            for i in range(n):
                await feeder.send_and_wait(t_in, payload, key=str(fed).encode())
                fed += 1
                await asyncio.sleep(max(0.0, t0 + (i + 1) / per_second - time.perf_counter()))

        await feed(int(per_second * warm_s))
        meter.start()
        await asyncio.sleep(quiet_s)
        quiet_elapsed, quiet = meter.used()
        counted = int(per_second * seconds)
        meter.start()
        await feed(counted)
        await asyncio.sleep(1.0)  # the last hops' transactions
        elapsed, used = meter.used()
    finally:
        await feeder.stop()
        if child.returncode is None:
            child.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(child.communicate(), 30)
    hops = int(out.split()[-1]) if out.split() else 0
    if hops != fed:
        raise RuntimeError(f"the hop process answered {hops} of {fed} records")
    kafka_quiet_cores = quiet.get("kafka", 0.0) / quiet_elapsed
    kafka_s = used.get("kafka", 0.0) - kafka_quiet_cores * elapsed
    return {"per_second": per_second, "hops": counted, "seconds": round(elapsed, 1),
            "client_ms_per_hop": round(1000 * used.get("hop", 0.0) / counted, 2),
            "kafka_ms_per_hop": round(1000 * kafka_s / counted, 2),
            "kafka_quiet_cores": round(kafka_quiet_cores, 3)}


def floors(phase: dict[str, Any], hop: dict[str, Any]) -> dict[str, float] | None:
    """Two parts of a phase's CPU per dispute that no change inside a task removes: its
    transactions at what one hop costs alone (client and Kafka, `bench/hop.py`), and the parts
    outside the services and Kafka (load generator, payment simulator, database)."""
    rate, txns = phase.get("disputes_per_second"), phase.get("transactions")
    if not rate or not txns:
        return None
    per_dispute = sum(t.get("per_dispute", 0.0) for t in txns.values())
    cores = phase["cpu_cores_busy"]
    return {"transactions": round(per_dispute, 2),
            "transactions_at_hop_cost": round(per_dispute * (hop["client_ms_per_hop"] + hop["kafka_ms_per_hop"]), 1),
            "outside": round(1000 * sum(cores.get(part, 0.0) for part in OUTSIDE) / rate, 1)}


async def _hop(bootstrap: str, t_in: str, t_out: str, t_state: str) -> int:
    """The child: answer every record of `t_in` with a transaction of an event and a state record."""
    consumer = AIOKafkaConsumer(t_in, bootstrap_servers=bootstrap, group_id=f"hop-{t_in}",
                                isolation_level="read_committed", enable_auto_commit=False,
                                auto_offset_reset="earliest", fetch_min_bytes=1, fetch_max_wait_ms=IDLE_WAIT_MS)
    txns = KafkaTransactions(bootstrap, f"hop-{t_in}", f"hop-{t_in}", {})
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await consumer.start()
    await txns.start()
    while not consumer.assignment():
        await consumer.getmany(timeout_ms=100)
    print("ready", flush=True)
    hops = 0
    while not stop.is_set():
        batch = await consumer.getmany(timeout_ms=200)
        for records in batch.values():
            for r in records:
                key = r.key or b""
                await txns.commit([OutRecord(t_out, key, r.value), OutRecord(t_state, key, r.value)], {})
                hops += 1
    await txns.stop()
    await consumer.stop()
    return hops


if __name__ == "__main__":
    print(uvloop.run(_hop(*sys.argv[1:5])), flush=True)
