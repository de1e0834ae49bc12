"""The seller's 48-hour answer deadline (5 s here) is a durable timer: it fires once, even when
the seller service restarts while it is pending."""
from __future__ import annotations

from sim.story import Market


async def test_a_silent_seller_times_out_once_and_the_platform_takes_over(market: Market, live) -> None:
    order = await market.paid_order()
    await order.buyer_requests()
    requested = await order.requested()

    timed_out = await order.expect("seller.timed_out", timeout=20)

    assert timed_out["refund_id"] == order.refund_id
    assert timed_out.env["occurred_at"] >= requested["seller_due_at"][:19]
    await order.state("in_arbitration", awaiting="platform")
    await order.bus.expect_none("seller.timed_out", within=2, order_id=order.id, since=timed_out.index + 1)
    held = await live.aggregate("seller", order.id)  # the deadline that fired is no longer pending
    assert held["timers"] == {} and held["next_due_at"] is None


async def test_the_deadline_survives_a_seller_service_restart(market: Market, system) -> None:
    order = await market.paid_order()
    await order.buyer_requests()
    await order.requested()

    system.restart("seller")  # stopped and started again while the timer is pending

    timed_out = await order.expect("seller.timed_out", timeout=25)
    await order.bus.expect_none("seller.timed_out", within=3, order_id=order.id, since=timed_out.index + 1)


async def test_the_deadline_survives_a_crash_of_the_seller_service(market: Market, system) -> None:
    order = await market.paid_order()
    await order.buyer_requests()
    await order.requested()

    system.restart("seller", kill=True)  # SIGKILL: no graceful anything

    timed_out = await order.expect("seller.timed_out", timeout=25)
    await order.bus.expect_none("seller.timed_out", within=3, order_id=order.id, since=timed_out.index + 1)
