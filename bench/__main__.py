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
import sys
import time
import uuid
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient

from bench.broker import BrokerRequests, per_dispute, per_second
from bench.metrics import transactions, view_lag, view_writes
from bench.hop import floors, raw_hop
from bench.raw import raw_db, raw_echo
from bench.report import print_report
from bench.workbench import workbench_pages
from bench.cpu import DRIVER, CpuMeter
from ops.launcher import System, health, make_system
from ops.topics import SERVICES
from runtime.stream.admin import internal_topics
from sim.bus import Bus
from sim.driver import Driver

ROOT = Path(__file__).resolve().parents[1]
MIX = [("approve", 0.7), ("return", 0.1), ("reject_escalate", 0.1), ("silent", 0.1)]
BENCH_DEADLINES = {
    "AFTERSALE_SELLER_TIMEOUT_S": "5", "AFTERSALE_EVIDENCE_WINDOW_S": "3", "AFTERSALE_RETURN_SHIP_S": "120",
    "AFTERSALE_RETURN_CONFIRM_S": "120", "AFTERSALE_ESCALATION_WINDOW_S": "120", "AFTERSALE_RACE_GRACE_S": "5", "AFTERSALE_APPEAL_WINDOW_S": "120",
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

    def first_of(type_: str) -> dict[str, float]:
        """Each dispute's first record of a type, by order."""
        first: dict[str, float] = {}
        for s in seen:
            if s.type == type_ and (order_id := s.data.get("order_id")) in expected:
                first[order_id] = min(first.get(order_id, s.timestamp), s.timestamp)
        return first

    def gap(cause_type: str, effect_type: str) -> list[float]:
        """Seconds from a dispute's first `cause_type` to its first `effect_type` (commands of the
        load generator carry no causation id, so disputes are matched by order)."""
        causes, effects = first_of(cause_type), first_of(effect_type)
        return [effects[o] - causes[o] for o in effects if o in causes and effects[o] >= causes[o]]

    ends = [d.finished - d.started for d in opened if d.finished]
    platform_events = sum(1 for s in seen if s.topic in PLATFORM_TOPICS)
    span = max(d.finished or finished for d in opened) - started
    return {
        "offered_per_second": rate, "offered_for_s": round(offered_for, 2), "disputes": count,
        "completed": count - len(failed), "failed": len(failed), "failed_examples": dict(list(failed.items())[:5]),
        "mix": dict(Counter(d.plan for d in opened)),
        # Per second of offered load (the last disputes' own durations are not the platform's pace).
        "disputes_per_second": round((count - len(failed)) / offered_for, 2),
        "platform_events": platform_events, "events_per_second": round(platform_events / offered_for, 1),
        "span_s": round(span, 1),
        "latency": {
            "refund.request -> refund.requested": summary(step("refund.requested", "refund.request")),
            "ruling.issued -> payout.request": summary(step("payout.request", "ruling.issued")),
            "seller.approved -> payout.request": summary(step("payout.request", "seller.approved")),
            "event -> message.sent": summary(step("message.sent")),
            "dispute end to end (approved)": summary([d.finished - d.started for d in opened
                                                      if d.finished and d.plan == "approve"]),
            "dispute end to end (all)": summary(ends),
            # Between the platform's steps, the load generator plays the seller: its own delay is
            # part of every dispute's end-to-end time, not of any step's.
            "load generator: refund.requested -> seller.approve": summary(gap("refund.requested", "seller.approve")),
            "seller.approve -> seller.approved": summary(gap("seller.approve", "seller.approved")),
            # The payment system is outside too: its answer, then the platform closing the refund.
            "payment system: payout.request -> payout.succeeded": summary(gap("payout.request", "payout.succeeded")),
            "payout.succeeded -> refund.completed": summary(gap("payout.succeeded", "refund.completed")),
        },
    }


async def restore_with(system: System, bootstrap: str, group: str, target: int) -> dict[str, Any]:
    """Fill the refund service's changelog up to `target` live aggregates (copies of one real
    aggregate under new order ids), restart the service, and time it until it says ready."""
    from runtime.stream.ownership import partition_of
    from runtime.stream.records import changelog_topic

    topic = changelog_topic(group)
    reader = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest",
                              isolation_level="read_committed")
    await reader.start()
    # The aggregate copied is the median-sized of the first few hundred: a run's figure should not
    # hang on whether it happened to copy a plain refund or a long dispute (155 MB against 258 MB).
    sample: list[Any] = []
    for _ in range(20):
        for recs in (await reader.getmany(timeout_ms=1000, max_records=500)).values():
            sample += [r for r in recs if r.value]
        if len(sample) >= 300:
            break
    await reader.stop()
    assert sample, f"nothing in {topic} to copy"
    template = sorted(sample, key=lambda r: len(r.value))[len(sample) // 2]
    before = health(system.procs["refund"].port) or {}
    have = int(before.get("aggregates", 0))
    old_key = template.key.decode()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=20,
                                max_batch_size=512 * 1024)
    await producer.start()
    futs = []
    for i in range(max(0, target - have)):
        key = f"O-restore-{i:07d}"
        futs.append(await producer.send(topic, template.value.replace(old_key.encode(), key.encode()),
                                        key=key.encode(), partition=partition_of(key)))
    await asyncio.gather(*futs)
    await producer.stop()
    refund = system.procs["refund"]
    t0 = time.perf_counter()
    system.restart("refund", kill=True, timeout=300)
    ready_s = time.perf_counter() - t0
    h = health(refund.port) or {}
    return {"aggregates": h.get("aggregates"), "seconds_to_ready_after_kill": round(ready_s, 2),
            "restore_seconds_per_task": h.get("restore_seconds"), "peak_rss_mb": peak_rss_mb(system)["refund"],
            "aggregate_bytes": len(template.value)}


async def run_phase(name: str, rate: float, args: argparse.Namespace, bootstrap: str,
                    after: Any = None) -> dict[str, Any]:
    """Start the platform, offer `rate` disputes/s (0: idle) for the phase, measure, stop."""
    run = uuid.uuid4().hex[:6]
    broker = BrokerRequests(int(port)) if (port := os.environ.get("AFTERSALE_KAFKA_JMX_PORT")) else None
    env = {**BENCH_DEADLINES, "AFTERSALE_DB_PREFIX": f"b{run}_", "AFTERSALE_GROUP_SUFFIX": f"-b{run}",
           "PAYSIM_GROUP": f"paysim-b{run}", "PAYSIM_OFFSET_RESET": "latest"}
    system = make_system(env, ROOT / ".run" / "bench-logs" / run, ["refund", "seller", "arbitration", "notify", "paysim"],
                         port_base=18181)
    system.start()
    try:
        what = f"offering {rate} disputes/s for {args.duration} s" if rate else f"idle for {args.idle_duration} s"
        print(f"[bench] {name}: {what} ...", file=sys.stderr)
        if not rate:  # idle: the platform started and ready, nobody asking anything
            await asyncio.sleep(args.idle_settle_s)
        cpu = CpuMeter({DRIVER: os.getpid(), **{n: p.popen.pid for n, p in system.procs.items() if p.popen}})
        requests_before = broker.read() if broker else {}
        cpu.start()
        if rate:
            result = {"phase": name, **await run_disputes(bootstrap, rate, args.duration, args.seed)}
        else:
            await asyncio.sleep(args.idle_duration)
            result = {"phase": name, "offered_per_second": 0, "offered_for_s": args.idle_duration, "disputes": 0,
                      "completed": 0, "failed": 0, "disputes_per_second": 0, "events_per_second": 0, "latency": {}}
        result["cpu_cores_busy"] = cpu.stop()
        busy = result["cpu_cores_busy"].pop("all")
        result["cpu_cores_busy_all"] = busy
        if broker:
            requests = broker.read()
            result["broker_requests"] = (per_dispute(requests_before, requests, result["disputes"]) if rate
                                         else per_second(requests_before, requests, result["cpu_cores_busy"]["seconds"]))
        if not rate:
            result["peak_rss_mb"] = peak_rss_mb(system)
            result["kept_up"] = None
            return result
        # Every part counted (the load generator too): what one dispute costs the machine.
        result["cpu_ms_per_dispute"] = round(1000 * busy / max(result["disputes_per_second"], 1e-9), 1)
        await asyncio.sleep(2)  # the views' last writes
        result["view_lag"] = view_lag(system)
        result["view_writes_per_dispute"] = view_writes(system, result["disputes"])
        result["transactions"] = transactions(system, result["disputes"])
        result["peak_rss_mb"] = peak_rss_mb(system)
        # Kept up: every dispute ended, no queue grew (a queue shows as seconds of latency on the
        # first step of every dispute), and the query models kept pace.
        first_step = result["latency"]["refund.request -> refund.requested"]["p99_ms"]
        views_p99 = [v["p99_s_at_most"] for v in result["view_lag"].values()]
        result["kept_up"] = (result["failed"] == 0 and first_step is not None and first_step <= args.max_p99_ms
                             and all(v is not None and v <= args.max_view_lag_s for v in views_p99))
        if after is not None:
            result["after"] = await after(system, f"aftersale-refund-b{run}")
        return result
    finally:
        system.stop()
        await forget_phase(bootstrap, os.environ["MONGO_URL"], run)


async def forget_phase(bootstrap: str, mongo_url: str, run: str) -> None:
    """Delete a finished phase's internal topics and databases: the next phase starts on a broker
    that does not carry (and compact) every earlier phase's state."""
    names = [t.name for s in SERVICES for t in internal_topics(f"aftersale-{s}-b{run}")]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        await admin.delete_topics(names)
    except Exception as exc:  # noqa: BLE001 - a leftover costs speed, not correctness
        print(f"[bench] could not delete the phase's topics: {exc!r}", file=sys.stderr)
    finally:
        await admin.close()
    client: AsyncMongoClient = AsyncMongoClient(mongo_url)
    for s in SERVICES:
        await client.drop_database(f"b{run}_{s}")
    await client.close()


async def bench(args: argparse.Namespace) -> int:
    bootstrap, mongo = os.environ["KAFKA_BOOTSTRAP"], os.environ["MONGO_URL"]
    report: dict[str, Any] = {"when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                              "machine": {"cores": os.cpu_count(), "memory_gb": round(os.sysconf("SC_PAGE_SIZE") *
                                          os.sysconf("SC_PHYS_PAGES") / 2**30, 1)},
                              "database": "FerretDB 1.24.2 (PostgreSQL)", "kafka": "4.1.1", "phases": []}
    print("[bench] measuring the raw limits ...", file=sys.stderr)
    report["raw"] = {"kafka_echo": await asyncio.wait_for(raw_echo(bootstrap), 240),
                     "kafka_echo_transactional": await asyncio.wait_for(raw_echo(bootstrap, transactional=True), 240),
                     "database": await asyncio.wait_for(raw_db(mongo), 240)}
    # A fresh broker spends its first minute compiling (the JIT took a core for much of it here):
    # a warm-up phase, reported and not counted, so the search measures the steady state.
    warm = await run_phase("warm-up (not counted)", args.warmup_rate, args, bootstrap)
    warm["kept_up"] = None
    report["phases"].append(warm)
    # One hop's CPU, on the warm broker: measured before the warm-up, Kafka's JIT tripled it.
    report["raw"]["hop"] = await asyncio.wait_for(raw_hop(bootstrap), 240)
    # What the platform costs when nobody asks anything, and at a light, steady load.
    report["phases"].append(await run_phase("idle", 0, args, bootstrap))
    light = await run_phase(f"light ({args.light_rate}/s)", args.light_rate, args, bootstrap)
    light["kept_up"] = None
    report["phases"].append(light)
    # The sustainable rate: raise the offered rate while the platform keeps up, then try between.
    best, rate, low_failed = 0.0, args.rate, None
    for i in range(args.max_phases):
        phase = await run_phase(f"search {i + 1}", rate, args, bootstrap)
        report["phases"].append(phase)
        if phase["kept_up"]:
            best = rate
            rate = round(rate * 1.5, 1) if low_failed is None else round((rate + low_failed) / 2, 1)
        else:
            low_failed = rate
            rate = round((best + rate) / 2, 1) if best else round(rate / 2, 1)
        if low_failed is not None and best and low_failed - best <= max(5.0, 0.1 * best):
            break
    report["sustainable_per_second"] = best
    half = max(1.0, round(best / 2, 1)) if best else max(1.0, round(args.rate / 4, 1))

    async def restore(system: System, group: str) -> dict[str, Any]:
        return await restore_with(system, bootstrap, group, args.restore_aggregates)

    report["phases"].append(await run_phase("half of sustainable", half, args, bootstrap, after=restore))
    report["restore"] = report["phases"][-1].pop("after")
    report["workbench"] = await workbench_pages(os.environ["MONGO_URL"], bootstrap, ROOT / ".run" / "bench-logs",
                                                args.workbench_cases, summary)
    failed = sum(p["failed"] for p in report["phases"] if p["kept_up"] or p is report["phases"][-1] or p is warm
                 or p is light)
    for p in report["phases"]:
        p["floor_ms_per_dispute"] = floors(p, report["raw"]["hop"])
    report["verdict"] = ("FAILED: disputes did not reach their end at a rate the platform kept up with" if failed
                         else "every dispute at a sustained rate reached its expected end")
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    stamp = report["when"].replace(":", "").replace("-", "")
    (out / f"{stamp}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    (out / "latest.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print_report(report)
    print(f"\n[bench] figures written to bench-results/{stamp}.json", file=sys.stderr)
    return 1 if failed else 0


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--rate", type=float, default=float(os.environ.get("BENCH_RATE", "40")),
                    help="the first offered rate of the search, disputes per second")
    ap.add_argument("--duration", type=float, default=float(os.environ.get("BENCH_DURATION", "60")),
                    help="seconds each rate is offered")
    ap.add_argument("--max-phases", type=int, default=7, help="rates tried in the search")
    ap.add_argument("--max-p99-ms", type=float, default=1000.0,
                    help="a rate is sustained when every dispute ends and request -> requested stays under this p99")
    ap.add_argument("--max-view-lag-s", type=float, default=5.0,
                    help="... and every query model's lag p99 stays under this (histogram bucket bound)")
    ap.add_argument("--warmup-rate", type=float, default=20.0, help="disputes/s of the uncounted warm-up phase")
    ap.add_argument("--idle-duration", type=float, default=60.0, help="seconds of the idle phase")
    ap.add_argument("--idle-settle-s", type=float, default=15.0,
                    help="seconds the idle phase lets the platform start before it measures")
    ap.add_argument("--light-rate", type=float, default=10.0, help="disputes/s of the light phase")
    ap.add_argument("--restore-aggregates", type=int, default=100_000,
                    help="live aggregates the refund service restores after a SIGKILL")
    ap.add_argument("--workbench-cases", type=int, default=100_000,
                    help="cases in the query model while the workbench's pages are timed")
    ap.add_argument("--seed", type=int, default=7)
    return asyncio.run(bench(ap.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
