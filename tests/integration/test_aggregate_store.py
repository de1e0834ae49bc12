"""The aggregate store against the real database: what makes handlers idempotent and atomic."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import pytest_asyncio

from runtime.aggregate import AggregateStore, OutboxRecord, VersionConflict
from runtime.ownership import partition_of
from runtime.pipeline import now_ms


@pytest_asyncio.fixture
async def store(mongo):
    col = mongo[f"itest_{uuid.uuid4().hex[:8]}"]["aggregates"]
    s = AggregateStore(col, processed_window=3)
    await s.ensure_indexes()
    yield s
    await mongo.drop_database(col.database.name)


def rec(i: int) -> OutboxRecord:
    return OutboxRecord(id=f"e{i}", topic="refund.events", key="O1", value="{}", type="t")


async def test_first_write_creates_and_a_stale_version_conflicts(store):
    agg = await store.load("O1")
    await store.commit(agg, state={"n": 1}, processed_id="e1", outbox=[], timers=None, now=now_ms())
    with pytest.raises(VersionConflict):
        await store.commit(agg, state={"n": 2}, processed_id="e2", outbox=[], timers=None, now=now_ms())
    fresh = await store.load("O1")
    assert fresh.version == 1 and fresh.state == {"n": 1} and fresh.has_processed("e1")
    await store.commit(fresh, state={"n": 2}, processed_id="e2", outbox=[], timers=None, now=now_ms())
    assert (await store.load("O1")).state == {"n": 2}


async def test_processed_ids_are_remembered_in_a_bounded_window(store):
    for i in range(5):
        agg = await store.load("O1")
        await store.commit(agg, state={"n": i}, processed_id=f"e{i}", outbox=[], timers=None, now=now_ms())
    agg = await store.load("O1")
    assert agg.processed == ["e2", "e3", "e4"]


async def test_outbox_records_keep_their_order_and_are_cleared_after_publishing(store):
    agg = await store.load("O1")
    await store.commit(agg, state={}, processed_id="x1", outbox=[rec(1), rec(2)], timers=None, now=now_ms())
    agg = await store.load("O1")
    await store.commit(agg, state={}, processed_id="x2", outbox=[rec(3)], timers=None, now=now_ms())
    agg = await store.load("O1")
    assert [r.id for r in agg.outbox] == ["e1", "e2", "e3"]
    old = now_ms() + timedelta(seconds=1)
    mine = {partition_of("O1")}
    assert await store.stale_outbox_keys(old, mine) == ["O1"]
    assert await store.stale_outbox_keys(old, set(range(6)) - mine) == []  # another replica's business
    await store.clear_outbox("O1", ["e1", "e2"])
    assert [r.id for r in (await store.load("O1")).outbox] == ["e3"]
    await store.clear_outbox("O1", ["e3"])
    assert (await store.load("O1")).outbox == []
    assert await store.stale_outbox_keys(old, mine) == []


async def _due_now(store, key="O1", **timers):
    now = now_ms()
    agg = await store.load(key)
    await store.commit(agg, state={}, processed_id="x", outbox=[], timers=timers or {"t": now}, now=now)
    return now


async def test_due_timers_are_found_only_in_owned_partitions_and_claimed_once(store):
    now = await _due_now(store)
    mine = {partition_of("O1")}
    assert await store.due_keys(now, set(range(6)) - mine) == []
    assert await store.due_keys(now, mine) == ["O1"]
    first = await store.claim("O1", now, timedelta(seconds=30))
    assert first is not None and first.key == "O1"
    assert await store.claim("O1", now, timedelta(seconds=30)) is None
    assert await store.due_keys(now, mine) == []  # leased
    await store.release("O1")
    assert await store.claim("O1", now, timedelta(seconds=30)) is not None


async def test_a_lease_expires_so_a_crashed_taker_does_not_hold_a_timer_forever(store):
    now = await _due_now(store)
    assert await store.claim("O1", now, timedelta(seconds=1)) is not None
    assert await store.claim("O1", now, timedelta(seconds=1)) is None
    assert await store.claim("O1", now + timedelta(seconds=2), timedelta(seconds=1)) is not None


async def test_timers_not_yet_due_are_not_claimed(store):
    now = now_ms()
    agg = await store.load("O1")
    await store.commit(agg, state={}, processed_id="x", outbox=[], timers={"t": now + timedelta(hours=1)}, now=now)
    assert await store.due_keys(now, set(range(6))) == []
    assert await store.claim("O1", now, timedelta(seconds=30)) is None
    agg = await store.load("O1")
    await store.commit(agg, state={}, processed_id="y", outbox=[], timers={}, now=now)
    assert (await store.load("O1")).timers == {}
    assert await store.due_keys(now + timedelta(hours=2), set(range(6))) == []
