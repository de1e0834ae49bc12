"""The machine's raw limits, measured in the same run as the disputes: an aiokafka consume-then-
produce echo through the same broker (plain, and transactional as the services work), and
single-document updates through the same database driver."""
from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo import AsyncMongoClient

async def make_topics(bootstrap: str, names: list[str], partitions: int) -> None:
    """Scratch topics of one replica, returned once every one of them has its partitions."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(n, partitions, 1) for n in names])
        for _ in range(100):  # creation is asynchronous: wait until every topic has partitions
            desc = await admin.describe_topics(names)
            if all(d.get("error_code", 0) == 0 and d.get("partitions") for d in desc):
                return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"topics {names} never got partitions")
    finally:
        await admin.close()


async def raw_echo(bootstrap: str, n: int = 5000, size: int = 700, transactional: bool = False) -> dict[str, Any]:
    """aiokafka consume-then-produce of same-sized messages through the same broker; with
    `transactional`, as the services do it: each batch and its offsets in one transaction, read
    back read_committed."""
    run = uuid.uuid4().hex[:6]
    t_in, t_out = f"bench.echo.in.{run}", f"bench.echo.out.{run}"
    await make_topics(bootstrap, [t_in, t_out], 6)
    payload = b"x" * size
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=2)
    echo_out = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=2,
                                transactional_id=f"echo-{run}" if transactional else None)
    isolation = "read_committed" if transactional else "read_uncommitted"
    echo_in = AIOKafkaConsumer(t_in, bootstrap_servers=bootstrap, group_id=f"echo-{run}", auto_offset_reset="earliest",
                               enable_auto_commit=not transactional, isolation_level=isolation)
    reader = AIOKafkaConsumer(t_out, bootstrap_servers=bootstrap, group_id=f"read-{run}", auto_offset_reset="earliest",
                              isolation_level=isolation)
    for c in (producer, echo_out, echo_in, reader):
        await c.start()

    async def echo() -> None:
        while True:
            batch = await echo_in.getmany(timeout_ms=100, max_records=500)
            if not batch:
                continue
            if transactional:
                async with echo_out.transaction():
                    for recs in batch.values():
                        for r in recs:
                            await echo_out.send(t_out, r.value, key=r.key)
                    await echo_out.send_offsets_to_transaction(
                        {tp: recs[-1].offset + 1 for tp, recs in batch.items()}, f"echo-{run}")
                continue
            futs = [await echo_out.send(t_out, r.value, key=r.key) for recs in batch.values() for r in recs]
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
