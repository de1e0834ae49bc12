"""Two replicas of a service share its partitions. While the group rebalances, and while one
replica is frozen long enough to lose its partitions and then wakes up as a zombie, every
deadline still fires once and no event is committed twice: the zombie's transactions are fenced.
A replica stopped gracefully finishes what it holds."""
from __future__ import annotations

import asyncio
import os
import re
import signal
from collections import Counter

import pytest

from sim.story import Market

PORTS = {"refund": 18091, "seller": 18092, "arbitration": 18093, "notify": 18094}


def committed_once(bus, types: tuple[str, ...], orders: set[str]) -> None:
    # (the session's bus also holds the hostile-input test's messages, whose data may be anything)
    seen = [s for s in bus.seen if s.type in types and isinstance(s.data, dict) and s.data.get("order_id") in orders]
    counts = Counter(s.event_id for s in seen)
    twice = [(s.type, s.topic, s.partition, s.offset, s.env.get("causation_id")) for s in seen if counts[s.event_id] > 1]
    assert counts and not twice, twice


@pytest.mark.parametrize("service", ["refund", "seller", "arbitration", "notify"])
async def test_two_replicas_with_a_rebalance_in_the_middle(service: str, market: Market, system, bus) -> None:
    second = system.replica(service, 2, PORTS[service])
    orders = [await market.paid_order() for _ in range(8)]
    try:
        second.start()
        for o in orders[:4]:  # some requests while the group rebalances ...
            await o.buyer_requests()
        await asyncio.get_running_loop().run_in_executor(None, second.wait_ready, 60)
        for o in orders[4:]:  # ... and some once both replicas own partitions
            await o.buyer_requests()
        for o in orders:  # the seller stays silent: the deadline, the automatic ruling, the payout request
            await o.expect("seller.timed_out", timeout=40)
            await o.expect("payout.request", timeout=40)
            await o.expect("message.sent", template="seller_timed_out", timeout=40)
        await asyncio.sleep(2)
        ids = {o.id for o in orders}
        committed_once(bus, ("refund.requested", "seller.timed_out", "ruling.issued", "payout.request", "message.sent"), ids)
        assert second.ready() and system.procs[service].ready()
    finally:
        code = second.stop()  # SIGTERM: a graceful stop
    assert code == 0
    log = second.log_path.read_text()
    assert re.search(r'"inflight": 0, "event": "service_stopping"', log), "it finished what it held before stopping"
    assert '"event": "service_stopped"' in log


async def test_a_frozen_replica_wakes_up_fenced(market: Market, system, bus) -> None:
    second = system.replica("seller", 2, PORTS["seller"])
    second.start()
    await asyncio.get_running_loop().run_in_executor(None, second.wait_ready, 60)
    orders = [await market.paid_order() for _ in range(8)]
    try:
        assert second.popen is not None
        os.kill(second.popen.pid, signal.SIGSTOP)  # frozen past its session: the group gives its partitions away
        for o in orders:
            await o.buyer_requests()
        for o in orders:
            await o.expect("seller.timed_out", timeout=60)
        os.kill(second.popen.pid, signal.SIGCONT)  # the zombie wakes up holding batches it never committed
        await asyncio.sleep(8)
        committed_once(bus, ("seller.timed_out", "shop.credit_changed"), {o.id for o in orders})
    finally:
        os.kill(second.popen.pid, signal.SIGCONT)
        second.kill()
