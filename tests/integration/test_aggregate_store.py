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


def fresh(store: AggregateStore) -> AggregateStore:
    """Another reader with nothing cached: what the database itself holds."""
    return AggregateStore(store.col, processed_window=store.window)


def rec(i: int) -> OutboxRecord:
    return OutboxRecord(id=f"e{i}", topic="refund.events", key="O1", value="{}", type="t")


async def test_first_write_creates_and_a_stale_version_conflicts(store):
    agg = await store.load("O1")
    await store.commit(agg, state={"n": 1}, processed_id="e1", outbox=[], timers=None, now=now_ms())
    with pytest.raises(VersionConflict):
        await store.commit(agg, state={"n": 2}, processed_id="e2", outbox=[], timers=None, now=now_ms())
    current = await store.load("O1")
    assert current.version == 1 and current.state == {"n": 1} and current.has_processed("e1")
    await store.commit(current, state={"n": 2}, processed_id="e2", outbox=[], timers=None, now=now_ms())
    assert (await store.load("O1")).state == {"n": 2}
    assert (await fresh(store).load("O1")).state == {"n": 2}


async def test_a_stale_cached_copy_is_caught_by_the_version_and_read_again(store):
    agg = await store.load("O1")
    await store.commit(agg, state={"n": 1}, processed_id="e1", outbox=[], timers=None, now=now_ms())
    other = fresh(store)  # someone else (a previous owner) writes meanwhile
    await other.commit(await other.load("O1"), state={"n": 9}, processed_id="x", outbox=[], timers=None, now=now_ms())
    with pytest.raises(VersionConflict):
        await store.commit(await store.load("O1"), state={"n": 2}, processed_id="e2", outbox=[], timers=None, now=now_ms())
    assert (await store.load("O1")).state == {"n": 9}


async def test_processed_ids_are_remembered_in_a_bounded_window(store):
    for i in range(5):
        agg = await store.load("O1")
        await store.commit(agg, state={"n": i}, processed_id=f"e{i}", outbox=[], timers=None, now=now_ms())
    assert (await store.load("O1")).processed == ["e2", "e3", "e4"]
    assert (await fresh(store).load("O1")).processed == ["e2", "e3", "e4"]


async def test_outbox_records_keep_their_order_and_published_ones_leave_with_the_next_write(store):
    agg = await store.load("O1")
    await store.commit(agg, state={}, processed_id="x1", outbox=[rec(1), rec(2)], timers=None, now=now_ms())
    agg = await store.load("O1")
    await store.commit(agg, state={}, processed_id="x2", outbox=[rec(3)], timers=None, now=now_ms())
    assert [r.id for r in (await fresh(store).load("O1")).outbox] == ["e1", "e2", "e3"]
    store.mark_published("O1", ["e1", "e2"])
    assert [r.id for r in (await store.load("O1")).unpublished] == ["e3"]
    await store.commit(await store.load("O1"), state={}, processed_id="x3", outbox=[rec(4)], timers=None, now=now_ms())
    assert [r.id for r in (await fresh(store).load("O1")).outbox] == ["e3", "e4"]


async def test_outboxes_left_waiting_are_known_from_memory_and_from_a_rescan(store):
    agg = await store.load("O1")
    now = now_ms()
    await store.commit(agg, state={}, processed_id="x1", outbox=[rec(1)], timers=None, now=now)
    later = now + timedelta(seconds=1)
    assert store.waiting_outboxes(later) == ["O1"]
    mine = {partition_of("O1")}
    successor = fresh(store)  # a process taking the partition over after a crash
    await successor.rescan(set(range(6)) - mine, later)
    assert successor.waiting_outboxes(later) == []  # another replica's business
    await successor.rescan(mine, later)
    assert successor.waiting_outboxes(later) == ["O1"]
    assert [r.id for r in (await successor.load("O1")).unpublished] == ["e1"]  # it never knew it was sent
    await store.clear_outbox("O1", ["e1"])
    assert store.waiting_outboxes(later) == []
    assert (await fresh(store).load("O1")).outbox == []
    again = fresh(store)
    await again.rescan(mine, later)
    assert again.waiting_outboxes(later) == []


async def _due_now(store, key="O1", **timers):
    now = now_ms()
    agg = await store.load(key)
    await store.commit(agg, state={}, processed_id="x", outbox=[], timers=timers or {"t": now}, now=now)
    return now


async def test_due_timers_are_known_to_their_owner_and_claimed_once(store):
    now = await _due_now(store)
    assert store.due_now(now) == ["O1"]
    mine = {partition_of("O1")}
    successor = fresh(store)
    await successor.rescan(set(range(6)) - mine, now + timedelta(minutes=10))
    assert successor.due_now(now) == []
    await successor.rescan(mine, now + timedelta(minutes=10))
    assert successor.due_now(now) == ["O1"]
    first = await store.claim("O1", now, timedelta(seconds=30))
    assert first is not None and first.key == "O1"
    assert await store.claim("O1", now, timedelta(seconds=30)) is None  # leased
    await store.release("O1")
    assert await store.claim("O1", now, timedelta(seconds=30)) is not None


async def test_a_lease_expires_so_a_crashed_taker_does_not_hold_a_timer_forever(store):
    now = await _due_now(store)
    assert await store.claim("O1", now, timedelta(seconds=1)) is not None
    assert await store.claim("O1", now, timedelta(seconds=1)) is None
    assert await store.claim("O1", now + timedelta(seconds=2), timedelta(seconds=1)) is not None


async def test_timers_beyond_the_horizon_wait_for_a_rescan_and_cleared_timers_are_forgotten(store):
    now = now_ms()
    agg = await store.load("O1")
    await store.commit(agg, state={}, processed_id="x", outbox=[], timers={"t": now + timedelta(hours=1)}, now=now)
    assert store.due == {} and await store.claim("O1", now, timedelta(seconds=30)) is None
    await store.rescan({partition_of("O1")}, now + timedelta(hours=2))
    assert store.due_now(now + timedelta(hours=1)) == ["O1"]
    agg = await store.load("O1")
    await store.commit(agg, state={}, processed_id="y", outbox=[], timers={}, now=now)
    assert store.due == {} and (await fresh(store).load("O1")).timers == {}
