"""The first step of every story: an order is paid, the buyer asks for a refund."""
from __future__ import annotations

from services.refund.queries import order_file
from sim.story import Market


async def test_paid_order_refund_request_becomes_refund_requested(market: Market, dbs) -> None:
    order = await market.paid_order(amount_fen=12900)
    command = await order.buyer_requests(kind="refund_only", reason="quality", amount_fen=5000)

    requested = await order.requested()

    assert requested["amount_fen"] == 5000
    assert requested["buyer_id"] == order.buyer and requested["seller_id"] == order.seller
    assert requested.env["causation_id"] == command["event_id"]
    assert requested.env["correlation_id"] == requested["refund_id"]
    stored = order_file(await dbs.aggregate("refund", order.id))
    assert stored["state"]["refunds"][requested["refund_id"]]["state"] == "requested"


async def test_refund_request_from_someone_else_is_rejected_and_changes_nothing(market: Market, dbs, bus) -> None:
    order = await market.paid_order()
    await order.buyer_requests(amount_fen=100)
    await order.requested()
    before = await dbs.version("refund", order.id)

    stranger = await order.buyer_requests(amount_fen=100, actor=("buyer", "B-stranger"))

    rejected = await order.rejection_of(stranger)
    assert rejected["code"] == "not_buyer"
    assert rejected["command_type"] == "refund.request"
    assert rejected.topic == "refund.events"
    assert await dbs.version("refund", order.id) == before


async def test_a_request_for_an_order_never_paid_is_refused_once_the_grace_is_over(market: Market, bus) -> None:
    from sim.story import Order, unique

    order = Order(bus, unique("O"), unique("B"), unique("S"), 5000)
    ask = await order.buyer_requests(amount_fen=5000)

    refused = await order.rejection_of(ask)
    assert refused["code"] == "unknown_order"
