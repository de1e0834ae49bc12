"""Two replicas of a service share its partitions; every deadline still fires exactly once, also
while the group rebalances, and a replica stopped gracefully finishes what it holds."""
from __future__ import annotations

import asyncio
import re

from ops.launcher import Proc
from sim.story import Market


async def test_two_seller_replicas_fire_each_deadline_once(market: Market, system, bus, log_dir) -> None:
    first = system.procs["seller"]
    env = {**first.env, "AFTERSALE_SELLER_HTTP_PORT": "18092", "AFTERSALE_INSTANCE_ID": "1"}
    second = Proc("seller-2", "services.seller", 18092, env, log_dir / "seller-2.log")
    orders = [await market.paid_order() for _ in range(12)]
    try:
        second.start()
        for o in orders[:6]:  # some requests while the group rebalances ...
            await o.buyer_requests()
        await asyncio.get_running_loop().run_in_executor(None, second.wait_ready, 60)
        for o in orders[6:]:  # ... and some once both replicas own partitions
            await o.buyer_requests()
        for o in orders:
            await o.expect("seller.timed_out", timeout=40)
        await asyncio.sleep(3)
        for o in orders:
            # Fired once: one decision, one event id. A replica taking a partition over may send
            # that same event again (at least once); every consumer dedupes on its id.
            ids = {s.event_id for s in bus.all("seller.timed_out", order_id=o.id)}
            assert len(ids) == 1, (o.id, ids)
        assert second.ready() and first.ready()
    finally:
        code = second.stop()  # SIGTERM: a graceful stop
    assert code == 0
    log = second.log_path.read_text()
    assert re.search(r'"inflight": 0, "event": "service_stopping"', log), "it finished what it held before stopping"
    assert '"event": "service_stopped"' in log
