"""`make bench`: the machine's raw limits, then whole disputes through the real services.

Prints figures and writes them as JSON (bench-results/). A run in which any dispute does not reach
its expected end reports failure, not a speed.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo import AsyncMongoClient

from ops.launcher import System, make_system
from sim.bus import Bus
from sim.driver import Driver

ROOT = Path(__file__).resolve().parents[1]
MIX = [("approve", 0.7), ("return", 0.1), ("reject_escalate", 0.1), ("silent", 0.1)]
BENCH_DEADLINES = {
    "AFTERSALE_SELLER_RESPONSE_S": "5", "AFTERSALE_EVIDENCE_WINDOW_S": "3", "AFTERSALE_RETURN_SHIP_S": "120",
    "AFTERSALE_RETURN_CONFIRM_S": "120", "AFTERSALE_ESCALATION_WINDOW_S": "120", "AFTERSALE_APPEAL_WINDOW_S": "120",
    "AFTERSALE_REMINDER_LEAD_S": "1", "AFTERSALE_TIMER_TICK_S": "0.2", "AFTERSALE_LOG_LEVEL": "WARNING",
    "PAYSIM_DELAY_S": "0", "AFTERSALE_OFFSET_RESET": "latest",
}
PLATFORM_TOPICS = {"refund.events", "seller.events", "arbitration.events", "notify.events", "payments.commands"}


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def summary(values_s: list[float]) -> dict[str, Any]:
    ms = [v * 1000 for v in values_s]
    return {"n": len(ms), "p50_ms": pct(ms, 50), "p95_ms": pct(ms, 95), "p99_ms": pct(ms, 99),
            "max_ms": max(ms) if ms else None}


# ---- raw limits ------------------------------------------------------------------------------------


async def raw_echo(bootstrap: str, n: int = 5000, size: int = 700) -> dict[str, Any]:
    """aiokafka consume-then-produce of same-sized messages through the same broker."""
    run = uuid.uuid4().hex[:6]
    t_in, t_out = f"bench.echo.in.{run}", f"bench.echo.out.{run}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(t_in, 6, 1), NewTopic(t_out, 6, 1)])
    for _ in range(100):  # creation is asynchronous: wait until both topics have partitions
        desc = await admin.describe_topics([t_in, t_out])
        if all(d.get("error_code", 0) == 0 and d.get("partitions") for d in desc):
            break
        await asyncio.sleep(0.2)
    await admin.close()
    payload = b"x" * size
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=2)
    echo_out = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=2)
    echo_in = AIOKafkaConsumer(t_in, bootstrap_servers=bootstrap, group_id=f"echo-{run}", auto_offset_reset="earliest")
    reader = AIOKafkaConsumer(t_out, bootstrap_servers=bootstrap, group_id=f"read-{run}", auto_offset_reset="earliest")
    for c in (producer, echo_out, echo_in, reader):
        await c.start()

    async def echo() -> None:
        while True:
            batch = await echo_in.getmany(timeout_ms=100, max_records=500)
            futs = [await echo_out.send(t_out, r.value, key=r.key) for recs in batch.values() for r in recs]
            if futs:
                await asyncio.gather(*futs)
                await echo_in.commit()

    echo_task = asyncio.create_task(echo())
    for _ in range(300):  # a fresh broker needs a moment before groups can form
        if echo_in.assignment() and reader.assignment():
            break
        await reader.getmany(timeout_ms=100)
    else:
        raise RuntimeError("the echo consumers were never assigned partitions")
    start = time.perf_counter()
    futs = [await producer.send(t_in, payload, key=str(i).encode()) for i in range(n)]
    await asyncio.gather(*futs)
    got = 0
    deadline = time.perf_counter() + 120
    while got < n:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"the echo returned {got} of {n} messages in 120 s")
        batch = await reader.getmany(timeout_ms=500)
        got += sum(len(v) for v in batch.values())
    elapsed = time.perf_counter() - start
    echo_task.cancel()
    for c in (producer, echo_out, echo_in, reader):
        await c.stop()
    return {"messages": n, "bytes": size, "seconds": round(elapsed, 2), "per_second": round(n / elapsed, 1)}


async def raw_db(mongo_url: str, n: int = 600) -> dict[str, Any]:
    """Single-document updates through the same driver: one at a time, and 64 at once."""
    c: AsyncMongoClient = AsyncMongoClient(mongo_url, maxPoolSize=100)
    col = c[f"bench_raw_{uuid.uuid4().hex[:6]}"]["docs"]
    await col.insert_many([{"_id": f"d{i}", "v": 0, "state": {"pad": "x" * 800}} for i in range(200)])
    t0 = time.perf_counter()
    for i in range(n):
        await col.update_one({"_id": "d0"}, {"$set": {"v": i}})
    sequential = n / (time.perf_counter() - t0)
    sem = asyncio.Semaphore(64)

    async def one(i: int) -> None:
        async with sem:
            await col.update_one({"_id": f"d{i % 200}"}, {"$set": {"v": i}})

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n * 2)))
    concurrent = n * 2 / (time.perf_counter() - t0)
    await c.drop_database(col.database.name)
    await c.close()
    return {"sequential_updates_per_second": round(sequential, 1), "concurrent_updates_per_second": round(concurrent, 1)}


# ---- disputes ------------------------------------------------------------------------------------


def peak_rss_mb(system: System) -> dict[str, float]:
    out = {}
    for name, p in system.procs.items():
        try:
            status = Path(f"/proc/{p.popen.pid}/status").read_text()  # type: ignore[union-attr]
            kb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
            out[name] = round(kb / 1024, 1)
        except (OSError, StopIteration, AttributeError):
            out[name] = float("nan")
    return out


async def run_disputes(bootstrap: str, rate: float, duration: float, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    bus = Bus(bootstrap)
    await bus.start()
    driver = Driver(bus)
    await driver.start()
    mark = bus.mark
    plans = [p for p, w in MIX for _ in range(int(w * 100))]
    count = max(1, int(rate * duration))
    started = time.perf_counter()
    disputes = []
    for i in range(count):  # open-loop: the offered rate does not wait for the system
        target = started + i / rate
        if (delay := target - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        disputes.append(asyncio.create_task(driver.open(rng.choice(plans), amount_fen=rng.randint(100, 50000))))
    opened = [await t for t in disputes]
    offered_for = time.perf_counter() - started
    timeout = 120 + duration
    done, pending = await asyncio.wait([asyncio.create_task(d.done.wait()) for d in opened], timeout=timeout)
    finished = time.perf_counter()
    await asyncio.sleep(2)  # messages about the last disputes
    await driver.stop()
    seen = bus.seen[mark:]
    await bus.stop()

    expected = {d.order.id: d for d in opened}
    failed = {o: (d.plan, d.closed_why) for o, d in expected.items() if d.closed_why != "completed"}
    by_event = {s.event_id: s for s in seen if s.env}

    def step(effect_type: str, cause_type: str | None = None) -> list[float]:
        """Seconds from each cause to its effect (any cause when `cause_type` is None)."""
        out = []
        for s in seen:
            if s.type == effect_type and s.data.get("order_id") in expected:
                cause = by_event.get(s.env.get("causation_id")) if s.env else None
                if cause is not None and cause_type in (None, cause.type):
                    out.append(s.timestamp - cause.timestamp)
        return out

    ends = [d.finished - d.started for d in opened if d.finished]
    platform_events = sum(1 for s in seen if s.topic in PLATFORM_TOPICS)
    span = max(d.finished or finished for d in opened) - started
    return {
        "offered_per_second": rate, "offered_for_s": round(offered_for, 2), "disputes": count,
        "completed": count - len(failed), "failed": len(failed), "failed_examples": dict(list(failed.items())[:5]),
        "mix": dict(Counter(d.plan for d in opened)),
        "disputes_per_second": round((count - len(failed)) / span, 2),
        "platform_events": platform_events, "events_per_second": round(platform_events / span, 1),
        "latency": {
            "refund.request -> refund.requested": summary(step("refund.requested", "refund.request")),
            "ruling.issued -> payout.request": summary(step("payout.request", "ruling.issued")),
            "seller.approved -> payout.request": summary(step("payout.request", "seller.approved")),
            "event -> message.sent": summary(step("message.sent")),
            "dispute end to end (approved)": summary([d.finished - d.started for d in opened
                                                      if d.finished and d.plan == "approve"]),
            "dispute end to end (all)": summary(ends),
        },
    }


def print_report(r: dict[str, Any]) -> None:
    echo, db = r["raw"]["kafka_echo"], r["raw"]["database"]
    print("\n=== raw limits of this machine ===")
    print(f"kafka consume-then-produce echo: {echo['per_second']} msg/s ({echo['bytes']} B messages)")
    print(f"database single-document updates: {db['sequential_updates_per_second']}/s one at a time, "
          f"{db['concurrent_updates_per_second']}/s 64 at once")
    for phase in ("saturation", "half_load"):
        p = r[phase]
        print(f"\n=== {phase.replace('_', ' ')}: offered {p['offered_per_second']} disputes/s for {p['offered_for_s']} s ===")
        print(f"disputes: {p['completed']}/{p['disputes']} completed ({p['mix']})")
        print(f"throughput: {p['disputes_per_second']} disputes/s, {p['events_per_second']} platform events/s "
              f"({p['events_per_second'] / echo['per_second']:.2%} of the raw echo)")
        for name, s in p["latency"].items():
            if s["n"]:
                print(f"  {name:<36} p50 {s['p50_ms']:8.1f} ms  p95 {s['p95_ms']:8.1f} ms  p99 {s['p99_ms']:8.1f} ms  (n={s['n']})")
        print(f"  peak resident memory (MB): {p['peak_rss_mb']}")
    print(f"\nverdict: {r['verdict']}")


async def bench(args: argparse.Namespace) -> int:
    bootstrap, mongo = os.environ["KAFKA_BOOTSTRAP"], os.environ["MONGO_URL"]
    report: dict[str, Any] = {"when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                              "machine": {"cores": os.cpu_count(), "memory_gb": round(os.sysconf("SC_PAGE_SIZE") *
                                          os.sysconf("SC_PHYS_PAGES") / 2**30, 1)},
                              "database": "FerretDB 1.24.2 (SQLite)", "kafka": "4.1.1"}
    print("[bench] measuring the raw limits ...", file=sys.stderr)
    report["raw"] = {"kafka_echo": await asyncio.wait_for(raw_echo(bootstrap), 240),
                     "database": await asyncio.wait_for(raw_db(mongo), 240)}
    logs = ROOT / ".run" / "bench-logs"
    for phase, rate in (("saturation", args.rate), ("half_load", None)):
        run = uuid.uuid4().hex[:6]
        env = {**BENCH_DEADLINES, "AFTERSALE_DB_PREFIX": f"b{run}_", "AFTERSALE_GROUP_SUFFIX": f"-b{run}",
               "PAYSIM_GROUP": f"paysim-b{run}", "PAYSIM_OFFSET_RESET": "latest"}
        system = make_system(env, logs / run, ["refund", "seller", "arbitration", "notify", "paysim"], port_base=18181)
        system.start()
        try:
            if rate is None:  # half of what the saturation phase sustained
                rate = max(1.0, round(report["saturation"]["disputes_per_second"] / 2, 2))
            print(f"[bench] {phase}: offering {rate} disputes/s for {args.duration} s ...", file=sys.stderr)
            result = await run_disputes(bootstrap, rate, args.duration, args.seed)
            result["peak_rss_mb"] = peak_rss_mb(system)
            report[phase] = result
        finally:
            system.stop()
    failed = report["saturation"]["failed"] + report["half_load"]["failed"]
    report["verdict"] = "FAILED: disputes did not reach their end" if failed else "all disputes reached their expected end"
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    stamp = report["when"].replace(":", "").replace("-", "")
    (out / f"{stamp}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    (out / "latest.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print_report(report)
    print(f"\n[bench] figures written to bench-results/{stamp}.json", file=sys.stderr)
    return 1 if failed else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rate", type=float, default=float(os.environ.get("BENCH_RATE", "30")),
                    help="offered disputes per second in the saturation phase")
    ap.add_argument("--duration", type=float, default=float(os.environ.get("BENCH_DURATION", "30")))
    ap.add_argument("--seed", type=int, default=7)
    return asyncio.run(bench(ap.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
